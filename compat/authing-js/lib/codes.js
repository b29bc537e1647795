// The Authing error codes the suite checks, by meaning. They are read from
// the server's documented table (docs/AUTHING.md); the suite asserts the
// codes the server answers, never verification codes, which come from the
// server through lastCode.
'use strict';

module.exports = Object.freeze({
  CAPTCHA_REQUIRED: 2000,
  WRONG_CODE: 2001,
  USER_NOT_FOUND: 2004,
  WRONG_PASSWORD: 2006,
  DECRYPT_FAILED: 2016,
  NO_PERMISSION: 2018,
  NOT_LOGGED_IN: 2020,
  USER_EXISTS: 2026,
  PASSWORD_TOO_WEAK: 2029,
  USERNAME_TAKEN: 2034,
  WRONG_OLD_PASSWORD: 2203,
  TOKEN_EXPIRED: 2206,
  TOKEN_INVALID: 2207,
  CANNOT_UPDATE_EMAIL: 2225,
  CANNOT_UPDATE_PHONE: 2226,
  CODE_EXPIRED: 2300,
  INVALID_ARGUMENT: 1003,
  MFA_REQUIRED: 1635,
  MFA_WRONG_CODE: 6001,
  MFA_TOKEN_INVALID: 6002,
  MFA_UNSUPPORTED: 6005,
  RATE_LIMITED: 1005,
  PHONE_BOUND: 2035,
  OLD_ADDRESS_REQUIRED: 2227,
  NOT_BOUND: 2219,
  UNKNOWN_FIELD: 2401,
  FIELD_TYPE_MISMATCH: 2402,
});
