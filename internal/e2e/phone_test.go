package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/userpool"
)

// Phone numbers of the tests: valid numbers in two regions (libphonenumber
// checks the ranges), written in several ways.
const (
	cnPhone  = "+8613800138000"
	cnPhone2 = "+8613900139000"
	usPhone  = "+12015550123"
	usPhone2 = "+12015550124"
)

// codeConfig is testConfig with sending limits a test can live with: every
// request comes from 127.0.0.1, so the per-IP limits would be shared by the
// whole test. Tests of the limits set their own.
func codeConfig(dbURL string) config.Config {
	cfg := testConfig(dbURL)
	cfg.SMSIPPerHour = 1000
	cfg.EmailIPPerHour = 1000
	return cfg
}

// sms sends a code to phone and returns it, as a developer would read it
// from the console sender's log line.
func sms(t *testing.T, in *instance, phone string) string {
	t.Helper()
	if err := in.client().SendSmsCode(context.Background(), phone); err != nil {
		t.Fatalf("SendSmsCode(%s): %v", phone, err)
	}
	return in.Outbox.code(t, phone)
}

func TestPhoneRegisterAndLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()

		for _, bad := range []string{"12345", "+86 1380013800099999", "not a phone", "+1 201-555-0123 ext. 7"} {
			wantCode(t, c.SendSmsCode(ctx, bad), 2028)
		}
		if n := len(in.Outbox.sentTo(cnPhone)); n != 0 {
			t.Fatalf("%d messages for invalid numbers", n)
		}

		// A local number (default region CN) is the same as its E.164 form.
		if err := c.SendSmsCode(ctx, "138 0013 8000"); err != nil {
			t.Fatal(err)
		}
		code := in.Outbox.code(t, cnPhone)
		if len(code) != 6 {
			t.Fatalf("code %q is not 6 digits", code)
		}
		_, err := c.RegisterByPhoneCode(ctx, cnPhone, "000000", "", nil, nil)
		wantCode(t, err, 2001)
		// A password that the policy refuses does not spend the code.
		_, err = c.RegisterByPhoneCode(ctx, cnPhone, code, "short", nil, nil)
		wantCode(t, err, 2029)
		u, err := c.RegisterByPhoneCode(ctx, "+86 138-0013-8000", code, "", &client.RegisterProfile{Nickname: "Li"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if u.Phone != cnPhone || !u.PhoneVerified || u.Nickname != "Li" || u.Token != "" || u.Email != "" {
			t.Fatalf("registered by phone: %+v", u)
		}
		_, err = c.LoginByPhoneCode(ctx, cnPhone, code, nil)
		wantCode(t, err, 2001) // spent

		// No password yet: password login fails; the code logs in.
		_, err = c.LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil)
		wantCode(t, err, 2006)
		in.Clock.Advance(61 * time.Second)
		li, err := c.LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil)
		if err != nil {
			t.Fatal(err)
		}
		if li.ID != u.ID || li.NewlyCreated || li.Token == "" || li.LoginsCount != 1 {
			t.Fatalf("login by code: %+v", li)
		}
		// The user sets a password without an old one, then logs in with it.
		must[*client.User](t)(c.UpdatePassword(ctx, "passw0rd!", ""))
		lp, err := in.client().LoginByPhonePassword(ctx, "13800138000", "passw0rd!", nil)
		if err != nil || lp.ID != u.ID {
			t.Fatalf("login by phone and password: %v %+v", err, lp)
		}
		_, err = in.client().LoginByPhonePassword(ctx, cnPhone, "wrong-passw0rd", nil)
		wantCode(t, err, 2006)
		_, err = in.client().LoginByPhonePassword(ctx, usPhone2, "passw0rd!", nil)
		wantCode(t, err, 2004)
		_, err = in.client().LoginByPhonePassword(ctx, usPhone2, "passw0rd!", &client.LoginOptions{AutoRegister: true})
		wantCode(t, err, 1003)
		_, err = in.client().LoginByPhonePassword(ctx, "nonsense", "passw0rd!", nil)
		wantCode(t, err, 2028)

		// The phone is taken now.
		in.Clock.Advance(61 * time.Second)
		_, err = c.RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "", nil, nil)
		wantCode(t, err, 2026)

		// Registration with a password and forceLogin.
		r, err := in.client().RegisterByPhoneCode(ctx, usPhone, sms(t, in, usPhone), "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Token == "" || r.LoginsCount != 1 || r.Phone != usPhone {
			t.Fatalf("register with forceLogin: %+v", r)
		}
		must[*client.User](t)(in.client().LoginByPhonePassword(ctx, "+1 (201) 555-0123", "passw0rd!", nil))
	})
}

func TestLoginByPhoneCodeCreatesAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		u, err := c.LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !u.NewlyCreated || u.Token == "" || !u.PhoneVerified || u.LoginsCount != 1 {
			t.Fatalf("first login by code: %+v", u)
		}
		in.Clock.Advance(61 * time.Second)
		again, err := in.client().LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil)
		if err != nil || again.NewlyCreated || again.ID != u.ID || again.LoginsCount != 2 {
			t.Fatalf("second login by code: %v %+v", err, again)
		}
		_, err = c.LoginByPhoneCode(ctx, usPhone2, "123456", nil)
		wantCode(t, err, 2001) // no code was sent

		// A pool closed to phone registration logs in known phones only.
		if _, err := in.Srv.Store().UpdatePool(ctx, in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
			p.Settings.RegisterByPhone = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = c.LoginByPhoneCode(ctx, usPhone2, sms(t, in, usPhone2), nil)
		wantCode(t, err, 1009)
		_, err = c.RegisterByPhoneCode(ctx, cnPhone2, sms(t, in, cnPhone2), "", nil, nil)
		wantCode(t, err, 1009)
		in.Clock.Advance(61 * time.Second)
		must[*client.User](t)(c.LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil))

		// A phone stored unverified (by an administrator, say) is verified
		// by its first code login.
		if err := in.Srv.Store().CreateUser(ctx, &userpool.User{PoolID: u.UserPoolID, Phone: cnPhone, CreatedAt: in.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if v := must[*client.User](t)(in.client().LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil)); !v.PhoneVerified || v.NewlyCreated {
			t.Fatalf("login to an unverified phone: %+v", v)
		}

		// A blocked user cannot log in by code.
		if _, err := in.Srv.Store().UpdateUser(ctx, u.UserPoolID, u.ID, func(x *userpool.User) error { x.Blocked = true; return nil }); err != nil {
			t.Fatal(err)
		}
		in.Clock.Advance(61 * time.Second)
		_, err = c.LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil)
		wantCode(t, err, 2057)
	})
}

func TestResetPasswordByPhoneCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		other := in.client()
		must[*client.User](t)(other.LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil))

		in.Clock.Advance(61 * time.Second)
		code := sms(t, in, cnPhone)
		wantCode(t, c.ResetPasswordByPhoneCode(ctx, cnPhone, "111111", "n3w-passw0rd"), 2001)
		wantCode(t, c.ResetPasswordByPhoneCode(ctx, cnPhone, code, "short"), 2029)
		wantCode(t, c.ResetPasswordByPhoneCode(ctx, "bogus", code, "n3w-passw0rd"), 2028)
		if err := c.ResetPasswordByPhoneCode(ctx, "13800138000", code, "n3w-passw0rd"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, c.ResetPasswordByPhoneCode(ctx, cnPhone, code, "an0ther-passw0rd"), 2001) // spent

		// Every session of the user ended.
		for _, tok := range []string{u.Token, other.Token()} {
			st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, tok))
			if st.Status || st.Code != 2207 {
				t.Fatalf("a session survived the reset: %+v", st)
			}
		}
		_, err := in.client().LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil)
		wantCode(t, err, 2006)
		must[*client.User](t)(in.client().LoginByPhonePassword(ctx, cnPhone, "n3w-passw0rd", nil))

		// A phone without an account: the code is right, the user missing.
		wantCode(t, c.ResetPasswordByPhoneCode(ctx, usPhone, sms(t, in, usPhone), "n3w-passw0rd"), 2004)
	})
}

func TestBindAndUnbindPhone(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "bind@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		// Someone else holds usPhone2.
		must[*client.User](t)(in.client().RegisterByPhoneCode(ctx, usPhone2, sms(t, in, usPhone2), "", nil, nil))

		_, err := c.UnbindPhone(ctx)
		wantCode(t, err, 2219)
		_, err = c.BindPhone(ctx, usPhone, "123456")
		wantCode(t, err, 2001)
		_, err = c.BindPhone(ctx, "garbage", "123456")
		wantCode(t, err, 2028)
		in.Clock.Advance(61 * time.Second)
		_, err = c.BindPhone(ctx, usPhone2, sms(t, in, usPhone2))
		wantCode(t, err, 2026)

		b, err := c.BindPhone(ctx, "+1 201 555 0123", sms(t, in, usPhone))
		if err != nil {
			t.Fatal(err)
		}
		if b.Phone != usPhone || !b.PhoneVerified || b.Email != "bind@example.com" || b.Token != c.Token() {
			t.Fatalf("after BindPhone: %+v", b)
		}
		in.Clock.Advance(61 * time.Second)
		_, err = c.BindPhone(ctx, cnPhone, sms(t, in, cnPhone))
		ce := wantCode(t, err, 2035)
		if ce.Reason != "phone_already_bound" || ce.HTTPStatus != 409 {
			t.Fatalf("2035: %+v", ce)
		}
		// The email remains a way to log in: the phone may go.
		ub, err := c.UnbindPhone(ctx)
		if err != nil || ub.Phone != "" || ub.PhoneVerified {
			t.Fatalf("UnbindPhone: %v %+v", err, ub)
		}
		me := must[*client.User](t)(c.GetCurrentUser(ctx))
		if me.Phone != "" {
			t.Fatal("phone still bound")
		}

		// For an account that has only its phone, unbinding is refused.
		p := in.client()
		in.Clock.Advance(61 * time.Second)
		must[*client.User](t)(p.LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil))
		_, err = p.UnbindPhone(ctx)
		ce = wantCode(t, err, 2217)
		if ce.Reason != "last_login_method" {
			t.Fatalf("2217: %+v", ce)
		}

		anon := in.client()
		_, err = anon.BindPhone(ctx, usPhone, "123456")
		wantCode(t, err, 2020)
		_, err = anon.UnbindPhone(ctx)
		wantCode(t, err, 2020)
	})
}

func TestUpdatePhone(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		must[*client.User](t)(c.LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil))
		in.Clock.Advance(61 * time.Second)

		newCode, oldCode := sms(t, in, usPhone), sms(t, in, cnPhone)
		_, err := c.UpdatePhone(ctx, usPhone, newCode, "", "")
		ce := wantCode(t, err, 2227)
		if ce.Reason != "old_phone_required" {
			t.Fatalf("2227: %+v", ce)
		}
		_, err = c.UpdatePhone(ctx, usPhone, newCode, cnPhone2, oldCode)
		wantCode(t, err, 2038)
		_, err = c.UpdatePhone(ctx, cnPhone, oldCode, cnPhone, oldCode)
		wantCode(t, err, 2230)
		_, err = c.UpdatePhone(ctx, "nope", newCode, cnPhone, oldCode)
		wantCode(t, err, 2028)
		// A wrong old code spends neither code.
		_, err = c.UpdatePhone(ctx, usPhone, newCode, cnPhone, "999999")
		wantCode(t, err, 2001)
		_, err = c.UpdatePhone(ctx, usPhone, "999999", cnPhone, oldCode)
		wantCode(t, err, 2001)
		up, err := c.UpdatePhone(ctx, usPhone, newCode, "138 0013 8000", oldCode)
		if err != nil {
			t.Fatal(err)
		}
		if up.Phone != usPhone || !up.PhoneVerified {
			t.Fatalf("after UpdatePhone: %+v", up)
		}
		in.Clock.Advance(61 * time.Second)
		li := must[*client.User](t)(in.client().LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil))
		if li.ID != up.ID || li.NewlyCreated {
			t.Fatalf("login with the new phone: %+v", li)
		}

		// The pool setting off: the new phone's code is enough.
		if _, err := in.Srv.Store().UpdatePool(ctx, in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
			p.Settings.VerifyOldPhone = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		up, err = c.UpdatePhone(ctx, cnPhone2, sms(t, in, cnPhone2), "", "")
		if err != nil || up.Phone != cnPhone2 {
			t.Fatalf("UpdatePhone without the old phone: %v %+v", err, up)
		}

		// Without a phone: use BindPhone.
		e := in.client()
		must[*client.User](t)(e.RegisterByEmail(ctx, "nophone@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		in.Clock.Advance(61 * time.Second)
		_, err = e.UpdatePhone(ctx, usPhone2, sms(t, in, usPhone2), "", "")
		ce = wantCode(t, err, 2219)
		if ce.Reason != "phone_not_bound" {
			t.Fatalf("2219: %+v", ce)
		}
		// Taken by another user.
		in.Clock.Advance(61 * time.Second)
		_, err = e.BindPhone(ctx, cnPhone2, sms(t, in, cnPhone2))
		wantCode(t, err, 2026)
		_, err = in.client().UpdatePhone(ctx, usPhone, "123456", "", "")
		wantCode(t, err, 2020)
	})
}
