// authenticationClient.social.getIdentities (SocialAuthenticationClient):
// GET /api/v3/get-identities with the user's token lists the user's
// upstream identities in Authing's v3 Identity shape (docs/SOCIAL.md).
// The identities come from an import (as a migration brings them); a
// social sign-in writes the same rows.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { newClient, unique, expectCode, importUsers } = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

test('getIdentities: the user\'s identities in Authing\'s shape, never tokens', async () => {
  const email = `${unique('ident')}@example.com`.toLowerCase();
  const source = unique('src').toLowerCase().slice(0, 30);
  const res = await importUsers(source, [{
    externalId: email, email, emailVerified: true,
    passwordHash: '$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga',
    identities: [
      { provider: 'wechat', subject: 'uWx-union-9', data: { unionid: 'uWx-union-9', openid: 'oWx-9', nickname: '小明' } },
      { provider: 'github', subject: '583231', data: { login: 'octocat', email: 'octo@example.com' } },
    ],
  }]);
  assert.equal(res.summary.imported, 1, JSON.stringify(res));
  const c = newClient();
  await c.loginByEmail(email, 'allmine');
  const ids = await c.social.getIdentities();
  assert.equal(ids.length, 2);
  const byProvider = Object.fromEntries(ids.map((i) => [i.provider, i]));
  const wx = byProvider.wechat;
  assert.equal(wx.userIdInIdp, 'uWx-union-9');
  assert.equal(wx.type, 'unionid');
  assert.equal(wx.extIdpId, 'wechat');
  assert.deepEqual(wx.originConnIds, ['wechat']);
  assert.equal(wx.userInfoInIdp.nickname, '小明');
  assert.equal(wx.accessToken, '');
  assert.equal(wx.refreshToken, '');
  assert.match(wx.identityId, /^[0-9a-f]{24}$/);
  const gh = byProvider.github;
  assert.equal(gh.userIdInIdp, '583231');
  assert.equal(gh.type, 'primary');
  assert.equal(gh.userInfoInIdp.login, 'octocat');
  assert.notEqual(gh.identityId, wx.identityId);

  // Another user sees only their own: none.
  const other = newClient();
  const otherEmail = `${unique('noident')}@example.com`;
  await other.registerByEmail(otherEmail, PASSWORD);
  await other.loginByEmail(otherEmail, PASSWORD);
  assert.deepEqual(await other.social.getIdentities(), []);
});

test('getIdentities: without a token, not logged in', async () => {
  await expectCode(() => newClient().social.getIdentities(), C.NOT_LOGGED_IN);
});
