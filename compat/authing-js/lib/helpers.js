// Helpers of the compatibility suite. The server under test, and its
// test-only control endpoint, are started by the Go test
// TestAuthingJSSDK (internal/e2e), which passes their URLs:
//   AUTHPOOL_URL          the authpool server (the SDK's appHost)
//   AUTHPOOL_CONTROL_URL  test hooks: move the server's clock, change pool
//                         settings, read the last code sent (from the
//                         console sender's log lines), read the answer of
//                         the newest CAPTCHA (the server's injected answer
//                         source), define user-defined fields and import
//                         users (through the admin API with the
//                         administrator key)
'use strict';

const assert = require('node:assert/strict');
const { AuthenticationClient } = require('authing-js-sdk');

const URL_ = process.env.AUTHPOOL_URL;
const CONTROL = process.env.AUTHPOOL_CONTROL_URL;
if (!URL_ || !CONTROL) {
  throw new Error('AUTHPOOL_URL and AUTHPOOL_CONTROL_URL must be set: run this suite through `AUTHPOOL_COMPAT_JS=1 go test ./internal/e2e -run TestAuthingJSSDK`');
}

// newClient builds the unmodified SDK as a migrating application would:
// only appHost changes.
function newClient(options = {}) {
  return new AuthenticationClient({ appId: 'compat-app', appHost: URL_, ...options });
}

let seq = 0;
// unique makes identifiers unique within one server run.
function unique(prefix) {
  seq += 1;
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${seq}`;
}

function uniqueEmail() {
  return `${unique('u')}@example.com`;
}

// expectCode runs fn and asserts it fails with the Authing error code.
async function expectCode(fn, code) {
  let thrown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected error code ${code}, but the call succeeded`);
  assert.equal(thrown.code, code, `expected error code ${code}, got ${JSON.stringify(thrown)}`);
  assert.equal(typeof thrown.message, 'string');
  return thrown;
}

// control calls a test hook of the Go harness.
async function control(path, body) {
  const res = await fetch(CONTROL + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`control ${path}: HTTP ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

const advanceClock = (seconds) => control('/clock/advance', { seconds });
const setPoolSettings = (settings) => control('/pool/settings', settings);
// lastCode is the last verification code the server sent to an address
// (phone in E.164, or email), as its console sender logged it. Never
// hard-coded.
const lastCode = async (to) => (await control(`/codes/last?to=${encodeURIComponent(to)}`)).code;
// captchaAnswer is the answer of the newest CAPTCHA image.
const captchaAnswer = async () => (await control('/captcha/last')).answer;
// defineField defines a user-defined field of the pool (an administrator's
// job, done through the admin API); defining it again is harmless.
const defineField = (key, dataType, label) => control('/udf', { key, dataType, label });
// importUsers imports records (authpool's UserRecord: email, passwordHash,
// ...) through the admin import route, as `authpool admin users import`
// does after reading another system's export; it answers the summary.
const importUsers = (source, records) => control('/import', { source, records });

// withCookieJar gives a client what a browser gives the SDK: its requests
// are made withCredentials, so a browser sends back the cookies the site
// set. Node has no cookie jar; this one keeps the cookies answers set and
// sends them with the SDK's requests, through interceptors on the SDK's
// own axios instances. The SDK itself is unchanged.
function withCookieJar(client) {
  const jar = new Map();
  client.cookieJar = jar;
  for (const ax of [client.graphqlClient.axios, client.httpClient.axios]) {
    ax.interceptors.request.use((config) => {
      if (jar.size > 0) {
        config.headers.Cookie = cookieHeader(jar);
      }
      return config;
    });
    ax.interceptors.response.use((res) => {
      keepCookies(jar, res.headers['set-cookie']);
      return res;
    });
  }
  return client;
}

function cookieHeader(jar) {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function keepCookies(jar, setCookies) {
  for (const line of setCookies || []) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

// showCaptcha does what a login page does for a client with a cookie jar:
// it loads the CAPTCHA image (Authing's Guard fetches this URL with
// credentials), which sets the cookie the next login sends.
async function showCaptcha(client) {
  const headers = client.cookieJar.size > 0 ? { cookie: cookieHeader(client.cookieJar) } : {};
  const res = await fetch(`${URL_}/api/v2/security/captcha?r=${Date.now()}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(body.subarray(1, 4).toString('latin1'), 'PNG', 'the CAPTCHA is a PNG image');
  keepCookies(client.cookieJar, res.headers.getSetCookie());
  return body;
}

let phoneSeq = 0;
// uniquePhone is a valid mobile number (the server checks number ranges),
// in E.164, unique within one server run.
function uniquePhone() {
  phoneSeq += 1;
  return `+86139${String(process.pid % 1000).padStart(3, '0')}${String(phoneSeq).padStart(5, '0')}`;
}

// serverNow is the server's clock in unix seconds (the suite moves it).
const serverNow = async () => (await control('/clock/now')).unix;

// totp computes the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32
// secret at the server's time plus offset steps, as an authenticator app
// would: the suite never asks the server for a code.
async function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor((await serverNow()) / 30) + offset));
  const mac = require('node:crypto').createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

// nextMinute moves the server's clock past the one-code-a-minute limit of
// an address (which also expires its SMS codes).
const nextMinute = () => advanceClock(61);

// decodeJwt reads a token's payload as the SDK does (no signature check).
function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'a token is a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

module.exports = {
  newClient, unique, uniqueEmail, uniquePhone, expectCode, control, advanceClock, nextMinute, setPoolSettings,
  lastCode, captchaAnswer, defineField, importUsers, withCookieJar, showCaptcha, decodeJwt, serverNow, totp, URL_,
};
