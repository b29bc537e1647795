// SMS and email codes, phone accounts, password reset, binding and changing
// phone and email. Verification codes are read from the server (lastCode,
// the console sender's log), never written here.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  newClient, unique, uniqueEmail, uniquePhone, expectCode, advanceClock, nextMinute, lastCode,
} = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

// wrong is a well-formed code other than code.
const wrong = (code) => (code === '000000' ? '111111' : '000000');

// phoneAccount registers a phone account with a password; the client is
// logged in.
async function phoneAccount(c) {
  const phone = uniquePhone();
  await c.sendSmsCode(phone);
  const u = await c.registerByPhoneCode(phone, await lastCode(phone), PASSWORD, { nickname: 'Phi' }, { forceLogin: true });
  return { phone, u };
}

test('sendSmsCode: sends a code, at most one a minute per number; the country code may come apart', async () => {
  const c = newClient();
  const phone = uniquePhone();
  assert.equal(await c.sendSmsCode(phone), null, 'the SDK answers the data of {code: 200, message}');
  assert.match(await lastCode(phone), /^\d{6}$/);
  await expectCode(() => c.sendSmsCode(phone), C.RATE_LIMITED);
  await expectCode(() => c.sendSmsCode('12'), 2028);

  const other = uniquePhone();
  await c.sendSmsCode(other.slice(3), '+86', 'register');
  assert.match(await lastCode(other), /^\d{6}$/);
});

test('registerByPhoneCode: creates a verified phone account; wrong, expired and taken are coded', async () => {
  const c = newClient();
  const { phone, u } = await phoneAccount(c);
  assert.equal(u.phone, phone);
  assert.equal(u.phoneCountryCode, '+86');
  assert.equal(u.phoneVerified, true);
  assert.equal(u.nickname, 'Phi');
  assert.ok(u.token);
  assert.equal(await c.tokenProvider.getToken(), u.token);
  await expectCode(() => c.registerByPhoneCode(phone, '000000', PASSWORD), C.USER_EXISTS);

  const p2 = uniquePhone();
  await c.sendSmsCode(p2);
  const code = await lastCode(p2);
  await expectCode(() => c.registerByPhoneCode(p2, wrong(code), PASSWORD), C.WRONG_CODE);
  await nextMinute();
  await expectCode(() => c.registerByPhoneCode(p2, code, PASSWORD), C.CODE_EXPIRED);

  // Without a password, and with the country code apart.
  await c.sendSmsCode(p2);
  const n = await newClient().registerByPhoneCode(p2.slice(3), await lastCode(p2), undefined, undefined, { phoneCountryCode: '+86' });
  assert.equal(n.phone, p2);
  assert.equal(n.token, null);
});

test('loginByPhoneCode: logs in with an SMS code; a new number gets an account', async () => {
  const c = newClient();
  const { phone, u } = await phoneAccount(c);
  await nextMinute();
  await c.sendSmsCode(phone, undefined, 'login');
  const l = await newClient().loginByPhoneCode(phone, await lastCode(phone));
  assert.equal(l.id, u.id);
  assert.ok(l.token);
  assert.equal(l.newlyCreated, false);
  assert.deepEqual(l.customData, {});
  await expectCode(() => c.loginByPhoneCode(phone, '0'), C.WRONG_CODE);

  const fresh = uniquePhone();
  await c.sendSmsCode(fresh.slice(3), '+86');
  const n = await newClient().loginByPhoneCode(fresh.slice(3), await lastCode(fresh), { phoneCountryCode: '+86' });
  assert.equal(n.newlyCreated, true);
  assert.equal(n.phone, fresh);
});

test('loginByPhonePassword: logs in with phone and password', async () => {
  const c = newClient();
  const { phone, u } = await phoneAccount(c);
  const l = await newClient().loginByPhonePassword(phone, PASSWORD);
  assert.equal(l.id, u.id);
  assert.ok(l.token);
  await expectCode(() => newClient().loginByPhonePassword(phone, 'wrong-password'), C.WRONG_PASSWORD);
  await expectCode(() => newClient().loginByPhonePassword(uniquePhone(), PASSWORD), C.USER_NOT_FOUND);
});

test('sendEmail + resetPasswordByEmailCode: resets the password and ends the sessions', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const before = await newClient().loginByEmail(email, PASSWORD);
  const r = await c.sendEmail(email, 'RESET_PASSWORD');
  assert.equal(r.code, 200);
  await expectCode(() => c.sendEmail(uniqueEmail(), 'RESET_PASSWORD'), C.USER_NOT_FOUND);
  await expectCode(() => c.sendEmail(email, 'LOGIN_VERIFY_CODE'), C.INVALID_ARGUMENT);
  const code = await lastCode(email);
  await expectCode(() => c.resetPasswordByEmailCode(email, wrong(code), 'n3w-passw0rd'), C.WRONG_CODE);
  const done = await c.resetPasswordByEmailCode(email, code, 'n3w-passw0rd');
  assert.equal(done.code, 200);
  await expectCode(() => c.resetPasswordByEmailCode(email, code, 'an0ther-passw0rd'), C.WRONG_CODE);
  await expectCode(() => c.loginByEmail(email, PASSWORD), C.WRONG_PASSWORD);
  assert.ok((await c.loginByEmail(email, 'n3w-passw0rd')).token);
  assert.equal((await newClient().checkLoginStatus(before.token)).code, C.TOKEN_INVALID);

  // An expired code (email codes live ten minutes).
  await nextMinute();
  await c.sendEmail(email, 'RESET_PASSWORD');
  const late = await lastCode(email);
  await advanceClock(11 * 60);
  await expectCode(() => c.resetPasswordByEmailCode(email, late, 'an0ther-passw0rd'), C.CODE_EXPIRED);
});

test('resetPasswordByPhoneCode: resets the password', async () => {
  const c = newClient();
  const { phone } = await phoneAccount(c);
  await nextMinute();
  await c.sendSmsCode(phone, undefined, 'reset');
  const code = await lastCode(phone);
  await expectCode(() => c.resetPasswordByPhoneCode(phone, code, 'short'), C.PASSWORD_TOO_WEAK);
  await c.resetPasswordByPhoneCode(phone.slice(3), code, 'n3w-passw0rd', '+86');
  await expectCode(() => newClient().loginByPhonePassword(phone, PASSWORD), C.WRONG_PASSWORD);
  assert.ok((await newClient().loginByPhonePassword(phone, 'n3w-passw0rd')).token);
});

test('bindPhone + unbindPhone: binds a verified phone, then unbinds it', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  const phone = uniquePhone();
  await c.sendSmsCode(phone, undefined, 'bind');
  const code = await lastCode(phone);
  await expectCode(() => newClient().bindPhone(phone, code), C.NOT_LOGGED_IN);
  await expectCode(() => c.bindPhone(phone, wrong(code)), C.WRONG_CODE);
  const b = await c.bindPhone(phone.slice(3), code, '+86');
  assert.equal(b.phone, phone);
  assert.equal(b.phoneVerified, true);
  assert.equal(b.token, u.token);
  assert.equal(await c.tokenProvider.getToken(), u.token, 'still logged in');
  await expectCode(() => c.bindPhone(phone, code), C.PHONE_BOUND);

  const ub = await c.unbindPhone();
  assert.equal(ub.phone, null);
  assert.equal(ub.token, u.token);
  await expectCode(() => c.unbindPhone(), C.NOT_BOUND);
  assert.equal((await c.getCurrentUser()).id, u.id);
});

test('updatePhone: verifies the new and the old phone', async () => {
  const c = newClient();
  const { phone, u } = await phoneAccount(c);
  await nextMinute();
  const next = uniquePhone();
  await c.sendSmsCode(next);
  const newCode = await lastCode(next);
  await expectCode(() => c.updatePhone(next, newCode), C.OLD_ADDRESS_REQUIRED);
  await c.sendSmsCode(phone);
  const oldCode = await lastCode(phone);
  await expectCode(() => c.updatePhone(next, newCode, phone, wrong(oldCode)), C.WRONG_CODE);
  const up = await c.updatePhone(next.slice(3), newCode, phone.slice(3), oldCode, '+86', '+86');
  assert.equal(up.phone, next);
  assert.equal(up.token, u.token);
  assert.equal((await newClient().loginByPhonePassword(next, PASSWORD)).id, u.id);
});

test('updateEmail: verifies the new and the old email', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  const next = uniqueEmail();
  await c.sendEmail(next, 'CHANGE_EMAIL');
  const newCode = await lastCode(next);
  await expectCode(() => c.updateEmail(next, newCode), C.OLD_ADDRESS_REQUIRED);
  await c.sendEmail(email, 'CHANGE_EMAIL');
  const up = await c.updateEmail(next, newCode, email, await lastCode(email));
  assert.equal(up.email, next);
  assert.equal(up.emailVerified, true);
  assert.equal(up.token, u.token);
  assert.ok((await newClient().loginByEmail(next, PASSWORD)).token);
  await expectCode(() => newClient().updateEmail(next, newCode), C.NOT_LOGGED_IN);
});

test('phoneToken and emailToken prove a phone or email given with a registration or a profile update', async () => {
  // registerByEmail with profile.phone, proven by the SMS code.
  const c = newClient();
  const phone = uniquePhone();
  await c.sendSmsCode(phone);
  const code = await lastCode(phone);
  await expectCode(() => c.registerByEmail(uniqueEmail(), PASSWORD, { phone }), C.INVALID_ARGUMENT);
  const email = uniqueEmail();
  const u = await c.registerByEmail(email, PASSWORD, { phone }, { phoneToken: code, forceLogin: true });
  assert.equal(u.phone, phone);
  assert.equal(u.phoneVerified, true);

  // registerByUsername with profile.email, proven by a CHANGE_EMAIL code.
  const mail = uniqueEmail();
  await c.sendEmail(mail, 'CHANGE_EMAIL');
  const n = await newClient().registerByUsername(unique('user'), PASSWORD, { email: mail }, { emailToken: await lastCode(mail) });
  assert.equal(n.email, mail);
  assert.equal(n.emailVerified, true);

  // updateProfile of an account without a phone, with phoneToken.
  const d = newClient();
  const e2 = uniqueEmail();
  await d.registerByEmail(e2, PASSWORD);
  await d.loginByEmail(e2, PASSWORD);
  const p2 = uniquePhone();
  await d.sendSmsCode(p2);
  await expectCode(() => d.updateProfile({ phone: p2 }), C.CANNOT_UPDATE_PHONE);
  const up = await d.updateProfile({ phone: p2, nickname: 'Tok' }, { phoneToken: await lastCode(p2) });
  assert.equal(up.phone, p2);
  assert.equal(up.nickname, 'Tok');
});
