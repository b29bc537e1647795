"""SMS and email codes, phone accounts, password reset, binding and
changing phone and email, through the Python SDK. Verification codes are
read from the server (last_code: the console sender's log), never written
here."""
import unittest

from helpers import (Case, PASSWORD, new_client, unique, unique_email, unique_phone, wrong, last_code,
                     next_minute, advance_clock,
                     RATE_LIMITED, INVALID_PHONE, USER_EXISTS, WRONG_CODE, CODE_EXPIRED, WRONG_PASSWORD,
                     USER_NOT_FOUND, INVALID_ARGUMENT, TOKEN_INVALID, NOT_LOGGED_IN, PHONE_BOUND, NOT_BOUND,
                     OLD_ADDRESS_REQUIRED, PASSWORD_TOO_WEAK, EMAIL_BOUND, LAST_LOGIN_METHOD)


class Codes(Case):
    def test_send_sms_code(self):
        c = new_client()
        phone = unique_phone()
        # The SDK hands back the answer's body rather than raising.
        self.assertEqual(c.send_sms_code(phone)["code"], 200)
        self.assertRegex(last_code(phone), r"^\d{6}$")
        self.assertEqual(c.send_sms_code(phone)["code"], RATE_LIMITED)
        self.assertEqual(c.send_sms_code("12")["code"], INVALID_PHONE)

    def test_register_by_phone_code(self):
        c = new_client()
        phone, u = self.phone_account(c)
        self.assertEqual(u["phone"], phone)
        self.assertTrue(u["phoneVerified"])
        self.assertEqual(u["nickname"], "Phi")
        self.assertTrue(u["token"])
        self.expect_code(USER_EXISTS, c.register_by_phone_code, phone, "000000", PASSWORD)

        p2 = unique_phone()
        c.send_sms_code(p2)
        code = last_code(p2)
        self.expect_code(WRONG_CODE, c.register_by_phone_code, p2, wrong(code), PASSWORD)
        next_minute()
        self.expect_code(CODE_EXPIRED, c.register_by_phone_code, p2, code, PASSWORD)
        # Without a password.
        c.send_sms_code(p2)
        n = new_client().register_by_phone_code(p2, last_code(p2))
        self.assertEqual(n["phone"], p2)

    def test_login_by_phone_code(self):
        c = new_client()
        phone, u = self.phone_account(c)
        next_minute()
        c.send_sms_code(phone)
        other = new_client()
        l = other.login_by_phone_code(phone, last_code(phone))
        self.assertEqual(l["id"], u["id"])
        self.assertTrue(l["token"])
        self.assertEqual(other.get_token(), l["token"])
        self.expect_code(WRONG_CODE, c.login_by_phone_code, phone, "0")
        # A new number gets an account.
        fresh = unique_phone()
        c.send_sms_code(fresh)
        n = new_client().login_by_phone_code(fresh, last_code(fresh))
        self.assertEqual(n["phone"], fresh)
        self.assertNotEqual(n["id"], u["id"])

    def test_login_by_phone_password(self):
        c = new_client()
        phone, u = self.phone_account(c)
        l = new_client().login_by_phone_password(phone, PASSWORD)
        self.assertEqual(l["id"], u["id"])
        self.assertTrue(l["token"])
        self.expect_code(WRONG_PASSWORD, new_client().login_by_phone_password, phone, "wrong-password")
        self.expect_code(USER_NOT_FOUND, new_client().login_by_phone_password, unique_phone(), PASSWORD)

    def test_send_email_and_reset_password_by_email_code(self):
        c = new_client()
        email = unique_email()
        c.register_by_email(email, PASSWORD)
        before = new_client().login_by_email(email, PASSWORD)
        r = c.send_email(email, "RESET_PASSWORD")
        self.assertEqual(r["code"], 200)
        self.expect_code(USER_NOT_FOUND, c.send_email, unique_email(), "RESET_PASSWORD")
        self.expect_code(INVALID_ARGUMENT, c.send_email, email, "LOGIN_VERIFY_CODE")
        code = last_code(email)
        self.expect_code(WRONG_CODE, c.reset_password_by_email_code, email, wrong(code), "n3w-passw0rd")
        done = c.reset_password_by_email_code(email, code, "n3w-passw0rd")
        self.assertEqual(done["code"], 200)
        self.expect_code(WRONG_CODE, c.reset_password_by_email_code, email, code, "an0ther-passw0rd")
        self.expect_code(WRONG_PASSWORD, c.login_by_email, email, PASSWORD)
        self.assertTrue(c.login_by_email(email, "n3w-passw0rd")["token"])
        self.assertEqual(new_client().check_login_status(before["token"])["code"], TOKEN_INVALID)

        # An expired code (email codes live ten minutes).
        next_minute()
        c.send_email(email, "RESET_PASSWORD")
        late = last_code(email)
        advance_clock(11 * 60)
        self.expect_code(CODE_EXPIRED, c.reset_password_by_email_code, email, late, "an0ther-passw0rd")

    def test_reset_password_by_phone_code(self):
        c = new_client()
        phone, _ = self.phone_account(c)
        next_minute()
        c.send_sms_code(phone)
        code = last_code(phone)
        self.expect_code(PASSWORD_TOO_WEAK, c.reset_password_by_phone_code, phone, code, "short")
        self.assertEqual(c.reset_password_by_phone_code(phone, code, "n3w-passw0rd")["code"], 200)
        self.expect_code(WRONG_PASSWORD, new_client().login_by_phone_password, phone, PASSWORD)
        self.assertTrue(new_client().login_by_phone_password(phone, "n3w-passw0rd")["token"])

    def test_bind_and_unbind_phone(self):
        c, _, u = self.logged_in()
        phone = unique_phone()
        c.send_sms_code(phone)
        code = last_code(phone)
        self.expect_code(NOT_LOGGED_IN, new_client().bind_phone, phone, code)
        self.expect_code(WRONG_CODE, c.bind_phone, phone, wrong(code))
        b = c.bind_phone(phone, code)
        self.assertEqual(b["phone"], phone)
        self.assertTrue(b["phoneVerified"])
        self.assertEqual(c.get_current_user()["id"], u["id"], "still logged in")
        self.expect_code(PHONE_BOUND, c.bind_phone, phone, code)
        ub = c.unbind_phone()
        self.assertIsNone(ub["phone"])
        self.expect_code(NOT_BOUND, c.unbind_phone)

    def test_bind_and_unbind_email(self):
        c = new_client()
        phone, u = self.phone_account(c)
        email = unique_email()
        c.send_email(email, "CHANGE_EMAIL")
        code = last_code(email)
        self.expect_code(WRONG_CODE, c.bind_email, email, wrong(code))
        b = c.bind_email(email, code)
        self.assertEqual(b["email"], email)
        self.assertTrue(b["emailVerified"])
        self.expect_code(EMAIL_BOUND, c.bind_email, unique_email(), code)
        ub = c.unbind_email()
        self.assertIsNone(ub["email"])
        self.expect_code(NOT_BOUND, c.unbind_email)
        # The phone is now the only way in: it cannot go.
        self.expect_code(LAST_LOGIN_METHOD, c.unbind_phone)

    def test_update_phone(self):
        c = new_client()
        phone, u = self.phone_account(c)
        next_minute()
        nxt = unique_phone()
        c.send_sms_code(nxt)
        new_code = last_code(nxt)
        self.expect_code(OLD_ADDRESS_REQUIRED, c.update_phone, nxt, new_code)
        c.send_sms_code(phone)
        old_code = last_code(phone)
        self.expect_code(WRONG_CODE, c.update_phone, nxt, new_code, phone, wrong(old_code))
        up = c.update_phone(nxt, new_code, phone, old_code)
        self.assertEqual(up["phone"], nxt)
        self.assertEqual(new_client().login_by_phone_password(nxt, PASSWORD)["id"], u["id"])

    def test_update_email(self):
        c, email, u = self.logged_in()
        nxt = unique_email()
        c.send_email(nxt, "CHANGE_EMAIL")
        new_code = last_code(nxt)
        self.expect_code(OLD_ADDRESS_REQUIRED, c.update_email, nxt, new_code)
        c.send_email(email, "CHANGE_EMAIL")
        up = c.update_email(nxt, new_code, email, last_code(email))
        self.assertEqual(up["email"], nxt)
        self.assertTrue(up["emailVerified"])
        self.assertTrue(new_client().login_by_email(nxt, PASSWORD)["token"])
        self.expect_code(NOT_LOGGED_IN, new_client().update_email, nxt, new_code)


if __name__ == "__main__":
    unittest.main()
