// Email and username accounts, tokens and sessions, driven through the
// unmodified authing-js-sdk against a real authpool server.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  newClient, unique, uniqueEmail, expectCode, advanceClock, setPoolSettings, decodeJwt,
} = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

test('registerByEmail: creates the user, no token unless asked', async () => {
  const c = newClient();
  const email = uniqueEmail();
  const u = await c.registerByEmail(email, PASSWORD, { nickname: 'Ada', company: 'ACME' });
  assert.equal(u.email, email);
  assert.equal(u.nickname, 'Ada');
  assert.equal(u.company, 'ACME');
  assert.equal(u.emailVerified, false);
  assert.equal(u.password, null);
  assert.equal(u.token, null);
  assert.equal(u.arn, `arn:cn:authing:${u.userPoolId}:user:${u.id}`);
  assert.equal(await c.tokenProvider.getToken(), null);

  await expectCode(() => c.registerByEmail(email.toUpperCase(), PASSWORD), C.USER_EXISTS);
  await expectCode(() => c.registerByEmail(uniqueEmail(), 'short'), C.PASSWORD_TOO_WEAK);

  // forceLogin: a full login, the SDK keeps the token.
  const f = await c.registerByEmail(uniqueEmail(), PASSWORD, {}, { forceLogin: true });
  assert.ok(f.token);
  assert.equal(f.loginsCount, 1);
  assert.equal(await c.tokenProvider.getToken(), f.token);
  // generateToken: a token with no login side effects.
  const g = await c.registerByEmail(uniqueEmail(), PASSWORD, {}, { generateToken: true });
  assert.ok(g.token);
  assert.equal(g.loginsCount, 0);
});

test('registerByUsername: creates the user; a taken username is refused', async () => {
  const c = newClient();
  const name = unique('user');
  const u = await c.registerByUsername(name, PASSWORD, { nickname: 'Bob' });
  assert.equal(u.username, name);
  assert.equal(u.nickname, 'Bob');
  assert.equal(u.token, null);
  await expectCode(() => c.registerByUsername(name, PASSWORD), C.USERNAME_TAKEN);
});

test('loginByEmail: a JWT with sub and data.id; wrong password and unknown user are coded', async () => {
  const c = newClient();
  const email = uniqueEmail();
  const reg = await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  assert.equal(u.id, reg.id);
  assert.ok(u.token);
  assert.equal(u.loginsCount, 1);
  assert.deepEqual(u.customData, {});
  const claims = decodeJwt(u.token);
  assert.equal(claims.sub, u.id);
  assert.equal(claims.data.id, u.id);
  assert.equal(await c.tokenProvider.getToken(), u.token);

  await expectCode(() => c.loginByEmail(email, 'wrong-password'), C.WRONG_PASSWORD);
  await expectCode(() => c.loginByEmail(uniqueEmail(), PASSWORD), C.USER_NOT_FOUND);

  // autoRegister creates a missing account.
  const auto = await c.loginByEmail(uniqueEmail(), PASSWORD, { autoRegister: true });
  assert.equal(auto.newlyCreated, true);
  assert.ok(auto.token);
});

test('loginByUsername: logs in; wrong password is coded', async () => {
  const c = newClient();
  const name = unique('user');
  await c.registerByUsername(name, PASSWORD);
  const u = await c.loginByUsername(name, PASSWORD);
  assert.equal(u.username, name);
  assert.ok(u.token);
  await expectCode(() => c.loginByUsername(name, 'wrong-password'), C.WRONG_PASSWORD);
  await expectCode(() => c.loginByUsername(unique('nobody'), PASSWORD), C.USER_NOT_FOUND);
});

test('a stale token the SDK holds does not stop login or registration', async () => {
  const c = newClient();
  c.setToken('stale.not-a.token');
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  assert.ok(u.token);
});

test('checkLoginStatus: valid, not logged in, invalid, expired', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);

  const ok = await c.checkLoginStatus();
  assert.equal(ok.code, 200);
  assert.equal(ok.status, true);
  assert.equal(ok.data.id, u.id);
  assert.equal(ok.data.userPoolId, u.userPoolId);
  assert.ok(ok.exp > ok.iat);
  assert.equal((await newClient().checkLoginStatus(u.token)).status, true);

  const none = await newClient().checkLoginStatus();
  assert.equal(none.status, false);
  assert.equal(none.code, C.NOT_LOGGED_IN);
  const bad = await c.checkLoginStatus('not.a.token');
  assert.equal(bad.status, false);
  assert.equal(bad.code, C.TOKEN_INVALID);

  // 16 days later (tokens live 15): expired.
  const other = newClient();
  const email2 = uniqueEmail();
  await other.registerByEmail(email2, PASSWORD);
  const v = await other.loginByEmail(email2, PASSWORD);
  await advanceClock(16 * 24 * 3600);
  const expired = await newClient().checkLoginStatus(v.token);
  assert.equal(expired.status, false);
  assert.equal(expired.code, C.TOKEN_EXPIRED);
  await expectCode(() => other.updateProfile({ nickname: 'late' }), C.TOKEN_EXPIRED);
  assert.equal(await other.getCurrentUser(), null);
});

test('getCurrentUser: the user with the same token; null when logged out', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD, { nickname: 'Cy' });
  const u = await c.loginByEmail(email, PASSWORD);
  const me = await c.getCurrentUser();
  assert.equal(me.id, u.id);
  assert.equal(me.nickname, 'Cy');
  assert.equal(me.token, u.token);
  assert.deepEqual(me.identities, []);
  assert.equal(await c.tokenProvider.getToken(), u.token);
  assert.equal(await newClient().getCurrentUser(), null);
});

test('updateProfile: changes the profile and keeps the session; email, phone and ids are refused', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  const up = await c.updateProfile({ nickname: 'Dee', city: 'Lyon', gender: 'F' });
  assert.equal(up.nickname, 'Dee');
  assert.equal(up.city, 'Lyon');
  assert.equal(up.gender, 'F');
  assert.equal(up.token, u.token);
  assert.equal((await c.getCurrentUser()).nickname, 'Dee');

  await expectCode(() => c.updateProfile({ email: uniqueEmail() }), C.CANNOT_UPDATE_EMAIL);
  await expectCode(() => c.updateProfile({ phone: '+15550100' }), C.CANNOT_UPDATE_PHONE);
  await expectCode(() => c.updateProfile({ unionid: 'x' }), C.INVALID_ARGUMENT);
  await expectCode(() => c.updateProfile({ openid: 'x' }), C.INVALID_ARGUMENT);
  await expectCode(() => c.updateProfile({ gender: 'X' }), C.INVALID_ARGUMENT);
  // Still logged in after the refusals.
  assert.equal((await c.getCurrentUser()).id, u.id);
});

test('updatePassword: needs the old password, keeps the session, ends the others', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  const elsewhere = newClient();
  await elsewhere.loginByEmail(email, PASSWORD);

  await expectCode(() => c.updatePassword('n3w-passw0rd', 'wrong-old'), C.WRONG_OLD_PASSWORD);
  const res = await c.updatePassword('n3w-passw0rd', PASSWORD);
  assert.equal(res.id, u.id);
  assert.equal((await c.getCurrentUser()).id, u.id, 'the caller stays logged in');
  assert.equal(await elsewhere.getCurrentUser(), null, 'other sessions end');

  await expectCode(() => newClient().loginByEmail(email, PASSWORD), C.WRONG_PASSWORD);
  assert.ok((await newClient().loginByEmail(email, 'n3w-passw0rd')).token);
  await expectCode(() => newClient().updatePassword('n3w-passw0rd', PASSWORD), C.NOT_LOGGED_IN);
});

test('refreshToken: a new token the SDK keeps', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  await advanceClock(60);
  const r = await c.refreshToken();
  assert.ok(r.token);
  assert.notEqual(r.token, u.token);
  assert.ok(r.exp > decodeJwt(u.token).exp);
  assert.equal(await c.tokenProvider.getToken(), r.token);
  assert.equal((await c.getCurrentUser()).id, u.id);
  await expectCode(() => newClient().refreshToken(), C.NOT_LOGGED_IN);
});

test('logout: ends the session; the old token is invalid', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  await c.logout();
  assert.equal(await c.tokenProvider.getToken(), null);
  assert.equal(await c.getCurrentUser(), null);
  const st = await newClient().checkLoginStatus(u.token);
  assert.equal(st.status, false);
  assert.equal(st.code, C.TOKEN_INVALID);
  const stale = newClient();
  stale.setToken(u.token);
  await expectCode(() => stale.updateProfile({ nickname: 'x' }), C.TOKEN_INVALID);
  // Logging out again (stale token) succeeds, so the SDK forgets it.
  await stale.logout();
  assert.equal(await stale.tokenProvider.getToken(), null);
});

test('passwords travel RSA-encrypted; plaintext only when the pool allows it', async () => {
  const email = uniqueEmail();
  await newClient().registerByEmail(email, PASSWORD);
  const plain = newClient({ encryptFunction: async (p) => p });
  await expectCode(() => plain.loginByEmail(email, PASSWORD), C.DECRYPT_FAILED);
  await setPoolSettings({ allowPlaintextPassword: true });
  try {
    assert.ok((await plain.loginByEmail(email, PASSWORD)).token);
  } finally {
    await setPoolSettings({ allowPlaintextPassword: false });
  }
  await expectCode(() => plain.loginByEmail(email, PASSWORD), C.DECRYPT_FAILED);
});

test('messages follow the lang option', async () => {
  const en = newClient({ lang: 'en-US' });
  const e1 = await expectCode(() => en.loginByEmail(uniqueEmail(), PASSWORD), C.USER_NOT_FOUND);
  const zh = newClient({ lang: 'zh-CN' });
  const e2 = await expectCode(() => zh.loginByEmail(uniqueEmail(), PASSWORD), C.USER_NOT_FOUND);
  assert.match(e1.message, /[a-z]/);
  assert.notEqual(e1.message, e2.message);
});
