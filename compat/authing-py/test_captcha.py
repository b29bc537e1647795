"""Login failure detection for a backend without a cookie jar (Authing's
Python SDK sends no cookies and no CAPTCHA id): the backend fetches the
image, keeps its id, and sends captchaCode as '<id>:<answer>'. The answer
comes from the server's injected answer source, never from here."""
import unittest

from helpers import (Case, PASSWORD, new_client, unique_email, unique_phone, set_pool_settings, fetch_captcha,
                     captcha_answer, CAPTCHA_REQUIRED, WRONG_CODE, WRONG_PASSWORD, USER_NOT_FOUND)
from authing.v2.exceptions import AuthingException


class Captcha(Case):
    def setUp(self):
        set_pool_settings(loginFailureDetection=True)
        self.addCleanup(set_pool_settings, loginFailureDetection=False)

    def fail_until_captcha(self, c, email):
        last = None
        for _ in range(10):
            try:
                c.login_by_email(email, "wrong-password")
            except AuthingException as e:
                last = e
                if e.code == CAPTCHA_REQUIRED:
                    break
                self.assertEqual(e.code, WRONG_PASSWORD)
        self.assertEqual(last.code, CAPTCHA_REQUIRED)

    def test_id_and_answer_in_captcha_code(self):
        c = new_client()
        email = unique_email()
        c.register_by_email(email, PASSWORD)
        self.fail_until_captcha(c, email)
        # The right password is not enough now, nor an answer without an id.
        self.expect_code(CAPTCHA_REQUIRED, c.login_by_email, email, PASSWORD)
        self.expect_code(WRONG_CODE, c.login_by_email, email, PASSWORD, captcha_code="123456")

        cid = fetch_captcha()
        self.expect_code(WRONG_CODE, c.login_by_email, email, PASSWORD, captcha_code=cid + ":wrong")
        # One guess per image: the right answer after a wrong one fails too.
        self.expect_code(WRONG_CODE, c.login_by_email, email, PASSWORD, captcha_code=cid + ":" + captcha_answer())
        # Another image's id with this image's answer fails.
        a = fetch_captcha()
        fetch_captcha()
        self.expect_code(WRONG_CODE, c.login_by_email, email, PASSWORD, captcha_code=a + ":" + captcha_answer())

        cid = fetch_captcha()
        u = c.login_by_email(email, PASSWORD, captcha_code=cid + ":" + captcha_answer())
        self.assertTrue(u["token"])
        # Solving it lifted the demand.
        self.assertTrue(new_client().login_by_email(email, PASSWORD)["token"])

    def test_username_and_phone_logins(self):
        c = new_client()
        email = unique_email()
        c.register_by_email(email, PASSWORD)
        self.fail_until_captcha(c, email)
        self.expect_code(CAPTCHA_REQUIRED, c.login_by_username, "nobody-here", PASSWORD)
        self.expect_code(CAPTCHA_REQUIRED, c.login_by_phone_password, unique_phone(), PASSWORD)
        cid = fetch_captcha()
        self.expect_code(USER_NOT_FOUND, c.login_by_phone_password, unique_phone(), PASSWORD,
                         captcha_code=cid + ":" + captcha_answer())
        cid = fetch_captcha()
        self.assertTrue(c.login_by_email(email, PASSWORD, captcha_code=cid + ":" + captcha_answer())["token"])


if __name__ == "__main__":
    unittest.main()
