// Users imported with the password hashes of the systems they come from
// (issue 16) log in through the unmodified authing-js-sdk with their
// original passwords; the first login replaces the hash with argon2id
// and the password keeps working.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { newClient, unique, expectCode, importUsers } = require('../lib/helpers');
const C = require('../lib/codes');

// One vector per format, with its password (internal/password's tests
// name their sources: the OpenBSD bcrypt vectors, Django's and
// Firebase's documented examples, Keycloak's credential JSON, passlib).
const VECTORS = [
  { name: 'bcrypt', hash: '$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga', password: 'allmine' },
  { name: 'django', hash: 'pbkdf2_sha1$10000$oldsalt$6YdXD3hvcWW9Y3rFz/AGU683qPM=', password: 'hunter2' },
  { name: 'firebase', hash: '$firebase-scrypt$rounds=8,mem=14$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==', password: 'user1password' },
  { name: 'keycloak', hash: '{"type":"password","secretData":"{\\"value\\":\\"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==\\",\\"salt\\":\\"AAECAwQFBgcICQoLDA0ODw==\\"}","credentialData":"{\\"hashIterations\\":27500,\\"algorithm\\":\\"pbkdf2-sha256\\"}"}', password: 'Keycloak-Pass1' },
  { name: 'md5', hash: '{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}', password: 'password' },
];

test('imported users log in with their original passwords', async () => {
  const source = unique('src').toLowerCase().slice(0, 30);
  const users = VECTORS.map((v) => ({ ...v, email: `${unique(v.name)}@example.com`.toLowerCase() }));
  const res = await importUsers(source, users.map((u) => ({ externalId: u.name, email: u.email, emailVerified: true, passwordHash: u.hash })));
  assert.equal(res.summary.imported, users.length, JSON.stringify(res));
  for (const u of users) {
    const c = newClient();
    await expectCode(() => c.loginByEmail(u.email, `${u.password}!`), C.WRONG_PASSWORD);
    const li = await c.loginByEmail(u.email, u.password);
    assert.ok(li.token, `${u.name}: no token`);
    assert.equal(li.email, u.email);
    // Rehashed at that login: the same password still logs in.
    const again = await newClient().loginByEmail(u.email, u.password);
    assert.equal(again.id, li.id);
  }
  // Importing again updates the same users; the logins' argon2id hashes stay.
  const rerun = await importUsers(source, users.map((u) => ({ externalId: u.name, email: u.email, passwordHash: u.hash })));
  assert.equal(rerun.summary.updated, users.length);
  assert.equal(rerun.summary.imported, 0);
  for (const u of users) {
    await newClient().loginByEmail(u.email, u.password);
  }
});
