// The OIDC helpers of the unmodified authing-js-sdk against authpool's
// provider at /oidc: an application migrating from Authing changes only
// appHost. Run by the Go test TestAuthingJSSDKOIDC (internal/e2e), which
// creates the applications and the user and passes them in the
// environment; the user's browser (sign-in page, consent) is the Go
// harness's, reached through the control URL.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { AuthenticationClient } = require('authing-js-sdk');
const { control, decodeJwt } = require('../lib/helpers');

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} must be set: run through \`AUTHPOOL_COMPAT_JS=1 go test ./internal/e2e -run TestAuthingJSSDKOIDC\``);
  return v;
};
const URL_ = env('AUTHPOOL_URL');
const APP_ID = env('AUTHPOOL_OIDC_APP_ID');
const SECRET = env('AUTHPOOL_OIDC_APP_SECRET');
const REDIRECT = env('AUTHPOOL_OIDC_REDIRECT_URI');
const LOGOUT = env('AUTHPOOL_OIDC_LOGOUT_URI');
const EMAIL = env('AUTHPOOL_OIDC_EMAIL');

// newOidcClient is the SDK configured as Authing's documentation says for
// an OIDC application, with authpool's address as appHost.
function newOidcClient(method = 'client_secret_post') {
  return new AuthenticationClient({
    appId: APP_ID, secret: SECRET, appHost: URL_, redirectUri: REDIRECT, protocol: 'oidc',
    tokenEndPointAuthMethod: method, introspectionEndPointAuthMethod: method, revocationEndPointAuthMethod: method,
  });
}

// visit loads a URL in the user's browser and returns where it was sent.
async function visit(url, fresh = false) {
  return control('/browser/visit', { url, fresh });
}

// signIn builds the authorization URL with the SDK (PKCE S256), lets the
// browser sign in, and returns the code and the request's values.
async function signIn(c, scope, fresh = true) {
  const codeVerifier = c.generateCodeChallenge();
  const codeChallenge = c.getCodeChallengeDigest({ codeChallenge: codeVerifier, method: 'S256' });
  const state = `st${Date.now()}`;
  const nonce = `n${Math.random().toString(36).slice(2)}`;
  const url = c.buildAuthorizeUrl({ scope, state, nonce, codeChallenge, codeChallengeMethod: 'S256' });
  assert.ok(url.startsWith(`${URL_}/oidc/auth?`), url);
  const { location } = await visit(url, fresh);
  assert.ok(location.startsWith(`${REDIRECT}?`), `the browser was sent to ${location}`);
  const q = new URL(location).searchParams;
  assert.equal(q.get('state'), state);
  assert.ok(q.get('code'), `no code in ${location}`);
  return { code: q.get('code'), codeVerifier, nonce };
}

// step runs one SDK call and names it in the failure.
async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    const detail = e.response ? ` HTTP ${e.response.status} ${JSON.stringify(e.response.data)}` : '';
    throw new Error(`${name}: ${e.message}${detail}`);
  }
}

async function httpStatus(fn) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e.response, `not an HTTP error: ${e}`);
    return e.response.status;
  }
  return 200;
}

for (const method of ['client_secret_post', 'client_secret_basic']) {
  test(`code, userinfo, introspection, refresh and revocation (${method})`, async () => {
    const c = newOidcClient(method);
    const { code, codeVerifier, nonce } = await signIn(c, 'openid profile email offline_access');
    const tokens = await step('getAccessTokenByCode', () => c.getAccessTokenByCode(code, { codeVerifier }));
    assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token, JSON.stringify(tokens));
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const id = decodeJwt(tokens.id_token);
    assert.equal(id.iss, `${URL_}/oidc`);
    assert.ok(id.aud === APP_ID || (Array.isArray(id.aud) && id.aud.includes(APP_ID)));
    assert.equal(id.nonce, nonce);
    // Userinfo: the SDK's default (GET, token in the query) and its other
    // placements.
    for (const opts of [undefined, { method: 'GET', tokenPlace: 'header' }, { method: 'POST', tokenPlace: 'header' }, { method: 'POST', tokenPlace: 'body' }]) {
      const info = await step('getUserInfoByAccessToken', () => c.getUserInfoByAccessToken(tokens.access_token, opts));
      assert.equal(info.sub, id.sub, JSON.stringify(opts));
      assert.equal(info.email, EMAIL);
      assert.equal(info.nickname, 'JS');
    }

    const intro = await step('introspectToken', () => c.introspectToken(tokens.access_token));
    assert.equal(intro.active, true);
    assert.equal(intro.client_id, APP_ID);
    assert.equal(intro.sub, id.sub);

    // Refresh with rotation.
    const refreshed = await step('getNewAccessTokenByRefreshToken', () => c.getNewAccessTokenByRefreshToken(tokens.refresh_token));
    assert.ok(refreshed.access_token && refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal((await step('getUserInfoByAccessToken', () => c.getUserInfoByAccessToken(refreshed.access_token))).sub, id.sub);

    // Revocation: the SDK says true, the token is inactive.
    assert.equal((await step('revokeToken', () => c.revokeToken(refreshed.access_token))), true);
    assert.equal((await step('introspectToken', () => c.introspectToken(refreshed.access_token))).active, false);
    const st = await httpStatus(() => c.getUserInfoByAccessToken(refreshed.access_token));
    assert.ok(st === 401 || st === 403, `userinfo with a revoked token: ${st}`);

    // A code is single use, and its second use revokes what the first
    // gave (RFC 6749 §4.1.2).
    assert.equal(await httpStatus(() => c.getAccessTokenByCode(code, { codeVerifier })), 400);
    assert.equal((await step('introspectToken', () => c.introspectToken(tokens.access_token))).active, false);
  });
}

test('buildLogoutUrl ends the session and returns to the registered URI', async () => {
  const c = newOidcClient();
  const { code, codeVerifier } = await signIn(c, 'openid email');
  const tokens = await step('getAccessTokenByCode', () => c.getAccessTokenByCode(code, { codeVerifier }));
  assert.equal((await step('introspectToken', () => c.introspectToken(tokens.access_token))).active, true);
  const url = c.buildLogoutUrl({ expert: true, idToken: tokens.id_token, redirectUri: LOGOUT });
  assert.ok(url.startsWith(`${URL_}/oidc/session/end?`), url);
  const { location } = await visit(url);
  assert.equal(location, LOGOUT);
  assert.equal((await step('introspectToken', () => c.introspectToken(tokens.access_token))).active, false);
  // The browser is signed out: the next authorization shows the sign-in
  // page again (the harness's browser fills it; prompt=none would fail).
  const again = c.buildAuthorizeUrl({ scope: 'openid' }) + '&prompt=none';
  const q = new URL((await visit(again)).location).searchParams;
  assert.equal(q.get('error'), 'login_required');
});

test('getAccessTokenByClientCredentials with a machine application', async () => {
  const c = newOidcClient();
  const accessKey = env('AUTHPOOL_OIDC_M2M_ID');
  const accessSecret = env('AUTHPOOL_OIDC_M2M_SECRET');
  const tok = await c.getAccessTokenByClientCredentials('reports:read', { accessKey, accessSecret });
  assert.ok(tok.access_token, JSON.stringify(tok));
  const claims = decodeJwt(tok.access_token);
  assert.equal(claims.sub, accessKey);
  assert.equal(claims.iss, `${URL_}/oidc`);
  // A wrong secret, and the web app (not a machine app), are refused.
  const wrong = await httpStatus(() => c.getAccessTokenByClientCredentials('reports:read', { accessKey, accessSecret: `${accessSecret}x` }));
  assert.ok(wrong === 400 || wrong === 401, `wrong secret: ${wrong}`);
  const web = await httpStatus(() => c.getAccessTokenByClientCredentials('openid', { accessKey: APP_ID, accessSecret: SECRET }));
  assert.ok(web === 400 || web === 401, `web app: ${web}`);
});
