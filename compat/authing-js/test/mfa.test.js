// Second factors through the SDK's MfaAuthenticationClient (client.mfa):
// TOTP binding and login, recovery codes, SMS and email second factors,
// phoneOrEmailBindable, and code 1635 on the GraphQL logins. TOTP codes
// are computed here from the secret (lib/helpers.js totp), as an
// authenticator app does; SMS and email codes are read with lastCode.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  newClient, uniqueEmail, uniquePhone, expectCode, advanceClock, nextMinute, lastCode, setPoolSettings, totp, URL_,
} = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';
const wrong = (code) => (code === '000000' ? '111111' : '000000');

// native calls authpool's own API, for the setup the SDK has no method
// for (enabling the SMS or email factor, verifying an address).
async function native(method, path, token, body) {
  const res = await fetch(URL_ + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('MFA: TOTP bound and unbound, 1635 on login, verifyTotpMfa, verifyTotpRecoveryCode', async (t) => {
  await setPoolSettings({ mfaPolicy: 'optional' });
  t.after(() => setPoolSettings({ mfaPolicy: 'off' }));
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  await c.loginByEmail(email, PASSWORD);
  assert.deepEqual(await c.mfa.getMfaAuthenticators({ type: 'totp' }), []);

  const a = await c.mfa.assosicateMfaAuthenticator({ authenticatorType: 'totp' });
  assert.equal(a.authenticator_type, 'totp');
  assert.match(a.secret, /^[A-Z2-7]{32}$/);
  assert.ok(a.qrcode_uri.startsWith('otpauth://totp/'));
  assert.ok(a.qrcode_data_url.startsWith('data:image/png;base64,'));
  assert.equal(typeof a.recovery_code, 'string');
  // Not bound before the first code: logins ask nothing.
  assert.ok((await newClient().loginByEmail(email, PASSWORD)).token);

  const code = await totp(a.secret);
  await expectCode(() => c.mfa.confirmAssosicateMfaAuthenticator({ authenticatorType: 'totp', totp: wrong(code) }), C.MFA_WRONG_CODE);
  const bound = await c.mfa.confirmAssosicateMfaAuthenticator({ authenticatorType: 'totp', totp: code });
  assert.equal(bound.code, 200);
  const list = await c.mfa.getMfaAuthenticators({ type: 'totp' });
  assert.equal(list.length, 1);
  assert.equal(list[0].authenticatorType, 'totp');
  assert.equal(list[0].secret, undefined, 'never the secret');

  // Login: 1635 with the MFA token (GraphQL), then the second factor.
  const e = await expectCode(() => newClient().loginByEmail(email, PASSWORD), C.MFA_REQUIRED);
  const mfaToken = e.data.mfaToken;
  assert.equal(typeof mfaToken, 'string');
  assert.ok(e.data.factors.includes('totp'));
  const d = newClient();
  assert.equal((await d.mfa.getMfaAuthenticators({ type: 'totp', mfaToken })).length, 1);
  // The binding code is used: replay refused.
  await expectCode(() => d.mfa.verifyTotpMfa({ totp: code, mfaToken }), C.MFA_WRONG_CODE);
  await advanceClock(30);
  const u = await d.mfa.verifyTotpMfa({ totp: await totp(a.secret), mfaToken });
  assert.ok(u.token);
  assert.equal(u.email, email);
  assert.equal((await newClient().checkLoginStatus(u.token)).status, true);
  await expectCode(async () => d.mfa.verifyTotpMfa({ totp: await totp(a.secret), mfaToken }), C.MFA_TOKEN_INVALID);

  // A recovery code works once.
  const e2 = await expectCode(() => newClient().loginByEmail(email, PASSWORD), C.MFA_REQUIRED);
  assert.ok((await newClient().mfa.verifyTotpRecoveryCode({ recoveryCode: a.recovery_code, mfaToken: e2.data.mfaToken })).token);
  const e3 = await expectCode(() => newClient().loginByEmail(email, PASSWORD), C.MFA_REQUIRED);
  await expectCode(() => newClient().mfa.verifyTotpRecoveryCode({ recoveryCode: a.recovery_code, mfaToken: e3.data.mfaToken }), C.MFA_WRONG_CODE);

  // Face verification is not offered.
  await expectCode(() => newClient().mfa.associateFaceByUrl({ baseFace: 'x', compareFace: 'y', mfaToken: e3.data.mfaToken }), C.MFA_UNSUPPORTED);

  // Unbound: logins ask nothing again.
  const off = await c.mfa.deleteMfaAuthenticator();
  assert.equal(off.code, 200);
  assert.deepEqual(await c.mfa.getMfaAuthenticators({ type: 'totp' }), []);
  assert.ok((await newClient().loginByEmail(email, PASSWORD)).token);
});

test('MFA: verifyAppSmsMfa, verifyAppEmailMfa and phoneOrEmailBindable', async (t) => {
  await setPoolSettings({ mfaPolicy: 'optional' });
  t.after(() => setPoolSettings({ mfaPolicy: 'off' }));
  const c = newClient();
  const phone = uniquePhone();
  await c.sendSmsCode(phone);
  const u = await c.registerByPhoneCode(phone, await lastCode(phone), PASSWORD, {}, { forceLogin: true });
  await native('PUT', '/api/v1/users/me/mfa/sms', u.token);
  const e = await expectCode(() => newClient().loginByPhonePassword(phone, PASSWORD), C.MFA_REQUIRED);
  const mfaToken = e.data.mfaToken;
  assert.deepEqual(e.data.factors, ['sms']);

  const other = uniquePhone();
  assert.equal(await c.mfa.phoneOrEmailBindable({ phone: other, mfaToken }), true);
  assert.equal(await c.mfa.phoneOrEmailBindable({ phone, mfaToken }), true, 'the user\'s own number');
  const taken = newClient();
  const takenEmail = uniqueEmail();
  await taken.registerByEmail(takenEmail, PASSWORD);
  assert.equal(await c.mfa.phoneOrEmailBindable({ email: takenEmail, mfaToken }), false);
  assert.equal(await c.mfa.phoneOrEmailBindable({ email: uniqueEmail(), mfaToken }), true);

  await nextMinute();
  await c.sendSmsCode(phone, undefined, 'mfa-verify');
  const sms = await lastCode(phone);
  await expectCode(() => newClient().mfa.verifyAppSmsMfa({ phone, code: wrong(sms), mfaToken }), C.WRONG_CODE);
  const done = await newClient().mfa.verifyAppSmsMfa({ phone, code: sms, mfaToken });
  assert.ok(done.token);

  // The email factor, for a verified address.
  const email = uniqueEmail();
  const ec = newClient();
  await ec.registerByEmail(email, PASSWORD);
  await ec.sendEmail(email, 'VERIFY_EMAIL');
  await native('POST', '/api/v1/email/verify', '', { email, code: await lastCode(email) });
  const user = await ec.loginByEmail(email, PASSWORD);
  await native('PUT', '/api/v1/users/me/mfa/email', user.token);
  const e2 = await expectCode(() => newClient().loginByEmail(email, PASSWORD), C.MFA_REQUIRED);
  await nextMinute();
  await ec.sendEmail(email, 'MFA_VERIFY');
  const mail = await lastCode(email);
  const viaMail = await newClient().mfa.verifyAppEmailMfa({ email, code: mail, mfaToken: e2.data.mfaToken });
  assert.ok(viaMail.token);
});
