package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// mailCode sends a mail for scene to addr and returns its code.
func mailCode(t *testing.T, in *instance, addr string, scene client.EmailScene) string {
	t.Helper()
	if err := in.client().SendEmail(context.Background(), addr, scene); err != nil {
		t.Fatalf("SendEmail(%s, %s): %v", addr, scene, err)
	}
	m := in.Outbox.last(t, strings.ToLower(addr)) // the server sends to the normalised address
	if m.Scene != string(scene) {
		t.Fatalf("last mail to %s is for %s, not %s", addr, m.Scene, scene)
	}
	return m.Code
}

func TestResetPasswordByEmailCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "reset@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		// Unknown address: 2004, nothing sent; unknown scene: 1003.
		wantCode(t, c.SendEmail(ctx, "nobody@example.com", client.EmailSceneResetPassword), 2004)
		if n := len(in.Outbox.sentTo("nobody@example.com")); n != 0 {
			t.Fatalf("%d mails to an unknown address", n)
		}

		code := mailCode(t, in, "Reset@Example.com", client.EmailSceneResetPassword)
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "reset@example.com", wrongFor(code), "n3w-passw0rd"), 2001)
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "reset@example.com", code, "short"), 2029)
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "no-at-sign", code, "n3w-passw0rd"), 2003)
		must0(t, c.ResetPasswordByEmailCode(ctx, "RESET@example.com", code, "n3w-passw0rd"))
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "reset@example.com", code, "an0ther-passw0rd"), 2001)

		st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, u.Token))
		if st.Status || st.Code != 2207 {
			t.Fatalf("the session survived the reset: %+v", st)
		}
		_, err := in.client().LoginByEmail(ctx, "reset@example.com", "passw0rd!", nil)
		wantCode(t, err, 2006)
		li := must[*client.User](t)(in.client().LoginByEmail(ctx, "reset@example.com", "n3w-passw0rd", nil))
		if !li.EmailVerified {
			t.Fatal("a reset by email code proves the address")
		}

		// A code of another scene does not reset; aliases name scenes.
		in.Clock.Advance(time.Minute)
		must0(t, c.SendEmail(ctx, "reset@example.com", "VerifyEmail"))
		vcode := in.Outbox.last(t, "reset@example.com").Code
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "reset@example.com", vcode, "th1rd-passw0rd"), 2001)
		must0(t, c.VerifyEmail(ctx, "reset@example.com", vcode))

		// A pool that answers login failures uniformly does not tell which
		// addresses have accounts: success, and nothing is sent.
		setPool(t, in, func(s *userpool.PoolSettings) { s.UniformLoginError = true })
		must0(t, c.SendEmail(ctx, "nobody@example.com", client.EmailSceneResetPassword))
		if n := len(in.Outbox.sentTo("nobody@example.com")); n != 0 {
			t.Fatalf("%d mails to an unknown address", n)
		}
	})
}

func TestVerifyEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "verify@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		must0(t, c.SendEmail(ctx, "verify@example.com", client.EmailSceneVerifyEmail))
		m := in.Outbox.last(t, "verify@example.com")
		link := regexp.MustCompile(`http://\S+`).FindString(m.Text)
		if link == "" || !strings.Contains(m.Text, m.Code) {
			t.Fatalf("the mail has no link or no code: %q", m.Text)
		}
		lu, err := url.Parse(link)
		if err != nil || lu.Host != strings.TrimPrefix(in.URL, "http://") || lu.Query().Get("code") != m.Code || lu.Query().Get("email") != "verify@example.com" {
			t.Fatalf("link %q", link)
		}
		get := func(link string) (int, string) {
			t.Helper()
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || resp.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("link answer: %s, %v", ct, resp.Header)
			}
			return resp.StatusCode, string(b)
		}
		st, body := get(link)
		if st != http.StatusOK || !strings.Contains(body, "confirmed") {
			t.Fatalf("opening the link: %d %s", st, body)
		}
		if me := must[*client.User](t)(c.GetCurrentUser(ctx)); !me.EmailVerified {
			t.Fatal("EmailVerified is still false")
		}
		// The link opens the pool's hosted page (docs/PAGES.md); used
		// again, it says the address is confirmed already.
		if lu.Path != "/oidc/verify-email" {
			t.Fatalf("link %q", link)
		}
		st, body = get(link)
		if st != http.StatusOK || !strings.Contains(body, "Already confirmed") {
			t.Fatalf("a used link: %d %s", st, body)
		}
		// The API's GET (the links of older mails) refuses the spent code.
		old := in.URL + "/api/v1/email/verify?" + url.Values{"pool": {in.Srv.DefaultPoolID()}, "email": {"verify@example.com"}, "code": {m.Code}}.Encode()
		if st, body = get(old); st != http.StatusBadRequest || !strings.Contains(body, "2001") {
			t.Fatalf("a used link: %d %s", st, body)
		}
		// The request log has the route, never the query.
		in.Outbox.noLeak(t, m.Code)

		// The same through the SDK, on another user.
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "second@example.com", "passw0rd!", nil, nil))
		code := mailCode(t, in, "second@example.com", client.EmailSceneVerifyEmail)
		wantCode(t, c.VerifyEmail(ctx, "second@example.com", wrongFor(code)), 2001)
		must0(t, c.VerifyEmail(ctx, "second@example.com", code))
		li := must[*client.User](t)(in.client().LoginByEmail(ctx, "second@example.com", "passw0rd!", nil))
		if !li.EmailVerified {
			t.Fatal("VerifyEmail did not verify")
		}
		wantCode(t, c.SendEmail(ctx, "ghost@example.com", client.EmailSceneVerifyEmail), 2004)
	})
}

func TestBindAndUnbindEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		p := in.client()
		must[*client.User](t)(p.LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil))
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "taken@example.com", "passw0rd!", nil, nil))

		_, err := p.UnbindEmail(ctx)
		wantCode(t, err, 2219)
		_, err = p.BindEmail(ctx, "mine@example.com", "123456")
		wantCode(t, err, 2001)
		_, err = p.BindEmail(ctx, "taken@example.com", mailCode(t, in, "taken@example.com", client.EmailSceneChangeEmail))
		wantCode(t, err, 2026)

		b, err := p.BindEmail(ctx, "Mine@Example.com", mailCode(t, in, "mine@example.com", client.EmailSceneChangeEmail))
		if err != nil {
			t.Fatal(err)
		}
		if b.Email != "Mine@example.com" || !b.EmailVerified || b.Phone != cnPhone {
			t.Fatalf("after BindEmail: %+v", b)
		}
		in.Clock.Advance(time.Minute)
		_, err = p.BindEmail(ctx, "second@example.com", mailCode(t, in, "second@example.com", client.EmailSceneChangeEmail))
		ce := wantCode(t, err, 2200)
		if ce.Reason != "email_already_bound" {
			t.Fatalf("2200: %+v", ce)
		}
		// The phone remains: the email may go.
		ub, err := p.UnbindEmail(ctx)
		if err != nil || ub.Email != "" || ub.EmailVerified {
			t.Fatalf("UnbindEmail: %v %+v", err, ub)
		}

		// An account with only its email (and a password) keeps it.
		e := in.client()
		must[*client.User](t)(e.LoginByEmail(ctx, "taken@example.com", "passw0rd!", nil))
		_, err = e.UnbindEmail(ctx)
		wantCode(t, err, 2217)
		// With a username and password besides, it may go.
		must[*client.User](t)(e.UpdateProfile(ctx, client.UpdateProfileInput{Username: ptr("takenuser")}))
		if u, err := e.UnbindEmail(ctx); err != nil || u.Email != "" {
			t.Fatalf("UnbindEmail with a username: %v %+v", err, u)
		}
		must[*client.User](t)(in.client().LoginByUsername(ctx, "takenuser", "passw0rd!", nil))

		anon := in.client()
		_, err = anon.BindEmail(ctx, "a@example.com", "123456")
		wantCode(t, err, 2020)
		_, err = anon.UnbindEmail(ctx)
		wantCode(t, err, 2020)
	})
}

func TestUpdateEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "old@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "busy@example.com", "passw0rd!", nil, nil))

		newCode := mailCode(t, in, "new@example.com", client.EmailSceneChangeEmail)
		oldCode := mailCode(t, in, "old@example.com", client.EmailSceneChangeEmail)
		_, err := c.UpdateEmail(ctx, "new@example.com", newCode, "", "")
		ce := wantCode(t, err, 2227)
		if ce.Reason != "old_email_required" {
			t.Fatalf("2227: %+v", ce)
		}
		_, err = c.UpdateEmail(ctx, "new@example.com", newCode, "other@example.com", oldCode)
		wantCode(t, err, 2037)
		_, err = c.UpdateEmail(ctx, "OLD@example.com", oldCode, "old@example.com", oldCode)
		wantCode(t, err, 2229)
		_, err = c.UpdateEmail(ctx, "busy@example.com", newCode, "old@example.com", oldCode)
		wantCode(t, err, 2026)
		_, err = c.UpdateEmail(ctx, "bad address", newCode, "old@example.com", oldCode)
		wantCode(t, err, 2003)
		// A wrong code spends neither.
		_, err = c.UpdateEmail(ctx, "new@example.com", newCode, "old@example.com", wrongFor(oldCode))
		wantCode(t, err, 2001)
		up, err := c.UpdateEmail(ctx, "New@Example.com", newCode, "Old@Example.com", oldCode)
		if err != nil {
			t.Fatal(err)
		}
		if up.Email != "New@example.com" || !up.EmailVerified {
			t.Fatalf("after UpdateEmail: %+v", up)
		}
		must[*client.User](t)(in.client().LoginByEmail(ctx, "new@example.com", "passw0rd!", nil))
		_, err = in.client().LoginByEmail(ctx, "old@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)

		// verifyOldEmail off: the new address's code is enough.
		setPool(t, in, func(s *userpool.PoolSettings) { s.VerifyOldEmail = false })
		up, err = c.UpdateEmail(ctx, "third@example.com", mailCode(t, in, "third@example.com", client.EmailSceneChangeEmail), "", "")
		if err != nil || up.Email != "third@example.com" {
			t.Fatalf("UpdateEmail without the old address: %v %+v", err, up)
		}

		// No email yet: BindEmail is the call.
		p := in.client()
		must[*client.User](t)(p.LoginByPhoneCode(ctx, usPhone, sms(t, in, usPhone), nil))
		_, err = p.UpdateEmail(ctx, "fourth@example.com", mailCode(t, in, "fourth@example.com", client.EmailSceneChangeEmail), "", "")
		ce = wantCode(t, err, 2219)
		if ce.Reason != "email_not_bound" {
			t.Fatalf("2219: %+v", ce)
		}
		_, err = in.client().UpdateEmail(ctx, "x@example.com", "123456", "", "")
		wantCode(t, err, 2020)
	})
}
