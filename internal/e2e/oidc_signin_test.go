package e2e

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/userpool"
)

// TestOIDCHostedSignIn: the hosted page runs the API's login process —
// the CAPTCHA demanded after failures (code 2000) is shown as an image
// and checked, the login counts once and the audit log names the app —,
// signs in with a phone and an SMS code (the send button is a form post),
// speaks Simplified Chinese when ui_locales asks, and its browser session
// is an authpool session the admin API lists and revokes.
func TestOIDCHostedSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startWith(t, codeAdminConfig(dbURL), nil, server.Options{NewCaptchaAnswer: ans.next})
		email := "lin@example.com"
		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		// Failures until the CAPTCHA is demanded (threshold 3 by default).
		b := newBrowser(t, in)
		ar := rp.authURL(nil, oauth2.SetAuthURLParam("ui_locales", "zh-CN en"))
		p := b.get(ar.URL)
		if !strings.Contains(p.Body, `lang="zh-CN"`) || !strings.Contains(p.Body, "登录") {
			t.Fatalf("ui_locales=zh-CN: %s", p.Body)
		}
		var captcha bool
		for i := 0; i < 6 && !captcha; i++ {
			p = b.signIn(p, email, "wrong password 123")
			captcha = strings.Contains(p.Body, `id="captcha-image"`)
		}
		if !captcha || !strings.Contains(p.Body, "请输入图形验证码") || !strings.Contains(p.Body, `src="data:image/png;base64,`) {
			t.Fatalf("no CAPTCHA after failures:\n%s", p.Body)
		}
		// The right password with a wrong CAPTCHA answer is refused...
		f := p.form(t, "password-form")
		p2 := b.submit(p, f, map[string]string{"identifier": email, "password": oidcPassword, "captcha": "000000"})
		if p2.Location != "" {
			t.Fatal("signed in with a wrong CAPTCHA answer")
		}
		// ...and with the answer it signs in.
		f = p2.form(t, "password-form")
		p = b.submit(p2, f, map[string]string{"identifier": email, "password": oidcPassword, "captcha": ans.last()})
		q := ar.callback(t, rp, p)
		tok, idt := rp.exchange(t, ar, q.Get("code"))

		after := must[*client.User](t)(in.admin().GetUser(ctx, "default", u.ID))
		if after.LoginsCount != 1 {
			t.Errorf("logins count %d, want 1", after.LoginsCount)
		}
		var appLogins int
		for _, e := range in.audit(t, userpool.AuditFilter{PoolID: in.Srv.DefaultPoolID(), UserID: u.ID}) {
			if e.Event == userpool.AuditLoginSuccess && e.Detail["app"] == rp.app.ID {
				appLogins++
			}
		}
		if appLogins != 1 {
			t.Errorf("%d audited logins naming the app, want 1", appLogins)
		}

		// The browser session is an authpool session: listed by the admin
		// API; revoking it ends the tokens and the single sign-on.
		sessions := must[[]client.Session](t)(in.admin().ListUserSessions(ctx, "default", u.ID))
		var sid string
		_ = idt.Claims(&struct {
			Sid *string `json:"sid"`
		}{&sid})
		found := false
		for _, s := range sessions {
			found = found || s.ID == sid
		}
		if !found {
			t.Fatalf("session %s not listed: %+v", sid, sessions)
		}
		if err := in.admin().RevokeSession(ctx, "default", u.ID, sid); err != nil {
			t.Fatal(err)
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("token after the admin revoked its session: %v", in)
		}
		ar = rp.authURL(nil)
		if p := b.get(ar.URL); p.Location != "" {
			t.Fatal("a revoked browser session still signs in")
		}

		// A password change ends the session too.
		tok, _ = newBrowser(t, in).codeFlow(rp, nil, email, oidcPassword)
		c := in.client()
		must[*client.User](t)(c.LoginByEmail(ctx, email, oidcPassword, nil))
		must[*client.User](t)(c.UpdatePassword(ctx, oidcPassword+"!", oidcPassword))
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("token after a password change: %v", in)
		}

		// Phone and SMS code, without JavaScript: the send button posts.
		phone := "+8613800138000"
		must[*client.User](t)(in.client().RegisterByPhoneCode(ctx, phone, sms(t, in, phone), "", nil, nil))
		in.Clock.Advance(61e9) // the phone's sending interval
		pb := newBrowser(t, in)
		ar = rp.authURL([]string{"openid", "phone"})
		p = pb.get(ar.URL)
		p = pb.get(p.URL.String() + "&mode=phone")
		p = pb.submit(p, p.form(t, "send-code-form"), map[string]string{"phone": phone})
		if !strings.Contains(p.Body, `id="code-sent"`) || !strings.Contains(p.Body, `data-wait="60"`) {
			t.Fatalf("after sending the code:\n%s", p.Body)
		}
		code := in.Outbox.code(t, phone)
		// A second send within 60 s is refused by the use case's limit.
		p2 = pb.submit(p, p.form(t, "send-code-form"), map[string]string{"phone": phone})
		if !strings.Contains(p2.Body, `id="error"`) {
			t.Errorf("a second code within the interval was sent")
		}
		p = pb.submit(p, p.form(t, "phone-form"), map[string]string{"code": code})
		q = ar.callback(t, rp, p)
		_, idt = rp.exchange(t, ar, q.Get("code"))
		var amr struct {
			AMR []string `json:"amr"`
		}
		_ = idt.Claims(&amr)
		if strings.Join(amr.AMR, " ") != "otp sms" {
			t.Errorf("amr of a phone-code sign-in: %v", amr.AMR)
		}
	})
}

// TestOIDCBranding: the pool's display name, logo and colour reach the
// sign-in page; the admin API refuses values past the limits or of the
// wrong shape, and accepts them at the limits.
func TestOIDCBranding(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		set := func(k string, v any) error {
			_, err := mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{k: v}})
			return err
		}
		for _, bad := range []struct {
			k string
			v any
		}{
			{"brandDisplayName", strings.Repeat("名", 65)}, {"brandDisplayName", "a\u0007b"}, {"brandDisplayName", "a\u202eb"},
			{"brandLogoURL", "http://cdn.example.com/logo.png"}, {"brandLogoURL", "javascript:alert(1)"},
			{"brandLogoURL", "https://user@cdn.example.com/l.png"}, {"brandLogoURL", "https://cdn.example.com/" + strings.Repeat("a", 1000)},
			{"brandLogoURL", `https://cdn.example.com/a"onerror="x`}, {"brandPrimaryColor", "red"}, {"brandPrimaryColor", "#12345g"},
			{"brandPrimaryColor", "#123"}, {"brandPrimaryColor", "#123456;}body{x:y"},
		} {
			wantCode(t, set(bad.k, bad.v), 1003)
		}
		logo := "https://cdn.example.com/" + strings.Repeat("a", 1000-len("https://cdn.example.com/"))
		for k, v := range map[string]string{"brandDisplayName": strings.Repeat("名", 63) + "<", "brandLogoURL": logo, "brandPrimaryColor": "#AbCdEf"} {
			if err := set(k, v); err != nil {
				t.Fatalf("%s at the limit: %v", k, err)
			}
		}
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		p := newBrowser(t, in).get(rp.authURL(nil).URL)
		if !strings.Contains(p.Body, strings.Repeat("名", 63)+"&lt;") || !strings.Contains(p.Body, `src="`+logo+`"`) || !strings.Contains(p.Body, "--brand: #AbCdEf") {
			t.Errorf("branding not on the page:\n%s", p.Body)
		}
	})
}
