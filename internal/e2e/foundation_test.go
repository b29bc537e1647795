package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

func ptr[T any](v T) *T { return &v }

func TestRegisterAndLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()

		u, err := c.RegisterByEmail(ctx, "Alice@Example.COM", "passw0rd!", &client.RegisterProfile{Nickname: "Nick", Gender: "F"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if u.EmailVerified || u.Token != "" || u.LoginsCount != 0 || u.Nickname != "Nick" || u.Gender != "F" {
			t.Fatalf("plain registration: %+v", u)
		}
		// The local part as given, the domain lower-cased; compared by key.
		if u.Email != "Alice@example.com" || u.UserPoolID != in.Srv.DefaultPoolID() {
			t.Fatalf("email %q pool %q", u.Email, u.UserPoolID)
		}
		if c.Token() != "" {
			t.Fatal("plain registration must not give the client a token")
		}
		// The same address in another case is the same account.
		_, err = c.RegisterByEmail(ctx, "alice@example.com", "passw0rd!", nil, nil)
		wantCode(t, err, 2026)
		_, err = c.RegisterByEmail(ctx, "not-an-email", "passw0rd!", nil, nil)
		wantCode(t, err, 2003)
		_, err = c.RegisterByEmail(ctx, "bob@example.com", "short", nil, nil)
		wantCode(t, err, 2029)

		// Login by email, case-insensitively.
		li, err := c.LoginByEmail(ctx, "ALICE@example.com", "passw0rd!", nil)
		if err != nil {
			t.Fatal(err)
		}
		if li.Token == "" || li.LoginsCount != 1 || li.LastLogin.IsZero() || li.LastIP != "127.0.0.1" {
			t.Fatalf("login: %+v", li)
		}
		if c.Token() != li.Token || c.CurrentUser().ID != u.ID {
			t.Fatal("client did not keep the login's token and user")
		}
		_, err = c.LoginByEmail(ctx, "alice@example.com", "wrong-password", nil)
		wantCode(t, err, 2006)
		_, err = c.LoginByEmail(ctx, "nobody@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)

		// Username registration and login.
		un, err := c.RegisterByUsername(ctx, "bob", "passw0rd!", &client.RegisterProfile{Company: "ACME"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if un.Username != "bob" || un.Email != "" || un.Company != "ACME" {
			t.Fatalf("username registration: %+v", un)
		}
		_, err = c.RegisterByUsername(ctx, "bob", "passw0rd!", nil, nil)
		wantCode(t, err, 2034)
		_, err = c.RegisterByUsername(ctx, strings.Repeat("x", 10000), "passw0rd!", nil, nil)
		wantCode(t, err, 1003)
		lu, err := c.LoginByUsername(ctx, "bob", "passw0rd!", nil)
		if err != nil || lu.ID != un.ID {
			t.Fatalf("login by username: %v %+v", err, lu)
		}
		_, err = c.LoginByUsername(ctx, "bob", "nope-nope", nil)
		wantCode(t, err, 2006)
	})
}

func TestRegisterOptions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()

		fl, err := c.RegisterByEmail(ctx, "force@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true})
		if err != nil {
			t.Fatal(err)
		}
		if fl.Token == "" || fl.LoginsCount != 1 || fl.LastLogin.IsZero() {
			t.Fatalf("ForceLogin: %+v", fl)
		}
		gt, err := c.RegisterByEmail(ctx, "gen@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
		if err != nil {
			t.Fatal(err)
		}
		if gt.Token == "" || gt.LoginsCount != 0 || !gt.LastLogin.IsZero() {
			t.Fatalf("GenerateToken: %+v", gt)
		}
		st, err := c.CheckLoginStatus(ctx, gt.Token)
		if err != nil || !st.Status || st.UserID != gt.ID {
			t.Fatalf("generated token not valid: %v %+v", err, st)
		}
	})
}

func TestAutoRegisterCreatesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		// Six simultaneous logins to one account would be a burst to
		// failure detection (TestCaptchaDemandHoldsUnderABurst).
		in := start(t, testConfig(dbURL), nil).withoutFailureDetection(t)
		_, err := in.client().LoginByEmail(ctx, "auto@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)

		const n = 6
		var wg sync.WaitGroup
		users := make([]*client.User, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				users[i], errs[i] = in.client().LoginByEmail(ctx, "auto@example.com", "passw0rd!", &client.LoginOptions{AutoRegister: true})
			}()
		}
		wg.Wait()
		created := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("auto-register login %d: %v", i, errs[i])
			}
			if users[i].ID != users[0].ID {
				t.Fatal("auto-register created two accounts")
			}
			if users[i].NewlyCreated {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("NewlyCreated on %d answers, want 1", created)
		}
		u, err := in.client().LoginByEmail(ctx, "auto@example.com", "passw0rd!", &client.LoginOptions{AutoRegister: true})
		if err != nil || u.NewlyCreated || u.LoginsCount != n+1 {
			t.Fatalf("later auto-register login: %v %+v", err, u)
		}
		_, err = in.client().LoginByEmail(ctx, "auto@example.com", "other-password", &client.LoginOptions{AutoRegister: true})
		wantCode(t, err, 2006)
	})
}

func TestConcurrentDuplicateRegistration(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = in.client().RegisterByEmail(ctx, "race@example.com", "passw0rd!", nil, nil)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantCode(t, err, 2026)
		}
		if ok != 1 {
			t.Fatalf("%d registrations succeeded, want exactly 1", ok)
		}
	})
}

func TestTokenLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, testConfig(dbURL), clk)
		c := in.client()

		st, err := c.CheckLoginStatus(ctx, "")
		if err != nil || st.Status || st.Code != 2020 {
			t.Fatalf("no token: %v %+v", err, st)
		}
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "tok@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		st = must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, ""))
		if !st.Status || st.Code != 200 || st.UserID != u.ID || st.UserPoolID != u.UserPoolID || st.Exp <= st.Iat {
			t.Fatalf("current token: %+v", st)
		}

		me := must[*client.User](t)(c.GetCurrentUser(ctx))
		if me.ID != u.ID || me.Token != u.Token {
			t.Fatalf("GetCurrentUser: %+v", me)
		}

		clk.Advance(time.Minute)
		rt := must[*client.RefreshedToken](t)(c.RefreshToken(ctx))
		if rt.Exp <= st.Exp || rt.Token == u.Token || c.Token() != rt.Token {
			t.Fatalf("refresh: exp %d (was %d)", rt.Exp, st.Exp)
		}
		st2 := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, rt.Token))
		if !st2.Status || st2.Exp != rt.Exp {
			t.Fatalf("refreshed token: %+v", st2)
		}

		// Logout ends the session: both tokens of it stop working at once.
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if c.Token() != "" || c.CurrentUser() != nil {
			t.Fatal("logout did not clear the client")
		}
		for _, tok := range []string{u.Token, rt.Token} {
			st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, tok))
			if st.Status || st.Code != 2207 {
				t.Fatalf("token after logout: %+v", st)
			}
		}
		c.SetToken(rt.Token)
		_, err = c.GetCurrentUser(ctx)
		wantCode(t, err, 2207)
		_, err = c.RefreshToken(ctx)
		wantCode(t, err, 2207)

		// Expiry, with the injected clock.
		c2 := in.client()
		must[*client.User](t)(c2.LoginByEmail(ctx, "tok@example.com", "passw0rd!", nil))
		clk.Advance(16 * 24 * time.Hour)
		st = must[*client.LoginStatus](t)(c2.CheckLoginStatus(ctx, ""))
		if st.Status || st.Code != 2206 {
			t.Fatalf("expired token: %+v", st)
		}
		_, err = c2.GetCurrentUser(ctx)
		wantCode(t, err, 2206)
	})
}

func TestProfileAndPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "prof@example.com", "passw0rd!", &client.RegisterProfile{Nickname: "old", City: "Paris"}, &client.RegisterOptions{ForceLogin: true}))

		up, err := c.UpdateProfile(ctx, client.UpdateProfileInput{Nickname: ptr("new"), City: ptr(""), Gender: ptr("M"), Username: ptr("prof")})
		if err != nil {
			t.Fatal(err)
		}
		if up.Nickname != "new" || up.City != "" || up.Gender != "M" || up.Username != "prof" || up.Token != u.Token {
			t.Fatalf("UpdateProfile: %+v", up)
		}
		if c.CurrentUser().Nickname != "new" {
			t.Fatal("client did not keep the updated user")
		}
		_, err = c.UpdateProfile(ctx, client.UpdateProfileInput{Gender: ptr("X"), Nickname: ptr("changed")})
		wantCode(t, err, 1003)
		_, err = c.UpdateProfile(ctx, client.UpdateProfileInput{Email: ptr("other@example.com")})
		wantCode(t, err, 2225)
		_, err = c.UpdateProfile(ctx, client.UpdateProfileInput{Phone: ptr("+15555550100")})
		wantCode(t, err, 2226)
		me := must[*client.User](t)(c.GetCurrentUser(ctx))
		if me.Nickname != "new" || me.Gender != "M" || me.Email != "prof@example.com" {
			t.Fatalf("a refused update changed the user: %+v", me)
		}
		// Username taken by someone else.
		must[*client.User](t)(in.client().RegisterByUsername(ctx, "taken", "passw0rd!", nil, nil))
		_, err = c.UpdateProfile(ctx, client.UpdateProfileInput{Username: ptr("taken")})
		wantCode(t, err, 2034)

		// Password change: the old password is required and checked.
		_, err = c.UpdatePassword(ctx, "n3w-passw0rd", "wrong-old")
		wantCode(t, err, 2203)
		_, err = c.UpdatePassword(ctx, "short", "passw0rd!")
		wantCode(t, err, 2029)
		oldTok := c.Token()
		pu, err := c.UpdatePassword(ctx, "n3w-passw0rd", "passw0rd!")
		if err != nil {
			t.Fatal(err)
		}
		if pu.Token == "" || pu.Token == oldTok || c.Token() != pu.Token {
			t.Fatal("UpdatePassword must answer with a fresh token the client keeps")
		}
		st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, oldTok))
		if st.Status {
			t.Fatal("old session survived a password change")
		}
		must[*client.User](t)(c.GetCurrentUser(ctx))
		_, err = in.client().LoginByEmail(ctx, "prof@example.com", "passw0rd!", nil)
		wantCode(t, err, 2006)
		must[*client.User](t)(in.client().LoginByEmail(ctx, "prof@example.com", "n3w-passw0rd", nil))

		// Calls that need a token, without one.
		anon := in.client()
		_, err = anon.GetCurrentUser(ctx)
		wantCode(t, err, 2020)
		_, err = anon.UpdateProfile(ctx, client.UpdateProfileInput{Nickname: ptr("x")})
		wantCode(t, err, 2020)
		_, err = anon.UpdatePassword(ctx, "whatever-pw", "")
		wantCode(t, err, 2020)
		wantCode(t, anon.Logout(ctx), 2020)
	})
}

func TestRestartKeepsUsersSessionsAndKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := testConfig(dbURL)
		clk := newClock()
		first := start(t, cfg, clk)
		c := first.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "keep@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		pool := first.Srv.DefaultPoolID()
		first.stop()

		second := start(t, cfg, clk)
		if second.Srv.DefaultPoolID() != pool {
			t.Fatalf("default pool changed across restart: %s -> %s", pool, second.Srv.DefaultPoolID())
		}
		c2 := second.client()
		st := must[*client.LoginStatus](t)(c2.CheckLoginStatus(ctx, u.Token))
		if !st.Status || st.UserID != u.ID {
			t.Fatalf("token issued before restart: %+v", st)
		}
		must[*client.User](t)(c2.LoginByEmail(ctx, "keep@example.com", "passw0rd!", nil))
	})
}

// TestPoolSettingsTakeEffectAtOnce changes stored pool settings (as the
// admin API will) and sees the running server apply them without restart.
func TestPoolSettingsTakeEffectAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()
		if _, err := in.Srv.Store().UpdatePool(ctx, in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
			p.Settings.RegisterByEmail = false
			p.Settings.PasswordMinLength = 12
			p.Settings.TokenTTL = time.Hour
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err := c.RegisterByEmail(ctx, "closed@example.com", "passw0rd-long!", nil, nil)
		wantCode(t, err, 1009)
		_, err = c.RegisterByUsername(ctx, "shortpw", "passw0rd!", nil, nil)
		wantCode(t, err, 2029)
		u := must[*client.User](t)(c.RegisterByUsername(ctx, "longpw", "passw0rd-long!", nil, &client.RegisterOptions{GenerateToken: true}))
		if got := u.TokenExpiredAt.Sub(in.Clock.Now()); got != time.Hour {
			t.Fatalf("token lifetime %v, want the pool's 1h", got)
		}
	})
}

// TestConcurrentLogins: 32 logins at once (each a user read, a session
// insert and a user update) all succeed — no "database is locked" — and no
// login count is lost.
func TestConcurrentLogins(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		// Failure detection is on: simultaneous right passwords to one
		// account wait for each other's place, never for a CAPTCHA
		// (burst_test.go).
		in := start(t, testConfig(dbURL), nil)
		const users, perUser = 8, 4
		for i := range users {
			must[*client.User](t)(in.client().RegisterByEmail(ctx, fmt.Sprintf("c%d@example.com", i), "passw0rd!", nil, nil))
		}
		var wg sync.WaitGroup
		errs := make(chan error, users*perUser)
		for i := range users * perUser {
			wg.Go(func() {
				_, err := in.client().LoginByEmail(ctx, fmt.Sprintf("c%d@example.com", i%users), "passw0rd!", nil)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent login: %v", err)
			}
		}
		for i := range users {
			u := must[*client.User](t)(in.client().LoginByEmail(ctx, fmt.Sprintf("c%d@example.com", i), "passw0rd!", nil))
			if u.LoginsCount != perUser+1 {
				t.Errorf("user %d: LoginsCount %d, want %d", i, u.LoginsCount, perUser+1)
			}
		}
	})
}
