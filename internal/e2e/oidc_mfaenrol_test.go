package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authpool/authpool/client"
)

var enrolSecretRE = regexp.MustCompile(`id="mfa-enrol-secret">([A-Z2-7]+)<`)

// enrolPage signs in by password through /oidc/auth and expects the
// enrolment step; it returns the page and the secret it shows.
func enrolPage(t *testing.T, b *browser, ar *authRequest, email string) (*page, string) {
	t.Helper()
	p := b.signIn(b.get(ar.URL), email, "passw0rd!")
	if p.Location != "" || p.Status != 200 || !strings.Contains(p.Body, `id="mfa-enrol-form"`) ||
		!strings.Contains(p.Body, `src="data:image/png;base64,`) {
		t.Fatalf("no enrolment step (status %d, location %q):\n%s", p.Status, p.Location, p.Body)
	}
	if strings.Contains(p.URL.RawQuery, "mfa") {
		t.Fatalf("the MFA token is in the URL: %s", p.URL)
	}
	m := enrolSecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the enrolment step:\n%s", p.Body)
	}
	return p, m[1]
}

// codeAt is the authenticator app's code of secret at the server's time
// (pquerna/otp, as an app computes it).
func codeAt(t *testing.T, in *instance, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, in.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOIDCMFAEnrolHosted: in a pool that requires MFA, a user without a
// factor signs in through /oidc/auth (a third-party app: consent) and
// enrols an authenticator app on the page. A post without the CSRF token
// is refused and spends no attempt; a wrong code shows the same secret
// and the attempts left; another user's MFA token (who has a factor) or a
// made-up one cannot enrol; the right code shows ten recovery codes once
// (they work), "I saved them" goes on to consent and the app, and the ID
// token's amr is pwd otp mfa; the spent token enrols nothing more.
func TestOIDCMFAEnrolHosted(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		_, _, otherID := enrolTOTP(t, in, "has@example.com") // enrolled before the policy
		setMFAPolicy(t, in, "required")
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, "new@example.com", "passw0rd!", nil, nil)).ID
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop"})

		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p, secret := enrolPage(t, b, ar, "new@example.com")
		f := p.form(t, "mfa-enrol-form")
		if f.Fields.Get("mfaToken") == "" || f.Fields.Get("csrf") == "" {
			t.Fatalf("enrolment form fields: %v", f.Fields)
		}
		right := codeAt(t, in, secret)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}

		// Without the CSRF token, or from another browser: refused, no attempt spent.
		noCSRF := &htmlForm{Action: f.Action, Fields: map[string][]string{}}
		for k, v := range f.Fields {
			if k != "csrf" {
				noCSRF.Fields[k] = v
			}
		}
		for range 6 {
			if r := b.submit(p, noCSRF, map[string]string{"code": wrong}); r.Status != 403 || r.Location != "" {
				t.Fatalf("CSRF-less post: status %d, location %q", r.Status, r.Location)
			}
		}
		other := newBrowser(t, in)
		other.get(ar.URL)
		if r := other.submit(p, f, map[string]string{"code": right}); r.Status != 403 || r.Location != "" || strings.Contains(r.Body, "mfa-recovery-codes") {
			t.Fatalf("another browser's post: status %d, location %q", r.Status, r.Location)
		}

		// A wrong code: the same secret again, 4 attempts left.
		r := b.submit(p, f, map[string]string{"code": wrong})
		if r.Location != "" || !strings.Contains(r.Body, `id="mfa-enrol-form"`) || !strings.Contains(r.Body, "wrong") {
			t.Fatalf("wrong code: status %d, location %q\n%s", r.Status, r.Location, r.Body)
		}
		if m := enrolSecretRE.FindStringSubmatch(r.Body); m == nil || m[1] != secret {
			t.Fatalf("the secret changed after a wrong code: %v, want %s", m, secret)
		}
		if !regexp.MustCompile(`id="mfa-attempts-left">[^<]*<strong>4</strong>`).MatchString(r.Body) {
			t.Fatalf("attempts left not shown as 4:\n%s", r.Body)
		}
		// An empty code spends nothing and keeps the secret.
		if e := b.submit(r, r.form(t, "mfa-enrol-form"), map[string]string{"code": " "}); e.Location != "" || !strings.Contains(e.Body, secret) {
			t.Fatalf("empty code: status %d\n%s", e.Status, e.Body)
		}

		// Another user's MFA token (one who has a factor): no enrolment.
		_, otherTok := mfaLogin(t, in, "has@example.com")
		if x := b.submit(r, r.form(t, "mfa-enrol-form"), map[string]string{"mfaToken": otherTok, "code": right}); x.Location != "" ||
			strings.Contains(x.Body, "mfa-recovery-codes") || !strings.Contains(x.Body, `id="password-form"`) || !strings.Contains(x.Body, "already set up") {
			t.Fatalf("another user's MFA token: status %d, location %q\n%s", x.Status, x.Location, x.Body)
		}
		if st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", otherID)); st.RecoveryCodesLeft != 10 || len(st.Factors) != 1 {
			t.Fatalf("the other user's factors changed: %+v", st)
		}
		// A made-up token, and an over-long one: the sign-in form, nothing enrolled.
		for _, tok := range []string{"nope", strings.Repeat("a", 5000)} {
			if x := b.submit(r, r.form(t, "mfa-enrol-form"), map[string]string{"mfaToken": tok, "code": right}); x.Location != "" ||
				!strings.Contains(x.Body, `id="password-form"`) || strings.Contains(x.Body, "mfa-recovery-codes") {
				t.Fatalf("made-up MFA token: status %d\n%s", x.Status, x.Body)
			}
		}

		// The right code: ten recovery codes, shown once; still at the server.
		r = b.submit(r, r.form(t, "mfa-enrol-form"), map[string]string{"code": right})
		if r.Location != "" || r.Status != 200 {
			t.Fatalf("right code: status %d, location %q\n%s", r.Status, r.Location, r.Body)
		}
		codes := regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`).FindAllStringSubmatch(r.Body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown:\n%s", len(codes), r.Body)
		}
		// The spent MFA token enrols nothing more.
		if x := b.submit(p, f, map[string]string{"code": right}); x.Location != "" || strings.Contains(x.Body, "mfa-recovery-codes") {
			t.Fatalf("a spent MFA token: status %d, location %q", x.Status, x.Location)
		}
		// "I saved them": not without the CSRF token, not from a browser without the session.
		saved := r.form(t, "mfa-recovery-saved-form")
		if x := b.submit(r, &htmlForm{Action: saved.Action, Fields: map[string][]string{"authRequestID": saved.Fields["authRequestID"]}}, nil); x.Status != 403 || x.Location != "" {
			t.Fatalf("I saved them without CSRF: status %d, location %q", x.Status, x.Location)
		}
		if x := other.submit(r, saved, nil); x.Status != 403 || x.Location != "" || strings.Contains(x.Body, "consent-form") {
			t.Fatalf("I saved them from another browser: status %d, location %q", x.Status, x.Location)
		}
		// ... even with that browser's own CSRF token: it has no session.
		otherCSRF := other.get(ar.URL).form(t, "password-form").Fields.Get("csrf")
		if x := other.submit(r, saved, map[string]string{"csrf": otherCSRF}); x.Status != 403 || x.Location != "" || strings.Contains(x.Body, "consent-form") {
			t.Fatalf("I saved them from a browser without the session: status %d, location %q", x.Status, x.Location)
		}
		c := b.submit(r, saved, nil)
		if !strings.Contains(c.Body, `id="consent-form"`) {
			t.Fatalf("no consent after the enrolment: status %d, location %q\n%s", c.Status, c.Location, c.Body)
		}
		q := ar.callback(t, rp, b.consent(c, "allow"))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr %q, want \"pwd otp mfa\"", got)
		}
		if idt.Subject != uid {
			t.Errorf("sub %s, want %s", idt.Subject, uid)
		}
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if st.RecoveryCodesLeft != 10 || len(st.Factors) != 1 || !st.Factors[0].Confirmed {
			t.Fatalf("after the enrolment: %+v", st)
		}
		// The codes shown are the ones that work.
		_, tok := mfaLogin(t, in, "new@example.com")
		must[*client.User](t)(in.client().VerifyRecoveryCode(ctx, tok, codes[3][1]))
	})
}

// TestOIDCMFAEnrolWrongCodes: five wrong first codes kill the attempt (the
// sign-in form says so), even the right code is refused then, and the
// account's failure count is charged; a new sign-in shows a new secret.
func TestOIDCMFAEnrolWrongCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "required")
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, "kim@example.com", "passw0rd!", nil, nil)).ID
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p, secret := enrolPage(t, b, ar, "kim@example.com")
		first := p.form(t, "mfa-enrol-form")
		right := codeAt(t, in, secret)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 5; i++ {
			p = b.submit(p, p.form(t, "mfa-enrol-form"), map[string]string{"code": wrong})
			if p.Location != "" {
				t.Fatalf("wrong code %d signed in", i)
			}
			if i < 5 && !regexp.MustCompile(`<strong>`+string(rune('0'+5-i))+`</strong>`).MatchString(p.Body) {
				t.Fatalf("wrong code %d: attempts left not shown\n%s", i, p.Body)
			}
		}
		if strings.Contains(p.Body, `id="mfa-enrol-form"`) || !strings.Contains(p.Body, `id="password-form"`) || !strings.Contains(p.Body, "too many wrong codes") {
			t.Fatalf("after 5 wrong codes: status %d\n%s", p.Status, p.Body)
		}
		if r := b.submit(p, first, map[string]string{"code": right}); r.Location != "" || strings.Contains(r.Body, "mfa-recovery-codes") {
			t.Fatalf("the right code on a dead attempt: status %d location %q", r.Status, r.Location)
		}
		if st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid)); len(st.Factors) != 1 || st.Factors[0].Confirmed {
			t.Fatalf("a dead attempt confirmed the factor: %+v", st)
		}
		// The five wrong codes count against the account as wrong passwords
		// do: the next password step asks for a CAPTCHA, not the enrolment.
		if r := b.signIn(p, "kim@example.com", "passw0rd!"); strings.Contains(r.Body, `id="mfa-enrol-form"`) || r.Location != "" {
			t.Fatalf("after 5 wrong first codes the password step gave the enrolment (status %d)", r.Status)
		}
		// Without failure detection: a new sign-in shows a new secret; at
		// the limit (4 wrong) the right code passes.
		in.withoutFailureDetection(t)
		p, secret2 := enrolPage(t, b, ar, "kim@example.com")
		if secret2 == secret {
			t.Fatal("a new sign-in showed the old secret")
		}
		for range 4 {
			p = b.submit(p, p.form(t, "mfa-enrol-form"), map[string]string{"code": wrong})
		}
		in.Clock.Advance(30 * time.Second)
		r := b.submit(p, p.form(t, "mfa-enrol-form"), map[string]string{"code": codeAt(t, in, secret2)})
		q := ar.callback(t, rp, b.submit(r, r.form(t, "mfa-recovery-saved-form"), nil))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd otp mfa" {
			t.Errorf("amr %q", got)
		}
	})
}

// TestOIDCMFAEnrolAccountSignIn: the account page's own sign-in (no OIDC
// request) enrols too, and "I saved them" lands on the account page with
// the authenticator app on.
func TestOIDCMFAEnrolAccountSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "required")
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "acc@example.com", "passw0rd!", nil, nil))
		b := newBrowser(t, in)
		p := b.get(oidcIssuer(in, "") + "/account")
		if p.URL.Query().Get("authRequestID") != "account" {
			t.Fatalf("the account page without a session: %d %s", p.Status, p.URL)
		}
		p = b.signIn(p, "acc@example.com", "passw0rd!")
		m := enrolSecretRE.FindStringSubmatch(p.Body)
		if m == nil || !strings.Contains(p.Body, `id="mfa-enrol-form"`) {
			t.Fatalf("no enrolment step: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		p = b.submit(p, p.form(t, "mfa-enrol-form"), map[string]string{"code": codeAt(t, in, m[1])})
		p = b.submit(p, p.form(t, "mfa-recovery-saved-form"), nil)
		if p.Status != 200 || !strings.HasSuffix(p.URL.Path, "/account") || !strings.Contains(p.Body, `id="totp-on"`) {
			t.Fatalf("after the enrolment: %d %s\n%s", p.Status, p.URL, p.Body)
		}
	})
}
