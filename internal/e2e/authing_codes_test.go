package e2e

import (
	"net/http"
	"testing"
	"time"
)

// phoneUser is the part of User the phone tests read.
type phoneUser struct {
	ID               string  `json:"id"`
	Phone            *string `json:"phone"`
	PhoneVerified    bool    `json:"phoneVerified"`
	PhoneCountryCode *string `json:"phoneCountryCode"`
	Email            *string `json:"email"`
	EmailVerified    bool    `json:"emailVerified"`
	Token            *string `json:"token"`
	NewlyCreated     *bool   `json:"newlyCreated"`
}

// smsSend is POST /api/v2/sms/send as the JS SDK sends it.
func (c *authingClient) smsSend(body map[string]any) *restAnswer {
	c.t.Helper()
	return c.rest(http.MethodPost, "/api/v2/sms/send", body, "stale.bearer.token")
}

// smsCode sends a code to phone (E.164) through the wire and reads it from
// the console sender's log.
func (c *authingClient) smsCode(in *instance, phone string) string {
	c.t.Helper()
	if a := c.smsSend(map[string]any{"phone": phone}); a.Code != 200 {
		c.t.Fatalf("sms/send %s: %s", phone, a.Raw)
	}
	return in.Outbox.code(c.t, phone)
}

// mailCodeOf sends an email code for scene through the wire.
func (c *authingClient) mailCodeOf(in *instance, email, scene string) string {
	c.t.Helper()
	var m struct{ Code int }
	c.gql(docs["sendEmail"], map[string]any{"email": email, "scene": scene}, "").field(c.t, "sendEmail", &m)
	if m.Code != 200 {
		c.t.Fatalf("sendEmail: code %d", m.Code)
	}
	return in.Outbox.code(c.t, email)
}

// TestAuthingPhoneAccounts: SMS codes, phone registration and logins, and
// resets, through the wire, with Authing's separate phoneCountryCode.
func TestAuthingPhoneAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.authing(t)
		c.header.Set("x-authing-lang", "en-US")

		// sms/send: bad requests are coded and send nothing.
		for body, code := range map[string]int{
			`{}`:             1003,
			`{"phone":"12"}`: 2028,
			`{"phone":"13800138000","phoneCountryCode":"86x"}`:                1003,
			`{"phone":"+12015550123","phoneCountryCode":"+86"}`:               1003,
			`{"phone":"13800138000","phoneCountryCode":"+86","scene":"nope"}`: 1003,
		} {
			st, raw := c.post("/api/v2/sms/send", "application/json", []byte(body), nil)
			a := &restAnswer{Status: st, Raw: raw}
			mustJSON(t, raw, a)
			if st != 200 || a.Code != code {
				t.Errorf("sms/send %s: HTTP %d %s, want code %d", body, st, raw, code)
			}
		}
		if n := len(in.Outbox.sentTo(cnPhone)) + len(in.Outbox.sentTo(usPhone)); n != 0 {
			t.Fatalf("refused requests sent %d messages", n)
		}

		// A national number with its country code, as the JS SDK sends it.
		if a := c.smsSend(map[string]any{"phone": "13800138000", "phoneCountryCode": "+86", "scene": "register"}); a.Code != 200 || a.Message != "sent" {
			t.Fatalf("sms/send: %s", a.Raw)
		}
		code := in.Outbox.code(t, cnPhone)
		reg := func(code string, extra map[string]any) *gqlAnswer {
			input := merge(map[string]any{"phone": "13800138000", "phoneCountryCode": "+86", "code": code, "password": c.enc("passw0rd!"),
				"profile": map[string]any{"nickname": "Li"}, "forceLogin": true, "generateToken": false, "params": nil, "context": nil}, extra)
			return c.gql(docs["registerByPhoneCode"], map[string]any{"input": input}, "")
		}
		reg(wrongFor(code), nil).wantCode(t, 2001)
		reg(code, map[string]any{"phone": "2015550123", "phoneCountryCode": "+1"}).wantCode(t, 2001) // the code is another number's
		var u phoneUser
		reg(code, nil).field(t, "registerByPhoneCode", &u)
		if deref(u.Phone) != cnPhone || deref(u.PhoneCountryCode) != "+86" || !u.PhoneVerified || u.Token == nil {
			t.Fatalf("registerByPhoneCode: %+v", u)
		}
		reg(code, nil).wantCode(t, 2026) // the number is taken (and the code spent)

		// An expired code is 2300.
		in.Clock.Advance(61 * time.Second)
		late := c.smsCode(in, usPhone)
		in.Clock.Advance(61 * time.Second)
		c.gql(docs["registerByPhoneCode"], map[string]any{"input": map[string]any{"phone": usPhone, "code": late}}, "").wantCode(t, 2300)

		// loginByPhoneCode, with the country code apart or in the number.
		login := func(code string) *gqlAnswer {
			return c.gql(docs["loginByPhoneCode"], map[string]any{"input": map[string]any{"phone": "13800138000", "phoneCountryCode": "+86", "code": code, "params": nil, "context": nil}}, "")
		}
		login("000000").wantCode(t, 2001)
		var l phoneUser
		login(c.smsCode(in, cnPhone)).field(t, "loginByPhoneCode", &l)
		if l.ID != u.ID || l.Token == nil || *l.NewlyCreated {
			t.Fatalf("loginByPhoneCode: %+v", l)
		}
		// A number nobody has gets an account.
		in.Clock.Advance(61 * time.Second)
		var fresh phoneUser
		c.gql(docs["loginByPhoneCode"], map[string]any{"input": map[string]any{"phone": usPhone2, "code": c.smsCode(in, usPhone2)}}, "").field(t, "loginByPhoneCode", &fresh)
		if !*fresh.NewlyCreated || deref(fresh.Phone) != usPhone2 || deref(fresh.PhoneCountryCode) != "+1" {
			t.Fatalf("loginByPhoneCode of a new number: %+v", fresh)
		}

		// loginByPhonePassword.
		pwLogin := func(phone, pw string) *gqlAnswer {
			return c.gql(docs["loginByPhonePassword"], map[string]any{"input": map[string]any{"phone": phone, "password": c.enc(pw), "autoRegister": false, "params": nil, "context": nil}}, "")
		}
		var lp phoneUser
		pwLogin(cnPhone, "passw0rd!").field(t, "loginByPhonePassword", &lp)
		if lp.ID != u.ID || lp.Token == nil {
			t.Fatalf("loginByPhonePassword: %+v", lp)
		}
		pwLogin(cnPhone, "wrong-password").wantCode(t, 2006)
		pwLogin(cnPhone2, "passw0rd!").wantCode(t, 2004)
		c.gql(docs["loginByPhonePassword"], map[string]any{"input": map[string]any{"phone": cnPhone2, "password": c.enc("passw0rd!"), "autoRegister": true}}, "").wantCode(t, 1003)

		// resetPassword by phone code.
		in.Clock.Advance(61 * time.Second)
		resetCode := c.smsCode(in, cnPhone)
		reset := func(code, pw string) *gqlAnswer {
			return c.gql(docs["resetPassword"], map[string]any{"phone": "13800138000", "phoneCountryCode": "+86", "code": code, "newPassword": c.enc(pw)}, "")
		}
		reset(resetCode, "short").wantCode(t, 2029)
		reset(wrongFor(resetCode), "n3w-passw0rd").wantCode(t, 2001)
		var msg struct {
			Code    int
			Message string
		}
		reset(resetCode, "n3w-passw0rd").field(t, "resetPassword", &msg)
		if msg.Code != 200 || msg.Message != "password reset" {
			t.Fatalf("resetPassword: %+v", msg)
		}
		pwLogin(cnPhone, "passw0rd!").wantCode(t, 2006)
		pwLogin(cnPhone, "n3w-passw0rd").field(t, "loginByPhonePassword", &lp)
		// The old session ended with the reset.
		c.gql(docs["user"], map[string]any{}, *l.Token).wantCode(t, 2207)
		c.gql(docs["resetPassword"], map[string]any{"code": "123456", "newPassword": c.enc("n3w-passw0rd")}, "").wantCode(t, 1003)

		in.Outbox.noLeak(t, code, late, resetCode)
	})
}

// TestAuthingEmailCodes: sendEmail's scenes and the email reset.
func TestAuthingEmailCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.authing(t)
		c.registerEmail("mail@example.com", "passw0rd!", nil)

		send := func(email, scene string) *gqlAnswer {
			return c.gql(docs["sendEmail"], map[string]any{"email": email, "scene": scene}, "stale.bearer.token")
		}
		// Scenes of features authpool lacks are refused; valid enum values
		// still, so not a GraphQL error. (MFA_VERIFY is served: docs/MFA.md.)
		for _, scene := range []string{"VERIFY_CODE", "LOGIN_VERIFY_CODE", "REGISTER_VERIFY_CODE", "EMAIL_UNBIND_VERIFY_CODE"} {
			send("mail@example.com", scene).wantCode(t, 1003)
		}
		send("not-an-email", "RESET_PASSWORD").wantCode(t, 2003)
		send("nobody@example.com", "RESET_PASSWORD").wantCode(t, 2004)
		if n := len(in.Outbox.sentTo("mail@example.com")); n != 0 {
			t.Fatalf("refused requests sent %d mails", n)
		}
		// The 4.23.55 alias of RESET_PASSWORD.
		code := c.mailCodeOf(in, "mail@example.com", "RESET_PASSWORD_VERIFY_CODE")
		if m := in.Outbox.last(t, "mail@example.com"); m.Scene != "RESET_PASSWORD" {
			t.Fatalf("scene %q", m.Scene)
		}
		send("mail@example.com", "RESET_PASSWORD").wantCode(t, 1005) // one a minute

		reset := func(code, pw string) *gqlAnswer {
			return c.gql(docs["resetPassword"], map[string]any{"email": "MAIL@example.com", "code": code, "newPassword": c.enc(pw)}, "")
		}
		reset(wrongFor(code), "n3w-passw0rd").wantCode(t, 2001)
		var msg struct{ Code int }
		reset(code, "n3w-passw0rd").field(t, "resetPassword", &msg)
		if msg.Code != 200 {
			t.Fatalf("resetPassword: %+v", msg)
		}
		reset(code, "n3w-passw0rd").wantCode(t, 2001) // spent
		c.loginEmail("mail@example.com", "passw0rd!", "").wantCode(t, 2006)
		if a := c.loginEmail("mail@example.com", "n3w-passw0rd", ""); len(a.Errors) > 0 {
			t.Fatalf("login with the new password: %s", a.Raw)
		}

		// Expired.
		in.Clock.Advance(61 * time.Second)
		late := c.mailCodeOf(in, "mail@example.com", "RESET_PASSWORD")
		in.Clock.Advance(11 * time.Minute)
		reset(late, "an0ther-passw0rd").wantCode(t, 2300)
		in.Outbox.noLeak(t, code, late)
	})
}

// TestAuthingChangeIdentifiers: bindPhone, unbindPhone, updatePhone,
// updateEmail, and the phoneToken and emailToken options that prove a
// phone or email given with a registration or updateUser.
func TestAuthingChangeIdentifiers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.authing(t)
		c.registerEmail("ids@example.com", "passw0rd!", nil)
		var li authingUser
		c.loginEmail("ids@example.com", "passw0rd!", "").field(t, "loginByEmail", &li)
		tok := *li.Token

		// bindPhone with the country code apart; the caller's token back.
		code := c.smsCode(in, cnPhone)
		bind := func(code string) *gqlAnswer {
			return c.gql(docs["bindPhone"], map[string]any{"phone": "13800138000", "phoneCode": code, "phoneCountryCode": "+86"}, tok)
		}
		c.gql(docs["bindPhone"], map[string]any{"phone": cnPhone, "phoneCode": code}, "").wantCode(t, 2020)
		bind(wrongFor(code)).wantCode(t, 2001)
		var b phoneUser
		bind(code).field(t, "bindPhone", &b)
		if deref(b.Phone) != cnPhone || !b.PhoneVerified || deref(b.Token) != tok {
			t.Fatalf("bindPhone: %+v", b)
		}
		bind(code).wantCode(t, 2035) // already has one

		// updatePhone: the pool verifies the old number by default.
		in.Clock.Advance(61 * time.Second)
		newCode := c.smsCode(in, usPhone)
		oldCode := c.smsCode(in, cnPhone)
		c.gql(docs["updatePhone"], map[string]any{"phone": usPhone, "phoneCode": newCode}, tok).wantCode(t, 2227)
		c.gql(docs["updatePhone"], map[string]any{"phone": usPhone, "phoneCode": newCode, "oldPhone": "13900139000", "oldPhoneCountryCode": "+86", "oldPhoneCode": oldCode}, tok).wantCode(t, 2038)
		var up phoneUser
		c.gql(docs["updatePhone"], map[string]any{"phone": "2015550123", "phoneCountryCode": "+1", "phoneCode": newCode,
			"oldPhone": "13800138000", "oldPhoneCountryCode": "+86", "oldPhoneCode": oldCode}, tok).field(t, "updatePhone", &up)
		if deref(up.Phone) != usPhone || deref(up.PhoneCountryCode) != "+1" || deref(up.Token) != tok {
			t.Fatalf("updatePhone: %+v", up)
		}

		// unbindPhone: the email remains to log in with.
		var ub phoneUser
		c.gql(docs["unbindPhone"], map[string]any{}, tok).field(t, "unbindPhone", &ub)
		if ub.Phone != nil || ub.PhoneCountryCode != nil || deref(ub.Token) != tok {
			t.Fatalf("unbindPhone: %+v", ub)
		}
		c.gql(docs["unbindPhone"], map[string]any{}, tok).wantCode(t, 2219)

		// updateEmail: new and old address, CHANGE_EMAIL codes (or the
		// 4.23.55 alias EMAIL_BIND_VERIFY_CODE).
		newMail := c.mailCodeOf(in, "ids2@example.com", "EMAIL_BIND_VERIFY_CODE")
		oldMail := c.mailCodeOf(in, "ids@example.com", "CHANGE_EMAIL")
		c.gql(docs["updateEmail"], map[string]any{"email": "ids2@example.com", "emailCode": newMail}, tok).wantCode(t, 2227)
		c.gql(docs["updateEmail"], map[string]any{"email": "ids2@example.com", "emailCode": newMail, "oldEmail": "ids@example.com", "oldEmailCode": wrongFor(oldMail)}, tok).wantCode(t, 2001)
		var ue phoneUser
		c.gql(docs["updateEmail"], map[string]any{"email": "ids2@example.com", "emailCode": newMail, "oldEmail": "ids@example.com", "oldEmailCode": oldMail}, tok).field(t, "updateEmail", &ue)
		if deref(ue.Email) != "ids2@example.com" || !ue.EmailVerified || deref(ue.Token) != tok {
			t.Fatalf("updateEmail: %+v", ue)
		}

		// updateUser with phoneToken: binds a phone (the account has none)
		// with the profile change, in one step; without the token 2226.
		in.Clock.Advance(61 * time.Second)
		pc := c.smsCode(in, cnPhone2)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"phone": cnPhone2}}, tok).wantCode(t, 2226)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"nickname": "x"}, "phoneToken": pc}, tok).wantCode(t, 1003)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"nickname": "x", "phone": cnPhone2}, "phoneToken": wrongFor(pc)}, tok).wantCode(t, 2001)
		var me authingUser
		c.gql(docs["user"], map[string]any{}, tok).field(t, "user", &me)
		if me.Nickname != nil {
			t.Fatalf("a refused updateUser changed the profile: %+v", me)
		}
		var uu phoneUser
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"nickname": "Ids", "phone": "13900139000", "phoneCountryCode": "+86"}, "phoneToken": pc}, tok).field(t, "updateUser", &uu)
		if deref(uu.Phone) != cnPhone2 || !uu.PhoneVerified || deref(uu.Token) != tok {
			t.Fatalf("updateUser with phoneToken: %+v", uu)
		}
		// emailToken for an account that has an address: the pool verifies
		// the old one, which updateUser cannot carry.
		ec := c.mailCodeOf(in, "ids3@example.com", "CHANGE_EMAIL")
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"email": "ids3@example.com"}, "emailToken": ec}, tok).wantCode(t, 2227)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"phoneCountryCode": "+86"}}, tok).wantCode(t, 1003)

		// A registration with profile.phone and phoneToken: the phone is
		// verified at once. Without the token it is refused.
		in.Clock.Advance(61 * time.Second)
		rc := c.smsCode(in, usPhone2)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "withphone@example.com", "password": c.enc("passw0rd!"),
			"profile": map[string]any{"phone": usPhone2}}}, "").wantCode(t, 1003)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "withphone@example.com", "password": c.enc("passw0rd!"),
			"phoneToken": rc}}, "").wantCode(t, 1003)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "withphone@example.com", "password": c.enc("passw0rd!"),
			"profile": map[string]any{"phone": cnPhone2}, "phoneToken": rc}}, "").wantCode(t, 2026) // cnPhone2 is taken
		c.loginEmail("withphone@example.com", "passw0rd!", "").wantCode(t, 2004) // nothing created
		var wp phoneUser
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "withphone@example.com", "password": c.enc("passw0rd!"),
			"profile": map[string]any{"phone": usPhone2}, "phoneToken": rc, "generateToken": true}}, "").field(t, "registerByEmail", &wp)
		if deref(wp.Phone) != usPhone2 || !wp.PhoneVerified || deref(wp.Email) != "withphone@example.com" || wp.EmailVerified {
			t.Fatalf("registerByEmail with phoneToken: %+v", wp)
		}
		// registerByUsername with profile.email and emailToken.
		mc := c.mailCodeOf(in, "withmail@example.com", "CHANGE_EMAIL")
		var wm phoneUser
		c.gql(docs["registerByUsername"], map[string]any{"input": map[string]any{"username": "withmail", "password": c.enc("passw0rd!"),
			"profile": map[string]any{"email": "withmail@example.com"}, "emailToken": mc}}, "").field(t, "registerByUsername", &wm)
		if deref(wm.Email) != "withmail@example.com" || !wm.EmailVerified {
			t.Fatalf("registerByUsername with emailToken: %+v", wm)
		}
		// registerByPhoneCode with an emailToken; a wrong email code spends
		// neither code.
		in.Clock.Advance(61 * time.Second)
		sc := c.smsCode(in, "+8613700137000")
		ec2 := c.mailCodeOf(in, "byphone@example.com", "CHANGE_EMAIL")
		regPhone := func(emailCode string) *gqlAnswer {
			return c.gql(docs["registerByPhoneCode"], map[string]any{"input": map[string]any{"phone": "+8613700137000", "code": sc,
				"profile": map[string]any{"email": "byphone@example.com"}, "emailToken": emailCode}}, "")
		}
		regPhone(wrongFor(ec2)).wantCode(t, 2001)
		var bp phoneUser
		regPhone(ec2).field(t, "registerByPhoneCode", &bp)
		if deref(bp.Email) != "byphone@example.com" || !bp.EmailVerified || deref(bp.Phone) != "+8613700137000" {
			t.Fatalf("registerByPhoneCode with emailToken: %+v", bp)
		}
		in.Outbox.noLeak(t, code, newCode, oldCode, newMail, oldMail, pc, ec, rc, mc, sc, ec2)
	})
}
