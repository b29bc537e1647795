// Login failure detection: after repeated failures a CAPTCHA is required.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { newClient, uniqueEmail, expectCode, control } = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

test('repeated failures demand a captcha (2000); a wrong one is 2001', { skip: 'needs issue 4 (captcha, failure detection)' }, async () => {
  const c = newClient();
  const email = uniqueEmail();
  await c.registerByEmail(email, PASSWORD);
  let last;
  for (let i = 0; i < 10; i += 1) {
    try {
      await c.loginByEmail(email, 'wrong-password');
    } catch (e) {
      last = e;
      if (e.code === C.CAPTCHA_REQUIRED) break;
    }
  }
  assert.equal(last.code, C.CAPTCHA_REQUIRED);
  await expectCode(() => c.loginByEmail(email, PASSWORD, { captchaCode: 'wrong' }), C.WRONG_CODE);
  const { answer } = await control('/captcha/last');
  assert.ok((await c.loginByEmail(email, PASSWORD, { captchaCode: answer })).token);
});
