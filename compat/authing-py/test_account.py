"""Email and username accounts, tokens and sessions, driven through
Authing's unmodified Python SDK against a real authpool server."""
import unittest

from authing.v2.exceptions import AuthingException

from helpers import (Case, PASSWORD, new_client, unique, unique_email, advance_clock, decode_jwt,
                     USER_EXISTS, PASSWORD_TOO_WEAK, USERNAME_TAKEN, WRONG_PASSWORD, USER_NOT_FOUND,
                     NOT_LOGGED_IN, TOKEN_INVALID, TOKEN_EXPIRED, CANNOT_UPDATE_EMAIL, CANNOT_UPDATE_PHONE,
                     INVALID_ARGUMENT, WRONG_OLD_PASSWORD)


class Account(Case):
    def test_register_by_email(self):
        c = new_client()
        email = unique_email()
        u = c.register_by_email(email, PASSWORD, profile={"nickname": "Ada", "company": "ACME"})
        self.assertEqual(u["email"], email)
        self.assertEqual(u["nickname"], "Ada")
        self.assertEqual(u["company"], "ACME")
        self.assertFalse(u["emailVerified"])
        self.assertIsNone(u["token"])
        self.assertEqual(u["arn"], "arn:cn:authing:%s:user:%s" % (u["userPoolId"], u["id"]))

        self.expect_code(USER_EXISTS, c.register_by_email, email.upper(), PASSWORD)
        self.expect_code(PASSWORD_TOO_WEAK, c.register_by_email, unique_email(), "short")

        # force_login: a full login; generate_token: a token without one.
        f = c.register_by_email(unique_email(), PASSWORD, force_login=True)
        self.assertTrue(f["token"])
        self.assertEqual(f["loginsCount"], 1)
        self.assertEqual(c.get_token(), f["token"])
        g = c.register_by_email(unique_email(), PASSWORD, generate_token=True)
        self.assertTrue(g["token"])
        self.assertEqual(g["loginsCount"], 0)

    def test_register_by_username(self):
        c = new_client()
        name = unique("user")
        u = c.register_by_username(name, PASSWORD, profile={"nickname": "Bob"})
        self.assertEqual(u["username"], name)
        self.assertEqual(u["nickname"], "Bob")
        self.expect_code(USERNAME_TAKEN, c.register_by_username, name, PASSWORD)

    def test_login_by_email(self):
        c = new_client()
        email = unique_email()
        reg = c.register_by_email(email, PASSWORD)
        u = c.login_by_email(email, PASSWORD)
        self.assertEqual(u["id"], reg["id"])
        self.assertTrue(u["token"])
        self.assertEqual(u["loginsCount"], 1)
        claims = decode_jwt(u["token"])
        self.assertEqual(claims["sub"], u["id"])
        self.assertEqual(claims["data"]["id"], u["id"])
        self.assertEqual(c.get_token(), u["token"])

        self.expect_code(WRONG_PASSWORD, c.login_by_email, email, "wrong-password")
        self.expect_code(USER_NOT_FOUND, c.login_by_email, unique_email(), PASSWORD)
        auto = c.login_by_email(unique_email(), PASSWORD, auto_register=True)
        self.assertTrue(auto["token"])

    def test_login_by_username(self):
        c = new_client()
        name = unique("user")
        c.register_by_username(name, PASSWORD)
        u = c.login_by_username(name, PASSWORD)
        self.assertEqual(u["username"], name)
        self.assertTrue(u["token"])
        self.expect_code(WRONG_PASSWORD, c.login_by_username, name, "wrong-password")
        self.expect_code(USER_NOT_FOUND, c.login_by_username, unique("nobody"), PASSWORD)

    def test_check_login_status(self):
        c, _, u = self.logged_in()
        ok = c.check_login_status()
        self.assertEqual(ok["code"], 200)
        self.assertTrue(ok["status"])
        self.assertEqual(ok["data"]["id"], u["id"])
        self.assertGreater(ok["exp"], ok["iat"])
        self.assertTrue(new_client().check_login_status(u["token"])["status"])

        none = new_client().check_login_status()
        self.assertFalse(none["status"])
        self.assertEqual(none["code"], NOT_LOGGED_IN)
        bad = c.check_login_status("not.a.token")
        self.assertFalse(bad["status"])
        self.assertEqual(bad["code"], TOKEN_INVALID)

        # 16 days later (tokens live 15): expired.
        other, _, v = self.logged_in()
        advance_clock(16 * 24 * 3600)
        expired = new_client().check_login_status(v["token"])
        self.assertFalse(expired["status"])
        self.assertEqual(expired["code"], TOKEN_EXPIRED)
        self.expect_code(TOKEN_EXPIRED, other.get_current_user)

    def test_get_current_user(self):
        c, _, u = self.logged_in(nickname="Cy")
        me = c.get_current_user()
        self.assertEqual(me["id"], u["id"])
        self.assertEqual(me["nickname"], "Cy")
        self.expect_code(NOT_LOGGED_IN, new_client().get_current_user)

    def test_update_profile(self):
        c, _, u = self.logged_in()
        up = c.update_profile({"nickname": "Dee", "city": "Lyon", "gender": "F"})
        self.assertEqual(up["nickname"], "Dee")
        self.assertEqual(up["city"], "Lyon")
        self.assertEqual(up["gender"], "F")
        self.assertEqual(c.get_current_user()["nickname"], "Dee")
        self.expect_code(CANNOT_UPDATE_EMAIL, c.update_profile, {"email": unique_email()})
        self.expect_code(CANNOT_UPDATE_PHONE, c.update_profile, {"phone": "+15550100"})
        self.expect_code(INVALID_ARGUMENT, c.update_profile, {"gender": "X"})
        self.assertEqual(c.get_current_user()["id"], u["id"])
        self.expect_code(NOT_LOGGED_IN, new_client().update_profile, {"nickname": "x"})

    def test_update_password(self):
        c, email, u = self.logged_in()
        elsewhere = new_client()
        elsewhere.login_by_email(email, PASSWORD)
        self.expect_code(WRONG_OLD_PASSWORD, c.update_password, "n3w-passw0rd", "wrong-old")
        res = c.update_password("n3w-passw0rd", PASSWORD)
        self.assertEqual(res["id"], u["id"])
        self.assertEqual(c.get_current_user()["id"], u["id"], "the caller stays logged in")
        self.expect_code(TOKEN_INVALID, elsewhere.get_current_user)
        self.expect_code(WRONG_PASSWORD, new_client().login_by_email, email, PASSWORD)
        self.assertTrue(new_client().login_by_email(email, "n3w-passw0rd")["token"])

    def test_refresh_token(self):
        c, _, u = self.logged_in()
        advance_clock(60)
        r = c.refresh_token()
        self.assertTrue(r["token"])
        self.assertNotEqual(r["token"], u["token"])
        self.assertGreater(r["exp"], decode_jwt(u["token"])["exp"])
        self.assertEqual(c.get_token(), r["token"])
        self.assertEqual(c.get_current_user()["id"], u["id"])
        self.expect_code(NOT_LOGGED_IN, new_client().refresh_token)

    def test_logout(self):
        c, _, u = self.logged_in()
        self.assertTrue(c.logout())
        self.assertIsNone(c.get_token())
        st = new_client().check_login_status(u["token"])
        self.assertFalse(st["status"])
        self.assertEqual(st["code"], TOKEN_INVALID)
        stale = new_client(token=u["token"])
        self.expect_code(TOKEN_INVALID, stale.update_profile, {"nickname": "x"})

    def test_lang(self):
        en = new_client(lang="en-US")
        zh = new_client(lang="zh-CN")
        e1 = self.expect_code(USER_NOT_FOUND, en.login_by_email, unique_email(), PASSWORD)
        e2 = self.expect_code(USER_NOT_FOUND, zh.login_by_email, unique_email(), PASSWORD)
        self.assertRegex(e1.message, "[a-z]")
        self.assertNotEqual(e1.message, e2.message)


if __name__ == "__main__":
    unittest.main()
