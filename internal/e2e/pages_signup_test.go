package e2e

// The hosted user pages (docs/PAGES.md): sign-up, forgot password and
// email verification, driven as a browser would (forms parsed, CSRF
// tokens posted) against a real server; the browser tests in
// pages_browser_test.go walk the same flows in Chromium.

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// link finds the href of the first <a> whose href contains part.
func (p *page) link(t testing.TB, part string) string {
	t.Helper()
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(p.Body, -1) {
		if h := html.UnescapeString(m[1]); strings.Contains(h, part) {
			u, err := p.URL.Parse(h)
			if err != nil {
				t.Fatal(err)
			}
			return u.String()
		}
	}
	t.Fatalf("no link with %q on the page (status %d):\n%s", part, p.Status, p.Body)
	return ""
}

// mailLink is the http link in the last mail to addr.
func mailLink(t testing.TB, in *instance, addr, scene string) *url.URL {
	t.Helper()
	m := in.Outbox.last(t, addr)
	if m.Scene != scene {
		t.Fatalf("last mail to %s is for %s, not %s", addr, m.Scene, scene)
	}
	u, err := url.Parse(regexp.MustCompile(`http://\S+`).FindString(m.Text))
	if err != nil || u.Host == "" {
		t.Fatalf("no link in the mail: %q", m.Text)
	}
	return u
}

func wantPage(t testing.TB, p *page, status int, parts ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d (at %s):\n%s", p.Status, status, p.URL, p.Body)
	}
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("the page (%d at %s) lacks %q:\n%s", p.Status, p.URL, s, p.Body)
		}
	}
}

// TestPagesSignupByEmail: from an application's sign-in, "Create an
// account" → the password rules refuse weak passwords with the rule that
// failed → the account is created, the browser signed in and sent back
// to the application with a code; the VERIFY_EMAIL mail's link opens the
// verification page: confirmed, then already confirmed.
func TestPagesSignupByEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p := b.get(ar.URL)
		p = b.get(p.link(t, "/signup?authRequestID="))
		wantPage(t, p, http.StatusOK, "Create your account", "have at least 8 characters", `id="password-rules"`, "signup.js")
		if !strings.Contains(p.link(t, "/login?"), "authRequestID=") {
			t.Fatal("the sign-up page does not lead back to this sign-in")
		}
		email := "ada.lovelace@example.com"
		f := p.form(t, "signup-form")
		for _, c := range []struct{ pw, want string }{
			{"short1!", "too short: it needs at least 8 characters"},
			{"my-ada.lovelace-pw", "must not contain your username"},
			{"password123", "among the most common"},
			{strings.Repeat("é", 129), "too long"},
		} {
			bad := b.submit(p, f, map[string]string{"email": email, "password": c.pw})
			wantPage(t, bad, http.StatusBadRequest, c.want)
			if strings.Contains(bad.Body, c.pw) {
				t.Fatal("the page repeats the password")
			}
		}
		p = b.submit(p, f, map[string]string{"email": email, "password": oidcPassword})
		q := ar.callback(t, rp, p)
		_, idt := rp.exchange(t, ar, q.Get("code"))
		me := must[*client.User](t)(in.client().LoginByEmail(ctx, email, oidcPassword, nil))
		if idt.Subject != me.ID || me.EmailVerified {
			t.Fatalf("subject %s, user %+v", idt.Subject, me)
		}
		// The same address again: the page says it is taken.
		p = b.get(newBrowser(t, in).get(rp.authURL(nil).URL).link(t, "/signup?"))
		wantPage(t, b.submit(p, p.form(t, "signup-form"), map[string]string{"email": email, "password": oidcPassword}),
			http.StatusBadRequest, "An account with these details exists already.")

		// The verification mail leads to this pool's page.
		link := mailLink(t, in, email, "VERIFY_EMAIL")
		if link.Path != "/oidc/verify-email" || link.Query().Get("email") != email {
			t.Fatalf("link %s", link)
		}
		wantPage(t, b.get(link.String()), http.StatusOK, "Email address confirmed")
		if u := must[*client.User](t)(in.client().LoginByEmail(ctx, email, oidcPassword, nil)); !u.EmailVerified {
			t.Fatal("not verified by the link")
		}
		p = b.get(link.String())
		wantPage(t, p, http.StatusOK, "Already confirmed")
		if p.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("headers %v", p.Header)
		}
		// Signed in (the sign-up's session): the status page says so.
		wantPage(t, b.get(in.URL+"/oidc/verify-email"), http.StatusOK, "ada.lovelace@example.com is confirmed")
		in.Outbox.noLeak(t, in.Outbox.last(t, email).Code)
	})
}

// TestPagesVerifyEmail: a link whose code expired says so; a signed-in
// user whose address is not confirmed asks for a new mail, whose link
// works; a wrong code is refused without confirming.
func TestPagesVerifyEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		email := "grace@example.com"
		b := newBrowser(t, in)
		p := b.get(in.URL + "/oidc/signup?method=email")
		p = b.submit(p, p.form(t, "signup-form"), map[string]string{"email": email, "password": oidcPassword})
		wantPage(t, p, http.StatusOK, "Your account is ready")
		link := mailLink(t, in, email, "VERIFY_EMAIL")

		bad := *link
		q := bad.Query()
		q.Set("code", wrongFor(q.Get("code")))
		bad.RawQuery = q.Encode()
		wantPage(t, b.get(bad.String()), http.StatusBadRequest, "The code is not correct.")

		in.Clock.Advance(11 * time.Minute)
		wantPage(t, b.get(link.String()), http.StatusBadRequest, "This link has expired")
		p = b.get(in.URL + "/oidc/verify-email")
		wantPage(t, p, http.StatusOK, "is not confirmed yet")
		p = b.submit(p, p.form(t, "verify-send-form"), nil)
		wantPage(t, p, http.StatusOK, "A new mail is on its way")
		// The mail limit of the API applies, and the page says when to
		// come back.
		p = b.submit(p, p.form(t, "verify-send-form"), nil)
		wantPage(t, p, http.StatusTooManyRequests, "Try again in")
		wantPage(t, b.get(mailLink(t, in, email, "VERIFY_EMAIL").String()), http.StatusOK, "Email address confirmed")
		if u := must[*client.User](t)(in.client().LoginByEmail(ctx, email, oidcPassword, nil)); !u.EmailVerified {
			t.Fatal("not verified")
		}
		// Signed out: the page asks to sign in, and refuses the post.
		anon := newBrowser(t, in)
		wantPage(t, anon.get(in.URL+"/oidc/verify-email"), http.StatusOK, "Sign in to ask for a new confirmation mail")
		tok := anon.get(in.URL+"/oidc/signup").form(t, "signup-form").Fields.Get("csrf")
		wantPage(t, anon.post(in.URL+"/oidc/verify-email/send", url.Values{"csrf": {tok}}), http.StatusUnauthorized, "Please sign in.")
	})
}

// TestPagesResetPassword: forgot password by email code from the sign-in
// page: every session of the account ends (an SDK token dies), the page
// says so and leads back to this sign-in, where the new password works. A
// second submit of the same form is told the code is used (no 500); two
// submits at once: exactly one resets. A code of another scene
// (VERIFY_EMAIL) does not reset. By phone code too.
func TestPagesResetPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		c := in.client()
		email := "reset@example.com"
		must[*client.User](t)(c.RegisterByEmail(ctx, email, oidcPassword, nil, &client.RegisterOptions{ForceLogin: true}))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p := b.get(b.get(ar.URL).link(t, "/reset?authRequestID="))
		wantPage(t, p, http.StatusOK, "Reset your password")

		// A VERIFY_EMAIL code is not a reset code.
		other := mailCode(t, in, email, client.EmailSceneVerifyEmail)
		in.Clock.Advance(61 * time.Second)
		p = b.submit(p, p.form(t, "reset-send-form"), map[string]string{"address": email})
		wantPage(t, p, http.StatusOK, "a code is on its way")
		f := p.form(t, "reset-form")
		wantPage(t, b.submit(p, f, map[string]string{"code": other, "password": "a new passw0rd!"}), http.StatusBadRequest, "not correct or was already used")
		code := in.Outbox.code(t, email)
		if code == other {
			t.Fatal("the same code twice")
		}
		// The policy is the pool's: a weak password keeps the code.
		wantPage(t, b.submit(p, f, map[string]string{"code": code, "password": "short"}), http.StatusBadRequest, "too short")

		newPw := "a new passw0rd!"
		done := b.submit(p, f, map[string]string{"code": code, "password": newPw})
		wantPage(t, done, http.StatusOK, "Your password is changed", "every session of your account has ended")
		if _, err := c.GetCurrentUser(ctx); err == nil {
			t.Fatal("the SDK's session outlived the reset")
		}
		// The double submit: a clear message, not an error page.
		wantPage(t, b.submit(p, f, map[string]string{"code": code, "password": newPw}), http.StatusBadRequest, "If you just set a new password, it is done")

		p = b.get(done.link(t, "/login?authRequestID="))
		p = b.signIn(p, email, newPw)
		ar.callback(t, rp, p)

		// Two submits of one code at once: one resets.
		in.Clock.Advance(61 * time.Second)
		p = b.get(in.URL + "/oidc/reset")
		p = b.submit(p, p.form(t, "reset-send-form"), map[string]string{"address": email})
		f = p.form(t, "reset-form")
		code = in.Outbox.code(t, email)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = b.submit(p, f, map[string]string{"code": code, "password": "third passw0rd!" + string(rune('a'+i))}).Status
			}()
		}
		wg.Wait()
		if ok := (statuses[0] == 200) != (statuses[1] == 200); !ok || statuses[0]+statuses[1] != 200+400 {
			t.Fatalf("two submits: %v", statuses)
		}

		// By phone code.
		phone := "+8613800138123"
		must[*client.User](t)(c.RegisterByPhoneCode(ctx, phone, sms(t, in, phone), "", nil, nil))
		in.Clock.Advance(61 * time.Second)
		p = b.get(in.URL + "/oidc/reset?method=phone")
		p = b.submit(p, p.form(t, "reset-send-form"), map[string]string{"address": phone})
		wantPage(t, p, http.StatusOK, "A code was sent")
		p = b.submit(p, p.form(t, "reset-form"), map[string]string{"code": in.Outbox.code(t, phone), "password": newPw})
		wantPage(t, p, http.StatusOK, "Your password is changed")
		must[*client.User](t)(in.client().LoginByPhonePassword(ctx, phone, newPw, nil))
	})
}

// TestPagesSignupPhoneAndSettings: sign-up by phone code with a return
// URL the app registered (and refused when it did not); the pool's
// registerBy* settings hide a method and the server refuses it anyway;
// a pre-register pipeline's refusal message is shown.
func TestPagesSignupPhoneAndSettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ret := "https://app.example.com/callback"
		for _, bad := range []string{
			"/oidc/signup?client_id=" + rp.app.ID + "&return_to=" + url.QueryEscape("https://evil.example.com/callback"),
			"/oidc/signup?client_id=" + rp.app.ID + "&return_to=" + url.QueryEscape(ret+"/../x"),
			"/oidc/signup?client_id=" + rp.app.ID + "&return_to=" + url.QueryEscape("//evil.example.com"),
			"/oidc/signup?client_id=nope&return_to=" + url.QueryEscape(ret),
			"/oidc/signup?return_to=" + url.QueryEscape(ret),
			"/oidc/signup?authRequestID=nope",
		} {
			p := b.get(in.URL + bad)
			if p.Status != http.StatusBadRequest || strings.Contains(p.Body, "signup-form") {
				t.Fatalf("%s: %d\n%s", bad, p.Status, p.Body)
			}
		}
		p := b.get(in.URL + "/oidc/signup?method=phone&client_id=" + rp.app.ID + "&return_to=" + url.QueryEscape(ret) + "&ui_locales=zh-CN")
		wantPage(t, p, http.StatusOK, "注册账号", `data-wait="0"`)
		phone := "+8613800138777"
		p = b.submit(p, p.form(t, "signup-send-code-form"), map[string]string{"phone": phone})
		wantPage(t, p, http.StatusOK, `data-wait="60"`, "验证码已发送")
		// The code of a reset mail (another scene, another channel) does
		// not register the phone.
		wantPage(t, b.submit(p, p.form(t, "signup-form"), map[string]string{"code": wrongFor(in.Outbox.code(t, phone))}), http.StatusBadRequest, "验证码不正确")
		p = b.submit(p, p.form(t, "signup-form"), map[string]string{"code": in.Outbox.code(t, phone)})
		if p.Location != ret {
			t.Fatalf("after sign-up: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		// Signed in: the application's sign-in needs no password.
		ar := rp.authURL(nil)
		ar.callback(t, rp, b.get(ar.URL))

		// Closed methods.
		mc := in.admin()
		if _, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"registerByEmail": false, "registerByPhone": false}}); err != nil {
			t.Fatal(err)
		}
		in.settle(t)
		anon := newBrowser(t, in)
		p = anon.get(in.URL + "/oidc/signup?method=email")
		wantPage(t, p, http.StatusOK, `id="username"`)
		if strings.Contains(p.Body, `id="email"`) || strings.Contains(p.Body, "signup-send-code-form") {
			t.Fatal("a closed method is offered")
		}
		f := p.form(t, "signup-form")
		f.Fields.Set("method", "email")
		wantPage(t, anon.submit(p, f, map[string]string{"email": "x@example.com", "password": oidcPassword}), http.StatusBadRequest, "Registration by this method is closed.")
		if _, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"registerByUsername": false}}); err != nil {
			t.Fatal(err)
		}
		wantPage(t, anon.get(in.URL+"/oidc/signup"), http.StatusOK, "Sign-up is closed")

		// A pipeline's refusal, in its own words.
		if _, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"registerByUsername": true}}); err != nil {
			t.Fatal(err)
		}
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				if (user.username.startsWith("bot")) {
					return callback(new Error("Usernames starting with <bot> are reserved."))
				}
				callback(null, user, context)
			}`)
		p = anon.get(in.URL + "/oidc/signup")
		wantPage(t, anon.submit(p, p.form(t, "signup-form"), map[string]string{"username": "bot-42", "password": oidcPassword}),
			http.StatusBadRequest, "Usernames starting with &lt;bot&gt; are reserved.")
		p = anon.submit(p, p.form(t, "signup-form"), map[string]string{"username": "human-42", "password": oidcPassword})
		wantPage(t, p, http.StatusOK, "Your account is ready")
	})
}

// TestPagesSignupForgery: forms without this browser's CSRF token are
// refused (missing, another browser's); a page of pool A does not take a
// session of pool B; frameAncestors is the pool's and checked.
func TestPagesSignupForgery(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{ID: "poolb", Name: "Pool B"}))
		a, other := newBrowser(t, in), newBrowser(t, in)
		p := a.get(in.URL + "/oidc/signup?method=email")
		f := p.form(t, "signup-form")
		foreign := other.get(in.URL+"/oidc/signup").form(t, "signup-form").Fields.Get("csrf")
		for name, tok := range map[string]string{"missing": "", "another browser's": foreign, "garbage": strings.Repeat("x", 43)} {
			q := b2v(f.Fields)
			q.Set("csrf", tok)
			q.Set("email", "forged@example.com")
			q.Set("password", oidcPassword)
			wantPage(t, a.post(in.URL+"/oidc/signup", q), http.StatusForbidden, "This form has expired")
			_ = name
		}
		if _, err := in.client().LoginByEmail(ctx, "forged@example.com", oidcPassword, nil); err == nil {
			t.Fatal("a forged form registered")
		}
		// Too large a form.
		big := b2v(f.Fields)
		big.Set("email", strings.Repeat("a", 20<<10))
		if st := a.post(in.URL+"/oidc/signup", big).Status; st != http.StatusBadRequest {
			t.Fatalf("a large form: %d", st)
		}

		// Signed up in pool B: pool A's pages do not know the browser.
		p = a.get(in.URL + "/oidc/pools/poolb/signup?method=email")
		p = a.submit(p, p.form(t, "signup-form"), map[string]string{"email": "b@example.com", "password": oidcPassword})
		wantPage(t, p, http.StatusOK, "Your account is ready")
		if l := mailLink(t, in, "b@example.com", "VERIFY_EMAIL"); l.Path != "/oidc/pools/poolb/verify-email" {
			t.Fatalf("pool B's link %s", l)
		}
		wantPage(t, a.get(in.URL+"/oidc/pools/poolb/verify-email"), http.StatusOK, "b@example.com is not confirmed yet")
		wantPage(t, a.get(in.URL+"/oidc/verify-email"), http.StatusOK, "Sign in to ask for a new confirmation mail")
		tok := a.get(in.URL+"/oidc/signup").form(t, "signup-form").Fields.Get("csrf")
		wantPage(t, a.post(in.URL+"/oidc/verify-email/send", url.Values{"csrf": {tok}}), http.StatusUnauthorized)
		// Pool B's link opened at pool A: no such code there.
		l := mailLink(t, in, "b@example.com", "VERIFY_EMAIL")
		wantPage(t, a.get(in.URL+"/oidc/verify-email?"+l.RawQuery), http.StatusBadRequest)

		// frameAncestors.
		for _, bad := range []string{"*", "https://a.example.com;script-src *", "'unsafe-inline'", "javascript:", "http://evil.example.com",
			"https://a.example.com/path", "https://a.example.com  https://b.example.com", strings.Repeat("https://a.example.com ", 9)} {
			_, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"frameAncestors": bad}})
			wantCode(t, err, 1003)
		}
		if _, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"frameAncestors": "'self' https://*.example.com:8443"}}); err != nil {
			t.Fatal(err)
		}
		p = a.get(in.URL + "/oidc/signup")
		if csp := p.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://*.example.com:8443") || p.Header.Get("X-Frame-Options") != "" {
			t.Fatalf("headers %v", p.Header)
		}
		if csp := a.get(in.URL + "/oidc/pools/poolb/signup").Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'none'") {
			t.Fatalf("pool B: %s", csp)
		}
	})
}

func b2v(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
