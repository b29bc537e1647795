// User-defined values of the current user. Fields are defined by an
// administrator (through the admin API, see defineField).
'use strict';

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { newClient, uniqueEmail, expectCode, defineField } = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

before(async () => {
  await defineField('school', 'STRING', 'School');
  await defineField('age', 'NUMBER', 'Age');
  await defineField('vip', 'BOOLEAN', 'VIP');
  await defineField('born', 'DATETIME', 'Born');
  await defineField('prefs', 'OBJECT', 'Preferences');
});

async function loggedIn() {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  const u = await c.loginByEmail(email, PASSWORD);
  return { c, email, u };
}

test('listUdv: empty for a new user', async () => {
  const { c } = await loggedIn();
  assert.deepEqual(await c.listUdv(), []);
});

test('setUdv: typed values, the full list back; unknown keys and wrong types refused', async () => {
  const { c } = await loggedIn();
  let list = await c.setUdv('school', '华中科技大学');
  assert.deepEqual(list.map((d) => [d.key, d.dataType, d.value, d.label]), [['school', 'STRING', '华中科技大学', 'School']]);
  list = await c.setUdv('age', 20);
  assert.equal(list.length, 2);
  assert.equal(list.find((d) => d.key === 'age').value, 20);
  const born = Date.UTC(2000, 1, 29, 12, 30);
  await c.setUdv('born', born);
  await c.setUdv('vip', true);
  list = await c.setUdv('prefs', { theme: 'dark', n: [1, 2] });
  const byKey = Object.fromEntries(list.map((d) => [d.key, d.value]));
  assert.equal(byKey.vip, true);
  assert.ok(byKey.born instanceof Date);
  assert.equal(byKey.born.getTime(), born);
  assert.deepEqual(byKey.prefs, { theme: 'dark', n: [1, 2] });
  // A Date object travels as ISO text and comes back as the same instant.
  list = await c.setUdv('born', new Date(born + 1));
  assert.equal(list.find((d) => d.key === 'born').value.getTime(), born + 1);

  await expectCode(() => c.setUdv('no-such-key', 'x'), C.UNKNOWN_FIELD);
  await expectCode(() => c.setUdv('age', 'not a number'), C.FIELD_TYPE_MISMATCH);
  await expectCode(() => c.setUdv('school', 123), C.FIELD_TYPE_MISMATCH);
  assert.equal((await c.listUdv()).find((d) => d.key === 'age').value, 20, 'refused changes change nothing');
  // A token the server did not sign (the SDK reads the user id from it).
  const forged = [{ alg: 'none' }, { sub: 'someone', data: { id: 'someone' } }]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
  await expectCode(() => newClient({ token: `${forged}.sig` }).setUdv('age', 1), C.TOKEN_INVALID);
});

test('removeUdv: the list without the key', async () => {
  const { c } = await loggedIn();
  await c.setUdv('school', 'MIT');
  await c.setUdv('age', 3);
  assert.deepEqual((await c.removeUdv('school')).map((d) => d.key), ['age']);
  assert.deepEqual(await c.removeUdv('age'), []);
  assert.deepEqual(await c.listUdv(), []);
  await expectCode(() => c.removeUdv('no-such-key'), C.UNKNOWN_FIELD);
});

test('customData on login and registration sets values, returned as an object', async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD, {}, { customData: { school: 'MIT' }, context: { source: 'compat-suite' } });
  const u = await c.loginByEmail(email, PASSWORD, { customData: { age: 30, vip: false }, context: { source: 'compat-suite' } });
  assert.deepEqual(u.customData, { school: 'MIT', age: 30, vip: false });
  const me = await c.getCurrentUser();
  assert.deepEqual(me.customData, { school: 'MIT', age: 30, vip: false });
  // A refused value fails the login and sets nothing.
  await expectCode(() => newClient().loginByEmail(email, PASSWORD, { customData: { age: 'old' } }), C.FIELD_TYPE_MISMATCH);
  await expectCode(() => newClient().registerByEmail(uniqueEmail(), PASSWORD, {}, { customData: { nope: 1 } }), C.UNKNOWN_FIELD);
  assert.deepEqual((await c.getCurrentUser()).customData, { school: 'MIT', age: 30, vip: false });
});

test('profile.udf sets values at registration (values as JSON text)', async () => {
  const c = newClient();
  const u = await c.registerByEmail(uniqueEmail(), PASSWORD, { udf: [{ key: 'age', value: '7' }, { key: 'school', value: '"Eton"' }] }, { forceLogin: true });
  assert.ok(u.token);
  assert.deepEqual((await c.getCurrentUser()).customData, { age: 7, school: 'Eton' });
});
