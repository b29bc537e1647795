// Login failure detection: after repeated failures a CAPTCHA is required.
// A login page shows the image, whose cookie the next login carries; the
// answer comes from the server's injected answer source, never from here.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  newClient, uniqueEmail, expectCode, setPoolSettings, withCookieJar, showCaptcha, captchaAnswer,
} = require('../lib/helpers');
const C = require('../lib/codes');

const PASSWORD = 'passw0rd!';

test('repeated failures demand a captcha (2000); a wrong answer is 2001; the right one logs in', async () => {
  await setPoolSettings({ loginFailureDetection: true });
  try {
    const c = withCookieJar(newClient());
    const email = uniqueEmail();
    await c.registerByEmail(email, PASSWORD);
    let last;
    for (let i = 0; i < 10; i += 1) {
      try {
        await c.loginByEmail(email, 'wrong-password');
      } catch (e) {
        last = e;
        if (e.code === C.CAPTCHA_REQUIRED) break;
        assert.equal(e.code, C.WRONG_PASSWORD);
      }
    }
    assert.equal(last.code, C.CAPTCHA_REQUIRED);
    // The right password is not enough now, nor a code without an image.
    await expectCode(() => c.loginByEmail(email, PASSWORD), C.CAPTCHA_REQUIRED);
    await expectCode(() => c.loginByEmail(email, PASSWORD, { captchaCode: '123456' }), C.WRONG_CODE);

    await showCaptcha(c);
    await expectCode(() => c.loginByEmail(email, PASSWORD, { captchaCode: 'wrong' }), C.WRONG_CODE);
    // One guess per image: the right answer after a wrong one fails too.
    const spent = await captchaAnswer();
    await expectCode(() => c.loginByEmail(email, PASSWORD, { captchaCode: spent }), C.WRONG_CODE);

    await showCaptcha(c);
    const u = await c.loginByEmail(email, PASSWORD, { captchaCode: await captchaAnswer() });
    assert.ok(u.token);
    assert.equal(await c.tokenProvider.getToken(), u.token);
    // Solving it lifted the demand.
    assert.ok((await newClient().loginByEmail(email, PASSWORD)).token);
  } finally {
    await setPoolSettings({ loginFailureDetection: false });
  }
});

test('the captcha guards phone and username logins too', async () => {
  await setPoolSettings({ loginFailureDetection: true });
  try {
    const c = withCookieJar(newClient());
    const email = uniqueEmail();
    await c.registerByEmail(email, PASSWORD);
    for (let i = 0; i < 3; i += 1) {
      await expectCode(() => c.loginByEmail(email, 'wrong-password'), C.WRONG_PASSWORD);
    }
    await expectCode(() => c.loginByUsername('nobody-here', PASSWORD), C.CAPTCHA_REQUIRED);
    await expectCode(() => c.loginByPhonePassword('+8613800138000', PASSWORD), C.CAPTCHA_REQUIRED);
    await showCaptcha(c);
    const answer = await captchaAnswer();
    await expectCode(() => c.loginByPhonePassword('+8613800138000', PASSWORD, { captchaCode: answer }), C.USER_NOT_FOUND);
    await showCaptcha(c);
    assert.ok((await c.loginByEmail(email, PASSWORD, { captchaCode: await captchaAnswer() })).token);
  } finally {
    await setPoolSettings({ loginFailureDetection: false });
  }
});
