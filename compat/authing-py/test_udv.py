"""User-defined values of the current user, through the Python SDK.
Fields are defined by an administrator (the admin API, see define_field)."""
import datetime
import unittest

from helpers import (Case, PASSWORD, new_client, unique_email, define_field,
                     UNKNOWN_FIELD, FIELD_TYPE_MISMATCH, TOKEN_INVALID)


class Udv(Case):
    @classmethod
    def setUpClass(cls):
        define_field("school", "STRING", "School")
        define_field("age", "NUMBER", "Age")
        define_field("vip", "BOOLEAN", "VIP")
        define_field("born", "DATETIME", "Born")
        define_field("prefs", "OBJECT", "Preferences")

    def test_list_udv_empty(self):
        c, _, _ = self.logged_in()
        self.assertEqual(c.list_udv(), [])

    def test_set_udv(self):
        c, _, _ = self.logged_in()
        lst = c.set_udv("school", "华中科技大学")
        self.assertEqual([(d["key"], d["dataType"], d["value"], d["label"]) for d in lst],
                         [("school", "STRING", "华中科技大学", "School")])
        lst = c.set_udv("age", 20)
        self.assertEqual(len(lst), 2)
        self.assertEqual({d["key"]: d["value"] for d in lst}["age"], 20)
        c.set_udv("vip", True)
        born = datetime.datetime(2000, 2, 29, 12, 30, tzinfo=datetime.timezone.utc)
        c.set_udv("born", born)
        lst = c.set_udv("prefs", {"theme": "dark", "n": [1, 2]})
        by_key = {d["key"]: d["value"] for d in lst}
        self.assertIs(by_key["vip"], True)
        self.assertEqual(by_key["prefs"], {"theme": "dark", "n": [1, 2]})
        self.assertIn("2000-02-29", str(by_key["born"]))

        self.expect_code(UNKNOWN_FIELD, c.set_udv, "no-such-key", "x")
        self.expect_code(FIELD_TYPE_MISMATCH, c.set_udv, "age", "not a number")
        self.expect_code(FIELD_TYPE_MISMATCH, c.set_udv, "school", 123)
        self.assertEqual({d["key"]: d["value"] for d in c.list_udv()}["age"], 20, "refused changes change nothing")

    def test_remove_udv(self):
        c, _, _ = self.logged_in()
        c.set_udv("school", "MIT")
        c.set_udv("age", 3)
        self.assertEqual([d["key"] for d in c.remove_udv("school")], ["age"])
        self.assertEqual(c.remove_udv("age"), [])
        self.assertEqual(c.list_udv(), [])
        self.expect_code(UNKNOWN_FIELD, c.remove_udv, "no-such-key")

    def test_custom_data_at_registration_and_login(self):
        c = new_client()
        email = unique_email()
        c.register_by_email(email, PASSWORD, custom_data={"school": "MIT"}, context={"source": "py-suite"})
        u = c.login_by_email(email, PASSWORD, custom_data={"age": 30, "vip": False}, context={"source": "py-suite"})
        self.assertTrue(u["token"])
        got = {d["key"]: d["value"] for d in c.list_udv()}
        self.assertEqual(got, {"school": "MIT", "age": 30, "vip": False})
        self.expect_code(FIELD_TYPE_MISMATCH, new_client().login_by_email, email, PASSWORD, custom_data={"age": "old"})
        self.expect_code(UNKNOWN_FIELD, new_client().register_by_email, unique_email(), PASSWORD, custom_data={"nope": 1})
        self.assertEqual({d["key"]: d["value"] for d in c.list_udv()}, {"school": "MIT", "age": 30, "vip": False})

    def test_forged_token(self):
        import base64
        import json

        def part(v):
            return base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=")
        forged = "%s.%s.sig" % (part({"alg": "none"}), part({"sub": "someone", "data": {"id": "someone"}}))
        self.expect_code(TOKEN_INVALID, new_client(token=forged).set_udv, "age", 1)


if __name__ == "__main__":
    unittest.main()
