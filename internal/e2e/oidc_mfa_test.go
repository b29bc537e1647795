package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// amrOf reads an ID token's amr.
func amrOfToken(t *testing.T, idt *gooidc.IDToken) string {
	t.Helper()
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return strings.Join(c.AMR, " ")
}

// mfaPage signs in by password through /oidc/auth and expects the
// second-factor page.
func mfaPage(t *testing.T, b *browser, rp *relyingParty, email string) (*authRequest, *page) {
	t.Helper()
	ar := rp.authURL(nil)
	p := b.signIn(b.get(ar.URL), email, "passw0rd!")
	if p.Location != "" || p.Status != 200 || !strings.Contains(p.Body, `id="mfa-totp-form"`) {
		t.Fatalf("no second-factor page (status %d, location %q):\n%s", p.Status, p.Location, p.Body)
	}
	if strings.Contains(p.URL.RawQuery, "mfa") {
		t.Fatalf("the MFA token is in the URL: %s", p.URL)
	}
	return ar, p
}

// TestOIDCMFATOTP: a user with TOTP signs in through /oidc/auth: the
// password answers the code page, the code completes the login once (one
// login count) and the ID token's amr says pwd, otp and mfa; a post of
// the code without the form's CSRF token is refused and does not spend an
// attempt; a code already used is refused (replay rule of the API).
func TestOIDCMFATOTP(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, uid := enrolTOTP(t, in, "mia@example.com")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		before := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount

		b := newBrowser(t, in)
		ar, p := mfaPage(t, b, rp, "mia@example.com")
		if got := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount; got != before {
			t.Fatalf("the password alone counted a login: %d -> %d", before, got)
		}
		if !strings.Contains(p.Body, `id="mfa-recovery-form"`) || strings.Contains(p.Body, `id="mfa-sms-form"`) {
			t.Fatalf("factors offered:\n%s", p.Body)
		}
		f := p.form(t, "mfa-totp-form")
		code := totpNow(t, in, secret)

		// Without the CSRF token, or with a wrong one: refused.
		noCSRF := &htmlForm{Action: f.Action, Fields: map[string][]string{}}
		for k, v := range f.Fields {
			if k != "csrf" {
				noCSRF.Fields[k] = v
			}
		}
		if r := b.submit(p, noCSRF, map[string]string{"code": code}); r.Status != 403 || r.Location != "" {
			t.Fatalf("CSRF-less post: status %d, location %q", r.Status, r.Location)
		}
		if r := b.submit(p, f, map[string]string{"code": code, "csrf": "x" + f.Fields.Get("csrf")}); r.Status != 403 || r.Location != "" {
			t.Fatalf("wrong CSRF token: status %d, location %q", r.Status, r.Location)
		}
		// Another browser (its own CSRF cookie) posting this form: refused.
		other := newBrowser(t, in)
		other.get(ar.URL)
		if r := other.submit(p, f, map[string]string{"code": code}); r.Status != 403 || r.Location != "" {
			t.Fatalf("another browser's post: status %d, location %q", r.Status, r.Location)
		}

		// The code that confirmed the enrolment (a step ago) is a replay.
		in.Clock.Advance(-30 * time.Second)
		used := totpNow(t, in, secret)
		in.Clock.Advance(30 * time.Second)
		r := b.submit(p, f, map[string]string{"code": used})
		if r.Location != "" || !strings.Contains(r.Body, `id="mfa-totp-form"`) || !strings.Contains(r.Body, "already used") {
			t.Fatalf("replayed code: status %d, location %q:\n%s", r.Status, r.Location, r.Body)
		}

		q := ar.callback(t, rp, b.submit(r, r.form(t, "mfa-totp-form"), map[string]string{"code": code}))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr %q, want \"pwd otp mfa\"", got)
		}
		if idt.Subject != uid {
			t.Errorf("sub %s, want %s", idt.Subject, uid)
		}
		if got := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount; got != before+1 {
			t.Errorf("logins count %d, want %d", got, before+1)
		}
		// The spent form completes nothing more.
		if r := b.submit(p, f, map[string]string{"code": code}); r.Location != "" {
			t.Fatalf("a spent MFA token signed in again: %s", r.Location)
		}

		// Single sign-on: the browser session keeps its amr.
		ar2 := rp.authURL(nil)
		q = ar2.callback(t, rp, b.get(ar2.URL))
		_, idt = rp.exchange(t, ar2, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr after SSO %q", got)
		}
	})
}

// TestOIDCMFAWrongCodes: the page's wrong codes count on the API's limit:
// after 5 the attempt is dead (back to the sign-in form), even the right
// code is refused; a new sign-in starts a new attempt.
func TestOIDCMFAWrongCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, _ := enrolTOTP(t, in, "kim@example.com")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ar, p := mfaPage(t, b, rp, "kim@example.com")
		right := totpNow(t, in, secret)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		first := p.form(t, "mfa-totp-form")
		for i := 1; i <= 5; i++ {
			p = b.submit(p, p.form(t, "mfa-totp-form"), map[string]string{"code": wrong})
			if p.Location != "" {
				t.Fatalf("wrong code %d signed in", i)
			}
			if i < 5 && (!strings.Contains(p.Body, `id="mfa-totp-form"`) || !strings.Contains(p.Body, "wrong")) {
				t.Fatalf("wrong code %d: status %d\n%s", i, p.Status, p.Body)
			}
		}
		// The fifth killed the attempt: the sign-in form says so.
		if strings.Contains(p.Body, `id="mfa-totp-form"`) || !strings.Contains(p.Body, `id="password-form"`) || !strings.Contains(p.Body, "too many wrong codes") {
			t.Fatalf("after 5 wrong codes: status %d\n%s", p.Status, p.Body)
		}
		if r := b.submit(p, first, map[string]string{"code": right}); r.Location != "" || strings.Contains(r.Body, `id="mfa-totp-form"`) {
			t.Fatalf("the right code on a dead attempt: status %d location %q", r.Status, r.Location)
		}
		// The five wrong codes count against the account as wrong passwords
		// do: the next password step asks for a CAPTCHA.
		if r := b.signIn(p, "kim@example.com", "passw0rd!"); strings.Contains(r.Body, `id="mfa-totp-form"`) || r.Location != "" {
			t.Fatalf("after 5 wrong second factors the password step gave the code page (status %d)", r.Status)
		}
		// Without failure detection the request itself is still usable: sign
		// in again; at the limit (four wrong codes) the right one passes.
		in.withoutFailureDetection(t)
		p = b.signIn(p, "kim@example.com", "passw0rd!")
		for range 4 {
			p = b.submit(p, p.form(t, "mfa-totp-form"), map[string]string{"code": wrong})
		}
		q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-totp-form"), map[string]string{"code": right}))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr %q", got)
		}
	})
}

// TestOIDCMFARecoveryCode: a recovery code completes the page's sign-in
// once; the same code later is refused, another works.
func TestOIDCMFARecoveryCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		_, codes, uid := enrolTOTP(t, in, "rey@example.com")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		b := newBrowser(t, in)
		ar, p := mfaPage(t, b, rp, "rey@example.com")
		q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-recovery-form"), map[string]string{"code": codes[0]}))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr %q", got)
		}

		b = newBrowser(t, in)
		ar, p = mfaPage(t, b, rp, "rey@example.com")
		p = b.submit(p, p.form(t, "mfa-recovery-form"), map[string]string{"code": codes[0]})
		if p.Location != "" || !strings.Contains(p.Body, `id="mfa-recovery-form"`) || !strings.Contains(p.Body, `<details open>`) {
			t.Fatalf("a used recovery code: status %d location %q\n%s", p.Status, p.Location, p.Body)
		}
		q = ar.callback(t, rp, b.submit(p, p.form(t, "mfa-recovery-form"), map[string]string{"code": codes[1]}))
		rp.exchange(t, ar, q.Get("code"))
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if st.RecoveryCodesLeft != 8 {
			t.Fatalf("%d recovery codes left, want 8", st.RecoveryCodesLeft)
		}
	})
}

// TestOIDCMFASMSAndEnrolment: the SMS factor's send button sends a code to
// the account's own phone and the code completes the sign-in (amr pwd,
// otp, sms, mfa); a user of a pool that requires MFA, without a factor, is
// shown the enrolment step (oidc_mfaenrol_test.go) and gets no code, in
// English and Chinese.
func TestOIDCMFASMSAndEnrolment(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "passw0rd!", nil, nil))
		in.Clock.Advance(61 * time.Second)
		must[*client.User](t)(c.LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil))
		must[*client.MFAStatus](t)(c.EnableMFAFactor(ctx, "sms"))
		setMFAPolicy(t, in, "optional")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p := b.signIn(b.get(ar.URL), cnPhone, "passw0rd!")
		if !strings.Contains(p.Body, `id="mfa-sms-form"`) || strings.Contains(p.Body, `id="mfa-totp-form"`) {
			t.Fatalf("no SMS step:\n%s", p.Body)
		}
		in.Clock.Advance(61 * time.Second)
		p = b.submit(p, p.form(t, "mfa-send-sms-form"), nil)
		if p.Status != 200 || !strings.Contains(p.Body, `id="mfa-code-sent"`) {
			t.Fatalf("send: status %d\n%s", p.Status, p.Body)
		}
		q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-sms-form"), map[string]string{"code": in.Outbox.code(t, cnPhone)}))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp sms mfa" {
			t.Errorf("amr %q, want \"pwd otp sms mfa\"", got)
		}

		// Required, no factor: the enrolment step; no code is issued.
		setMFAPolicy(t, in, "required")
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "new@example.com", "passw0rd!", nil, nil))
		for _, lang := range []string{"en", "zh-CN"} {
			b = newBrowser(t, in)
			b.lang = lang
			ar = rp.authURL(nil)
			p = b.signIn(b.get(ar.URL), "new@example.com", "passw0rd!")
			want := map[string]string{"en": "This account must use two-step verification", "zh-CN": "该账号必须使用二次验证"}[lang]
			if p.Location != "" || p.Status != 200 || !strings.Contains(p.Body, want) || !strings.Contains(p.Body, `id="mfa-enrol-form"`) {
				t.Fatalf("%s: enrolment needed: status %d location %q\n%s", lang, p.Status, p.Location, p.Body)
			}
		}
	})
}

// TestOIDCMFAACRValues: in a pool whose MFA policy is off, a TOTP user
// signs in with the password alone (amr pwd, no acr); acr_values=mfa (or
// the PAPE multi-factor URI) makes the page ask for the second factor — a
// one-factor browser session does not answer it — and the ID token says
// acr and amr; a user without a factor enrols on the page and gets them too.
func TestOIDCMFAACRValues(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		secret, _, _ := enrolTOTP(t, in, "ada@example.com")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		b := newBrowser(t, in)
		_, idt := b.codeFlow(rp, nil, "ada@example.com", "passw0rd!")
		var c struct {
			ACR string `json:"acr"`
		}
		_ = idt.Claims(&c)
		if got := amrOfToken(t, idt); got != "pwd" || c.ACR != "" {
			t.Fatalf("policy off: amr %q acr %q", got, c.ACR)
		}

		for _, acr := range []string{"mfa", "http://schemas.openid.net/pape/policies/2007/06/multi-factor"} {
			// The browser's one-factor session is not enough: the form again.
			ar := rp.authURL(nil, oauth2.SetAuthURLParam("acr_values", "urn:other "+acr))
			p := b.get(ar.URL)
			if p.Location != "" || !strings.Contains(p.Body, `id="password-form"`) {
				t.Fatalf("acr %s: a one-factor session answered (status %d location %q)", acr, p.Status, p.Location)
			}
			p = b.signIn(p, "ada@example.com", "passw0rd!")
			in.Clock.Advance(30 * time.Second)
			q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-totp-form"), map[string]string{"code": totpNow(t, in, secret)}))
			_, idt = rp.exchange(t, ar, q.Get("code"))
			c.ACR = ""
			_ = idt.Claims(&c)
			if got := amrOfToken(t, idt); got != "pwd otp mfa" || c.ACR != acr {
				t.Fatalf("acr_values %s: amr %q acr %q", acr, got, c.ACR)
			}
			// Now the two-factor session answers at once.
			ar = rp.authURL(nil, oauth2.SetAuthURLParam("acr_values", acr))
			q = ar.callback(t, rp, b.get(ar.URL))
			rp.exchange(t, ar, q.Get("code"))
			b = newBrowser(t, in)
		}

		// Without a factor: the enrolment step, which ends with acr mfa.
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "bo@example.com", "passw0rd!", nil, nil))
		ar := rp.authURL(nil, oauth2.SetAuthURLParam("acr_values", "mfa"))
		p, boSecret := enrolPage(t, b, ar, "bo@example.com")
		p = b.submit(p, p.form(t, "mfa-enrol-form"), map[string]string{"code": totpNow(t, in, boSecret)})
		q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-recovery-saved-form"), nil))
		_, idt = rp.exchange(t, ar, q.Get("code"))
		c.ACR = ""
		_ = idt.Claims(&c)
		if got := amrOfToken(t, idt); got != "pwd otp mfa" || c.ACR != "mfa" {
			t.Fatalf("enrolled for acr_values mfa: amr %q acr %q", got, c.ACR)
		}
	})
}

// TestOIDCMFABadInput: the worst values a browser can post to the
// second-factor forms are refused without a sign-in or a server error.
func TestOIDCMFABadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, _ := enrolTOTP(t, in, "eve@example.com")
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ar, p := mfaPage(t, b, rp, "eve@example.com")
		f := p.form(t, "mfa-totp-form")
		big := strings.Repeat("A", 15<<10)
		for _, set := range []map[string]string{
			{"mfaToken": ""}, {"mfaToken": big}, {"mfaToken": "not-a-token"}, {"mfaToken": "a.b.c"},
			{"kind": "face"}, {"kind": "<script>"}, {"kind": ""}, {"kind": "sms"}, {"code": ""}, {"code": big},
			{"code": "12345\x00"}, {"authRequestID": "nope"}, {"authRequestID": big},
		} {
			if _, ok := set["code"]; !ok {
				set["code"] = "000000"
			}
			r := b.submit(p, f, set)
			if r.Location != "" || r.Status >= 500 || r.Status < 400 || strings.Contains(r.Body, "<script>") {
				t.Fatalf("%.40v: status %d location %q", set, r.Status, r.Location)
			}
		}
		// Past the form's size bound: refused.
		if r := b.submit(p, f, map[string]string{"code": strings.Repeat("1", 17<<10)}); r.Location != "" || r.Status < 400 || r.Status >= 500 {
			t.Fatalf("oversized form: status %d", r.Status)
		}
		// The send button for a factor the user does not have.
		if r := b.submit(p, &htmlForm{Action: "/oidc/login/mfa/code", Fields: f.Fields}, map[string]string{"kind": "sms"}); r.Status < 400 || r.Status >= 500 || r.Location != "" {
			t.Fatalf("send for an unenrolled factor: status %d", r.Status)
		}
		// Bad posts with the live token spent some of its 5 attempts; a
		// fresh attempt still signs in.
		p = b.signIn(b.get(ar.URL), "eve@example.com", "passw0rd!")
		in.Clock.Advance(30 * time.Second)
		q := ar.callback(t, rp, b.submit(p, p.form(t, "mfa-totp-form"), map[string]string{"code": totpNow(t, in, secret)}))
		rp.exchange(t, ar, q.Get("code"))
	})
}
