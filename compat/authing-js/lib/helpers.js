// Helpers of the compatibility suite. The server under test, and its
// test-only control endpoint, are started by the Go test
// TestAuthingJSSDK (internal/e2e), which passes their URLs:
//   AUTHPOOL_URL          the authpool server (the SDK's appHost)
//   AUTHPOOL_CONTROL_URL  test hooks: move the server's clock, change pool
//                         settings, read the last code sent (console sender)
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
// (phone or email), as its console sender logged it. Never hard-coded.
const lastCode = async (to) => (await control(`/codes/last?to=${encodeURIComponent(to)}`)).code;

// decodeJwt reads a token's payload as the SDK does (no signature check).
function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'a token is a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

module.exports = {
  newClient, unique, uniqueEmail, expectCode, control, advanceClock, setPoolSettings, lastCode, decodeJwt,
};
