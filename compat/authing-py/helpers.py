"""Helpers of the Python compatibility suite.

The server under test and its test-only control endpoint are started by
the Go test TestAuthingPySDK (internal/e2e), which passes their URLs:

  AUTHPOOL_URL          the authpool server (the SDK's app_host)
  AUTHPOOL_CONTROL_URL  test hooks: move the server's clock, change pool
                        settings, read the last code sent (from the console
                        sender's log lines), read the answer of the newest
                        CAPTCHA (the server's injected answer source), define
                        user-defined fields (through the admin API)

The SDK (vendor/authing, vendor/gql) is Authing's official Python SDK,
unmodified; only app_host and enc_public_key differ from an Authing Cloud
setup, as docs/AUTHING.md says.
"""
import base64
import json
import os
import time
import unittest
import urllib.parse

import requests

from authing.v2.authentication import AuthenticationClient, AuthenticationClientOptions
from authing.v2.exceptions import AuthingException

URL = os.environ.get("AUTHPOOL_URL")
CONTROL = os.environ.get("AUTHPOOL_CONTROL_URL")
if not URL or not CONTROL:
    raise SystemExit("AUTHPOOL_URL and AUTHPOOL_CONTROL_URL must be set: run this suite through "
                     "`AUTHPOOL_COMPAT_PY=1 go test ./internal/e2e -run TestAuthingPySDK`")

PASSWORD = "passw0rd!"

# The Authing error codes the suite checks, by meaning (docs/AUTHING.md).
CAPTCHA_REQUIRED = 2000
WRONG_CODE = 2001
USER_NOT_FOUND = 2004
WRONG_PASSWORD = 2006
NOT_LOGGED_IN = 2020
USER_EXISTS = 2026
INVALID_PHONE = 2028
PASSWORD_TOO_WEAK = 2029
USERNAME_TAKEN = 2034
PHONE_BOUND = 2035
EMAIL_BOUND = 2200
WRONG_OLD_PASSWORD = 2203
TOKEN_EXPIRED = 2206
TOKEN_INVALID = 2207
LAST_LOGIN_METHOD = 2217
NOT_BOUND = 2219
CANNOT_UPDATE_EMAIL = 2225
CANNOT_UPDATE_PHONE = 2226
OLD_ADDRESS_REQUIRED = 2227
CODE_EXPIRED = 2300
INVALID_ARGUMENT = 1003
RATE_LIMITED = 1005
UNKNOWN_FIELD = 2401
FIELD_TYPE_MISMATCH = 2402

_public_key = None


def public_key():
    """The server's password key, as docs/AUTHING.md tells an operator to
    fetch it once (data.publicKey of /api/v2/.well-known)."""
    global _public_key
    if _public_key is None:
        r = requests.get(URL + "/api/v2/.well-known", timeout=10)
        r.raise_for_status()
        _public_key = r.json()["data"]["publicKey"]
    return _public_key


def new_client(**options):
    """The unmodified SDK, configured as a migrating backend would."""
    opts = dict(app_id="compat-app", app_host=URL, enc_public_key=public_key())
    opts.update(options)
    return AuthenticationClient(options=AuthenticationClientOptions(**opts))


_seq = [0]


def unique(prefix):
    _seq[0] += 1
    return "%s%dx%sx%d" % (prefix, os.getpid(), base36(int(time.time() * 1000)), _seq[0])


def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def unique_email():
    return unique("py") + "@example.com"


_phone_seq = [0]


def unique_phone():
    """A valid mobile number in E.164 (the server checks number ranges),
    unique within one server run."""
    _phone_seq[0] += 1
    return "+86137%03d%05d" % (os.getpid() % 1000, _phone_seq[0])


def wrong(code):
    """A well-formed code other than code."""
    return "111111" if code == "000000" else "000000"


def control(path, body=None):
    if body is None:
        r = requests.get(CONTROL + path, timeout=10)
    else:
        r = requests.post(CONTROL + path, json=body, timeout=10)
    if r.status_code >= 300:
        raise AssertionError("control %s: HTTP %d: %s" % (path, r.status_code, r.text))
    return r.json() if r.text else None


def advance_clock(seconds):
    control("/clock/advance", {"seconds": seconds})


def next_minute():
    """Moves the server's clock past the one-code-a-minute limit of an
    address (which also expires its SMS codes)."""
    advance_clock(61)


def set_pool_settings(**settings):
    control("/pool/settings", settings)


def last_code(to):
    """The last verification code the server sent to an address, as its
    console sender logged it. Never hard-coded."""
    return control("/codes/last?to=" + urllib.parse.quote(to, safe=""))["code"]


def captcha_answer():
    return control("/captcha/last")["answer"]


def define_field(key, data_type, label):
    control("/udf", {"key": key, "dataType": data_type, "label": label})


def fetch_captcha():
    """What a backend without a cookie jar does when a login demands a
    CAPTCHA: it fetches the image (to show it to its user) and keeps the
    id from the X-Authpool-Captcha-Id header; the login then sends
    captchaCode as '<id>:<answer>'."""
    r = requests.get(URL + "/api/v2/security/captcha", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content[1:4] == b"PNG"
    cid = r.headers.get("X-Authpool-Captcha-Id")
    assert cid, "the CAPTCHA answer carries its id in X-Authpool-Captcha-Id"
    return cid


def decode_jwt(token):
    parts = token.split(".")
    assert len(parts) == 3, "a token is a JWT"
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


class Case(unittest.TestCase):
    def expect_code(self, code, fn, *args, **kwargs):
        """Runs fn and asserts it raises AuthingException with the code."""
        with self.assertRaises(AuthingException) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.code, code, "expected code %d, got %r" % (code, cm.exception.message))
        self.assertIsInstance(cm.exception.message, str)
        return cm.exception

    def logged_in(self, **profile):
        c = new_client()
        email = unique_email()
        c.register_by_email(email, PASSWORD, profile=profile or None)
        u = c.login_by_email(email, PASSWORD)
        return c, email, u

    def phone_account(self, c):
        """Registers a phone account with a password; c is logged in."""
        phone = unique_phone()
        self.assertEqual(c.send_sms_code(phone)["code"], 200)
        u = c.register_by_phone_code(phone, last_code(phone), PASSWORD, profile={"nickname": "Phi"}, force_login=True)
        return phone, u
