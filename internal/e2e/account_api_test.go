package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestUserEditableFields: a user sets and removes their own value only of
// a field the pool marks user-editable; the flag defaults to false, is
// changed by the administrator, and is enforced on every change of it.
func TestUserEditableFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		plan := must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "plan", DataType: "STRING"}))
		if plan.UserEditable {
			t.Fatal("a new field is user-editable by default")
		}
		nick := must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "nick", DataType: "STRING", UserEditable: true}))
		if !nick.UserEditable {
			t.Fatalf("defined user-editable, answered %+v", nick)
		}
		if got := must[*client.Field](t)(mc.GetField(ctx, "default", "nick")); !got.UserEditable {
			t.Fatalf("GetField: %+v", got)
		}

		c := in.client()
		// The administrator's value of a field the user may not edit is the
		// user's to read, not to change or remove.
		must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Email: "ue@example.com", Password: "passw0rd!", CustomData: map[string]any{"plan": "pro"}}))
		must[*client.User](t)(c.LoginByEmail(ctx, "ue@example.com", "passw0rd!", nil))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "nick", "ace"))
		_, err := c.SetUdv(ctx, "plan", "enterprise")
		if ce := wantCode(t, err, 2018); ce.Reason != "field_not_user_editable" {
			t.Fatalf("reason %q", ce.Reason)
		}
		// An unknown key is still 2401, not a hint that it exists.
		_, err = c.SetUdv(ctx, "nope", "x")
		wantCode(t, err, 2401)

		_, err = c.RemoveUdv(ctx, "plan")
		wantCode(t, err, 2018)
		if m := udvMap(t, must[[]client.UserDefinedData](t)(c.ListUdv(ctx))); m["plan"] != "pro" || m["nick"] != "ace" {
			t.Fatalf("values %v", m)
		}

		// Turned on: the user may; turned off again: refused again, and an
		// update that does not name the flag leaves it.
		must[*client.Field](t)(mc.UpdateField(ctx, "default", "plan", client.UpdateFieldRequest{UserEditable: ptr(true)}))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "plan", "free"))
		label := "Plan"
		if f := must[*client.Field](t)(mc.UpdateField(ctx, "default", "plan", client.UpdateFieldRequest{Label: &label})); !f.UserEditable {
			t.Fatalf("a label change cleared the flag: %+v", f)
		}
		must[*client.Field](t)(mc.UpdateField(ctx, "default", "plan", client.UpdateFieldRequest{UserEditable: ptr(false)}))
		_, err = c.RemoveUdv(ctx, "plan")
		wantCode(t, err, 2018)
		_, err = c.SetUdv(ctx, "plan", "enterprise")
		wantCode(t, err, 2018)
		if m := udvMap(t, must[[]client.UserDefinedData](t)(c.ListUdv(ctx))); m["plan"] != "free" {
			t.Fatalf("values %v", m)
		}
		fields := must[[]client.Field](t)(mc.ListFields(ctx, "default"))
		if len(fields) != 2 || fields[0].Key != "nick" || !fields[0].UserEditable || fields[1].UserEditable {
			t.Fatalf("ListFields %+v", fields)
		}
	})
}

// TestAccountSessions: the user sees their sessions with the address and
// browser recorded at each login, ends one, and ends all others; another
// user's session cannot be named.
func TestAccountSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		a := in.client()
		must[*client.User](t)(a.RegisterByEmail(ctx, "sess@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(a.LoginByEmail(ctx, "sess@example.com", "passw0rd!", nil))
		// A second device with its own browser.
		b := client.NewAuthenticationClient(client.Options{AppHost: in.URL, Timeout: 30 * time.Second,
			HTTPClient: &http.Client{Transport: uaTransport{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"}}})
		must[*client.User](t)(b.LoginByEmail(ctx, "sess@example.com", "passw0rd!", nil))
		c := in.client()
		must[*client.User](t)(c.LoginByEmail(ctx, "sess@example.com", "passw0rd!", nil))

		list := must[[]client.SessionInfo](t)(a.ListSessions(ctx))
		if len(list) != 3 {
			t.Fatalf("%d sessions: %+v", len(list), list)
		}
		current, iphone := 0, ""
		for _, s := range list {
			if s.ClientIP != "127.0.0.1" || s.ID == "" || s.CreatedAt.IsZero() || !s.ExpiresAt.After(s.CreatedAt) {
				t.Errorf("session %+v", s)
			}
			if s.Current {
				current++
			}
			if strings.Contains(s.UserAgent, "iPhone") {
				iphone = s.ID
			}
		}
		if current != 1 || iphone == "" {
			t.Fatalf("current %d, iPhone session %q: %+v", current, iphone, list)
		}

		// Another user cannot end, or learn about, this user's sessions.
		x := in.client()
		must[*client.User](t)(x.RegisterByEmail(ctx, "other@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		for _, id := range []string{iphone, "", strings.Repeat("x", 65), "no-such-session"} {
			wantCode(t, x.RevokeSession(ctx, id), 1004)
		}
		must[*client.User](t)(b.GetCurrentUser(ctx))

		must0(t, a.RevokeSession(ctx, iphone))
		_, err := b.GetCurrentUser(ctx)
		wantCode(t, err, 2207)
		wantCode(t, a.RevokeSession(ctx, iphone), 1004) // ended already
		if n := must[int](t)(a.RevokeOtherSessions(ctx)); n != 1 {
			t.Fatalf("revoked %d others, want 1 (c's)", n)
		}
		_, err = c.GetCurrentUser(ctx)
		wantCode(t, err, 2207)
		if list := must[[]client.SessionInfo](t)(a.ListSessions(ctx)); len(list) != 1 || !list[0].Current {
			t.Fatalf("after: %+v", list)
		}
		if n := must[int](t)(a.RevokeOtherSessions(ctx)); n != 0 {
			t.Fatalf("revoked %d, want none left", n)
		}
		// Ending one's own session is a logout.
		self := must[[]client.SessionInfo](t)(a.ListSessions(ctx))[0].ID
		must0(t, a.RevokeSession(ctx, self))
		_, err = a.ListSessions(ctx)
		wantCode(t, err, 2207)
		events := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: "session.revoke"}))
		if len(events) != 2 {
			t.Fatalf("%d session.revoke audit events, want 2", len(events))
		}
	})
}

// uaTransport sends every request with a browser's User-Agent.
type uaTransport struct{ ua string }

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// TestDeleteAccount: off by default; on, it needs the password (or, for
// an account without one, a sign-in of the last 5 minutes), and takes the
// user with their sessions and values, audited and announced as
// user.deleted; of two deletions at once, one wins.
func TestDeleteAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := webhookConfig(dbURL)
		cfg.SMSIPPerHour = 1000
		in := start(t, cfg, nil)
		mc := in.admin()
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "user.deleted")
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "nick", DataType: "STRING", UserEditable: true}))

		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "del@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "nick", "gone"))
		other := in.client()
		must[*client.User](t)(other.LoginByEmail(ctx, "del@example.com", "passw0rd!", nil))

		// Off by default, whatever the password.
		wantCode(t, c.DeleteAccount(ctx, "passw0rd!"), 2018)
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"allowSelfDelete": true}}))
		for _, pw := range []string{"", "wrong-password", strings.Repeat("p", 257), "passw0rd! ", "PASSW0RD!"} {
			if ce := wantCode(t, c.DeleteAccount(ctx, pw), 2006); ce.Reason != "wrong_password" {
				t.Fatalf("reason %q", ce.Reason)
			}
		}
		must[*client.User](t)(mc.GetUser(ctx, "default", u.ID))
		// Without a token: not logged in.
		wantCode(t, in.client().DeleteAccount(ctx, "passw0rd!"), 2020)

		// Two deletions at once: one wins, the other finds no session.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, cl := range []*client.AuthenticationClient{c, other} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = cl.DeleteAccount(ctx, "passw0rd!") }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			var ce *client.Error
			if !errors.As(err, &ce) || (ce.Code != 2207 && ce.Code != 2206) {
				t.Fatalf("the losing deletion: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d deletions won: %v", won, errs)
		}
		_, err := mc.GetUser(ctx, "default", u.ID)
		wantCode(t, err, 2004)
		// The wrong proofs above counted as failed logins from this
		// address, so a login from it may be asked for a CAPTCHA first.
		_, err = in.client().LoginByEmail(ctx, "del@example.com", "passw0rd!", nil)
		if ce := (*client.Error)(nil); !errors.As(err, &ce) || ce.Code != 2004 && ce.Code != 2000 {
			t.Fatalf("login of the deleted account: %v", err)
		}
		if n := len(must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{UserID: u.ID, Event: "user.self_delete"}))); n != 1 {
			t.Fatalf("%d user.self_delete audit events", n)
		}
		ev := rcv.waitDistinct(t, 1)[0].Event
		if ev.Type != "user.deleted" || ev.Data.User == nil || ev.Data.User.ID != u.ID || ev.Data.User.CustomData["nick"] != "gone" && ev.Data.User.Email != "del@example.com" {
			t.Fatalf("event %+v", ev)
		}
		// The address is free again.
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "del@example.com", "passw0rd!", nil, nil))

		// An account without a password: a fresh sign-in instead.
		p := in.client()
		must[*client.User](t)(p.RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "", nil, nil))
		must[*client.User](t)(p.LoginByPhoneCode(ctx, cnPhone, sms2(t, in, cnPhone), nil))
		in.Clock.Advance(6 * time.Minute)
		if ce := wantCode(t, p.DeleteAccount(ctx, ""), 2206); ce.Reason != "fresh_sign_in_required" {
			t.Fatalf("reason %q", ce.Reason)
		}
		must[*client.User](t)(p.LoginByPhoneCode(ctx, cnPhone, sms2(t, in, cnPhone), nil))
		must0(t, p.DeleteAccount(ctx, ""))
		if users := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: "8613800138000"})); users.Total != 0 {
			t.Fatalf("the phone user is still there: %+v", users)
		}
	})
}

// sms2 is sms after the per-phone interval.
func sms2(t *testing.T, in *instance, phone string) string {
	t.Helper()
	in.Clock.Advance(61 * time.Second)
	return sms(t, in, phone)
}
