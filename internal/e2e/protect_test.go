package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/userpool"
)

// Tests of login protection (issue 4): failure detection and CAPTCHA,
// lockout, the uniform login error, the password policy and the audit log.
// Client-IP trust, rate limits and load are in trust_test.go.

const (
	backendApp    = "backend"
	backendSecret = "s3rver-side-secret-0123456789abcdef"
)

// answers is the CAPTCHA answer source tests inject (as they inject the
// clock): 100001, 100002, ... so that each CAPTCHA has its own answer.
type answers struct {
	mu sync.Mutex
	n  int
}

func (a *answers) next() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return fmt.Sprintf("%06d", 100000+a.n)
}

// last is the answer of the newest CAPTCHA.
func (a *answers) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("%06d", 100000+a.n)
}

// protConfig is testConfig with a server-side app whose clientIp claims
// are believed, so tests can log in "from" many addresses.
func protConfig(dbURL string) config.Config {
	cfg := testConfig(dbURL)
	cfg.AppSecrets = []config.Secret{config.Secret(backendApp + ":" + backendSecret)}
	return cfg
}

// startProt is start with known CAPTCHA answers.
func startProt(t testing.TB, cfg config.Config, clk *clock, ans *answers) *instance {
	t.Helper()
	return startWith(t, cfg, clk, server.Options{NewCaptchaAnswer: ans.next})
}

// backend is a client authenticated with the app secret: its ClientIP
// options are believed.
func (in *instance) backend() *client.AuthenticationClient {
	return client.NewAuthenticationClient(client.Options{AppHost: in.URL, AppID: backendApp, AppSecret: backendSecret, Timeout: 30 * time.Second})
}

// from logs in by email as a backend on behalf of ip.
func (in *instance) from(ip, email, pw string, opts *client.LoginOptions) (*client.User, error) {
	o := client.LoginOptions{}
	if opts != nil {
		o = *opts
	}
	o.ClientIP = ip
	return in.backend().LoginByEmail(context.Background(), email, pw, &o)
}

func (in *instance) settings(t testing.TB, fn func(*userpool.PoolSettings)) {
	t.Helper()
	if _, err := in.Srv.Store().UpdatePool(context.Background(), in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
		fn(&p.Settings)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (in *instance) audit(t testing.TB, f userpool.AuditFilter) []*userpool.AuditEvent {
	t.Helper()
	if f.PoolID == "" {
		f.PoolID = in.Srv.DefaultPoolID()
	}
	evs, err := in.Srv.Store().ListAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestCaptchaAfterFailedLogins(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startProt(t, protConfig(dbURL), nil, ans)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "alice@example.com", "passw0rd!", nil, nil))

		for range 3 {
			_, err := c.LoginByEmail(ctx, "alice@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		// The 4th, with the right password, must pass a CAPTCHA first.
		_, err := c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", nil)
		if ce := wantCode(t, err, 2000); ce.HTTPStatus != http.StatusForbidden || ce.Reason != "captcha_required" {
			t.Fatalf("captcha demand: %+v", ce)
		}
		if evs := in.audit(t, userpool.AuditFilter{Event: userpool.AuditCaptchaRequired}); len(evs) != 1 || evs[0].ClientIP != "127.0.0.1" {
			t.Fatalf("captcha.required events: %d", len(evs))
		}

		cap1 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		img, err := png.Decode(bytes.NewReader(cap1.PNG))
		if err != nil || img.Bounds().Dx() != 240 || img.Bounds().Dy() != 80 || cap1.ID == "" {
			t.Fatalf("captcha image: %v %v id %q", err, img, cap1.ID)
		}
		if d := cap1.ExpiresAt.Sub(in.Clock.Now()); d != 5*time.Minute {
			t.Fatalf("captcha lives %v, want 5m", d)
		}
		right1 := ans.last()
		// A wrong answer is 2001, and spends the CAPTCHA: the right answer
		// afterwards is 2001 too.
		_, err = c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cap1.ID, CaptchaCode: "999999"})
		wantCode(t, err, 2001)
		_, err = c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cap1.ID, CaptchaCode: right1})
		wantCode(t, err, 2001)
		// Another CAPTCHA's answer does not fit this id.
		cap2 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		_, err = c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cap2.ID, CaptchaCode: right1})
		wantCode(t, err, 2001)

		// A right CAPTCHA with a wrong password counts as a failure, and
		// the CAPTCHA is still demanded afterwards.
		cap3 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		_, err = c.LoginByEmail(ctx, "alice@example.com", "wrong-pass", &client.LoginOptions{CaptchaID: cap3.ID, CaptchaCode: ans.last()})
		wantCode(t, err, 2006)
		_, err = c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)

		// A right CAPTCHA (spaces are ignored) and the right password.
		cap4 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		a := ans.last()
		u, err := c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cap4.ID, CaptchaCode: " " + a[:3] + " " + a[3:]})
		if err != nil || u.Token == "" {
			t.Fatalf("login with a right CAPTCHA: %v", err)
		}
		// Reused: 2001, even with the right answer. (The next login needs
		// no CAPTCHA, so put the counters back over the threshold first.)
		for range 3 {
			_, err := c.LoginByEmail(ctx, "alice@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		_, err = c.LoginByEmail(ctx, "alice@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cap4.ID, CaptchaCode: a})
		wantCode(t, err, 2001)
	})
}

func TestCaptchaSuccessLiftsTheDemand(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startProt(t, protConfig(dbURL), nil, ans)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "bea@example.com", "passw0rd!", nil, nil))
		for range 3 {
			_, err := c.LoginByEmail(ctx, "bea@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		cp := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		must[*client.User](t)(c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cp.ID, CaptchaCode: ans.last()}))
		// Both counters were reset: one more failure is 2006, not 2000, and
		// a plain login works.
		_, err := c.LoginByEmail(ctx, "bea@example.com", "wrong-pass", nil)
		wantCode(t, err, 2006)
		must[*client.User](t)(c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", nil))

		// A CAPTCHA sent when none is demanded is ignored and stays usable.
		cp2 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		must[*client.User](t)(c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cp2.ID, CaptchaCode: "000000"}))
		if _, err := in.Srv.Store().TakeCaptcha(ctx, in.Srv.DefaultPoolID(), cp2.ID, in.Clock.Now()); err != nil {
			t.Fatalf("an unrequired CAPTCHA was spent: %v", err)
		}

		// A login without a CAPTCHA reset only the account's count: the
		// address still holds the failure from before, so two more trip it.
		for range 2 {
			_, err := c.LoginByEmail(ctx, "bea@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		_, err = c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)
		// Counters expire by themselves after the window (5 minutes).
		in.Clock.Advance(5 * time.Minute)
		for range 3 {
			_, err := c.LoginByEmail(ctx, "bea@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		_, err = c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)
		in.Clock.Advance(5 * time.Minute)
		must[*client.User](t)(c.LoginByEmail(ctx, "bea@example.com", "passw0rd!", nil))
	})
}

func TestCaptchaExpiresAndCookie(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startProt(t, protConfig(dbURL), nil, ans)
		in.settings(t, func(s *userpool.PoolSettings) { s.LoginFailureWindow = time.Hour })
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "cy@example.com", "passw0rd!", nil, nil))
		for range 3 {
			_, err := c.LoginByEmail(ctx, "cy@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		cp := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		in.Clock.Advance(5 * time.Minute)
		_, err := c.LoginByEmail(ctx, "cy@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cp.ID, CaptchaCode: ans.last()})
		wantCode(t, err, 2001)

		// A browser: the image request sets a cookie, and the login sends
		// only the code.
		resp, err := http.Get(in.URL + "/api/v1/captcha?format=png")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get(api.HeaderCaptchaID) == "" {
			t.Fatalf("png captcha: %d %s", resp.StatusCode, resp.Header)
		}
		if _, err := png.Decode(bytes.NewReader(body)); err != nil {
			t.Fatalf("png captcha body: %v", err)
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == api.CaptchaCookie {
				cookie = ck
			}
		}
		if cookie == nil || cookie.Value != resp.Header.Get(api.HeaderCaptchaID) || !cookie.HttpOnly || cookie.MaxAge != 300 {
			t.Fatalf("captcha cookie: %+v", cookie)
		}
		login := func(code string) (int, api.ErrorBody) {
			b, _ := json.Marshal(api.LoginByEmailRequest{Email: "cy@example.com", Password: "passw0rd!", Options: &api.LoginOptions{CaptchaCode: code}})
			req, _ := http.NewRequest(http.MethodPost, in.URL+"/api/v1/login/email", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb api.ErrorBody
			_ = json.NewDecoder(resp.Body).Decode(&eb)
			return resp.StatusCode, eb
		}
		if st, eb := login(ans.last()); st != http.StatusOK {
			t.Fatalf("login with the cookie's CAPTCHA: %d %+v", st, eb)
		}

		// Bad format, and a CAPTCHA for an unknown pool.
		resp, err = http.Get(in.URL + "/api/v1/captcha?format=gif")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("format=gif: %d", resp.StatusCode)
		}
		_, err = client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: "nope"}).GetCaptcha(ctx)
		wantCode(t, err, 1006)
	})
}

func TestFailuresPerIPAndPerAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		c := in.client()
		for _, e := range []string{"victim@example.com", "other@example.com", "spread@example.com"} {
			must[*client.User](t)(c.RegisterByEmail(ctx, e, "passw0rd!", nil, nil))
		}
		const ipA, ipB = "198.51.100.1", "198.51.100.2"
		for range 3 {
			_, err := in.from(ipA, "victim@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		// The per-IP counter: A needs a CAPTCHA for any account...
		_, err := in.from(ipA, "other@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)
		// ... B does not.
		must[*client.User](t)(in.from(ipB, "other@example.com", "passw0rd!", nil))
		// The per-account counter: the victim needs one from any address.
		_, err = in.from(ipB, "victim@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)

		// A spread-out attack: one failure from each of three addresses.
		for i := range 3 {
			_, err := in.from(fmt.Sprintf("203.0.113.%d", i+1), "spread@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		_, err = in.from("203.0.113.99", "spread@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)
		// The same for an account that does not exist: no difference tells
		// an attacker which accounts exist.
		for i := range 3 {
			_, err := in.from(fmt.Sprintf("203.0.113.%d", 10+i), "ghost@example.com", "wrong-pass", nil)
			wantCode(t, err, 2004)
		}
		_, err = in.from("203.0.113.98", "ghost@example.com", "wrong-pass", nil)
		wantCode(t, err, 2000)

		// IPv6 addresses count by their /64.
		for i := range 3 {
			_, err := in.from(fmt.Sprintf("2001:db8:1:2::%d", i+1), "nobody@example.com", "wrong-pass", nil)
			wantCode(t, err, 2004)
		}
		_, err = in.from("2001:db8:1:2:ffff::1", "other@example.com", "passw0rd!", nil)
		wantCode(t, err, 2000)
		must[*client.User](t)(in.from("2001:db8:1:3::1", "other@example.com", "passw0rd!", nil))

		// Counters belong to one pool.
		if err := in.Srv.Store().CreatePool(ctx, &userpool.Pool{ID: "second", Name: "second", Settings: userpool.DefaultPoolSettings()}); err != nil {
			t.Fatal(err)
		}
		p2 := client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: "second", AppID: backendApp, AppSecret: backendSecret})
		must[*client.User](t)(p2.RegisterByEmail(ctx, "victim@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(p2.LoginByEmail(ctx, "victim@example.com", "passw0rd!", &client.LoginOptions{ClientIP: ipA}))
	})
}

func TestLockout(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		in.settings(t, func(s *userpool.PoolSettings) {
			s.LoginFailureDetection = false
			s.LockoutEnabled, s.LockoutThreshold, s.LockoutDuration, s.LockoutWindow = true, 3, 15*time.Minute, time.Hour
		})
		c := in.client()
		owner := must[*client.User](t)(c.RegisterByEmail(ctx, "lock@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		// A success resets the count: 2 failures, a success, 2 failures.
		for range 2 {
			_, err := in.client().LoginByEmail(ctx, "lock@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		must[*client.User](t)(in.client().LoginByEmail(ctx, "lock@example.com", "passw0rd!", nil))
		for range 2 {
			_, err := in.client().LoginByEmail(ctx, "lock@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		// The 3rd in a row locks, and says until when.
		_, err := in.client().LoginByEmail(ctx, "lock@example.com", "wrong-pass", nil)
		ce := wantCode(t, err, 2005)
		unlock := in.Clock.Now().Add(15 * time.Minute).UTC().Format(time.RFC3339)
		if ce.Data["unlockAt"] != unlock || ce.RetryAfter != 15*time.Minute || ce.HTTPStatus != http.StatusForbidden {
			t.Fatalf("lock answer: %+v", ce)
		}
		// Locked: even the right password, from any address, is refused
		// before it is checked.
		_, err = in.from("198.51.100.7", "lock@example.com", "passw0rd!", nil)
		wantCode(t, err, 2005)
		if evs := in.audit(t, userpool.AuditFilter{Event: userpool.AuditAccountLocked}); len(evs) != 1 || evs[0].UserID != owner.ID {
			t.Fatalf("account.locked events: %+v", evs)
		}
		// It unlocks by itself.
		in.Clock.Advance(15 * time.Minute)
		must[*client.User](t)(in.client().LoginByEmail(ctx, "lock@example.com", "passw0rd!", nil))

		// Locked again; the owner, still logged in, changes the password,
		// which unlocks (as a password reset does).
		for range 3 {
			_, err = in.client().LoginByEmail(ctx, "lock@example.com", "wrong-pass", nil)
		}
		wantCode(t, err, 2005)
		must[*client.User](t)(c.UpdatePassword(ctx, "n3w-passw0rd!", "passw0rd!"))
		must[*client.User](t)(in.client().LoginByEmail(ctx, "lock@example.com", "n3w-passw0rd!", nil))

		// Unknown accounts lock the same way.
		for range 2 {
			_, err := in.client().LoginByEmail(ctx, "nobody@example.com", "wrong-pass", nil)
			wantCode(t, err, 2004)
		}
		_, err = in.client().LoginByEmail(ctx, "nobody@example.com", "wrong-pass", nil)
		wantCode(t, err, 2005)
	})
}

func TestUniformLoginError(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		c := in.client()
		must[*client.User](t)(c.RegisterByUsername(ctx, "uniform", "passw0rd!", nil, nil))
		// Off (the default): distinct codes, for compatibility.
		_, err := c.LoginByUsername(ctx, "missing", "passw0rd!", nil)
		wantCode(t, err, 2004)
		in.settings(t, func(s *userpool.PoolSettings) { s.UniformLoginError = true })
		for _, user := range []string{"missing", "uniform"} {
			_, err := c.LoginByUsername(ctx, user, "wrong-pass", nil)
			if ce := wantCode(t, err, 2333); ce.HTTPStatus != http.StatusUnauthorized || ce.Reason != "wrong_account_or_password" {
				t.Fatalf("%s: %+v", user, ce)
			}
		}
		// The audit log still knows which it was.
		reasons := map[string]bool{}
		for _, e := range in.audit(t, userpool.AuditFilter{Event: userpool.AuditLoginFailure}) {
			reasons[e.Detail["reason"]] = true
		}
		if !reasons["user_not_found"] || !reasons["wrong_password"] {
			t.Fatalf("failure reasons %v", reasons)
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		c := in.client()
		reason := func(err error, want string) {
			t.Helper()
			if ce := wantCode(t, err, 2029); ce.Reason != want {
				t.Fatalf("reason %q, want %q (%s)", ce.Reason, want, ce.Message)
			}
		}
		_, err := c.RegisterByEmail(ctx, "Margaret@example.com", "short", nil, nil)
		reason(err, "password_too_short")
		_, err = c.RegisterByEmail(ctx, "Margaret@example.com", "xx-MARGARET-2024", nil, nil)
		reason(err, "password_contains_identity")
		_, err = c.RegisterByUsername(ctx, "hopper", "hopper", nil, nil)
		reason(err, "password_too_short")
		_, err = c.RegisterByUsername(ctx, "hopper", "Hopper1906", nil, nil)
		reason(err, "password_contains_identity")
		_, err = c.RegisterByEmail(ctx, "grace@example.com", "QwertyUIOP", nil, nil)
		reason(err, "password_too_common")
		_, err = c.RegisterByEmail(ctx, "grace@example.com", "iloveyou1", nil, nil)
		reason(err, "password_too_common")
		// A one- or two-letter username inside a password is coincidence.
		must[*client.User](t)(c.RegisterByUsername(ctx, "al", "albatross-77", nil, nil))
		// Auto-register applies the policy too.
		_, err = c.LoginByEmail(ctx, "new@example.com", "password1", &client.LoginOptions{AutoRegister: true})
		reason(err, "password_too_common")
		// And so does UpdatePassword, with the account's own identifiers.
		must[*client.User](t)(c.RegisterByEmail(ctx, "grace@example.com", "passw0rd!", &client.RegisterProfile{Username: "gracie"}, &client.RegisterOptions{ForceLogin: true}))
		_, err = c.UpdatePassword(ctx, "my-gracie-pw", "passw0rd!")
		reason(err, "password_contains_identity")
		_, err = c.UpdatePassword(ctx, "trustno1", "passw0rd!")
		reason(err, "password_too_common")
		// Nothing was created by the refusals.
		_, err = c.LoginByEmail(ctx, "margaret@example.com", "xx-MARGARET-2024", nil)
		wantCode(t, err, 2004)
		// A pool may allow common passwords.
		in.settings(t, func(s *userpool.PoolSettings) { s.PasswordRejectCommon = false })
		must[*client.User](t)(c.RegisterByEmail(ctx, "lax@example.com", "qwertyuiop", nil, nil))
	})
}

func TestAuditLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		c := in.client()
		const pw = "s3cret-phrase-77"
		// Events at one instant list in no set order; step the clock.
		tick := func() { in.Clock.Advance(time.Second) }
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "audit@example.com", pw, nil, &client.RegisterOptions{ForceLogin: true}))
		tick()
		_, err := in.client().LoginByEmail(ctx, "audit@example.com", "wrong-"+pw, nil)
		wantCode(t, err, 2006)
		tick()
		_, err = in.client().LoginByEmail(ctx, "someone-typed-their-password@example.com", pw, nil)
		wantCode(t, err, 2004)
		tick()
		must[*client.RefreshedToken](t)(c.RefreshToken(ctx))
		tick()
		must[*client.User](t)(c.UpdatePassword(ctx, "new-"+pw, pw))
		tick()
		must[*client.User](t)(in.backend().LoginByEmail(ctx, "audit@example.com", "new-"+pw, &client.LoginOptions{ClientIP: "192.0.2.55"}))
		tick()
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}

		evs := in.audit(t, userpool.AuditFilter{})
		var got []string
		for i := len(evs) - 1; i >= 0; i-- { // oldest first
			e := evs[i]
			got = append(got, e.Event+":"+e.Detail["reason"])
			if e.PoolID != in.Srv.DefaultPoolID() || e.CreatedAt.IsZero() || e.UserAgent == "" {
				t.Errorf("event %s lacks pool, time or user agent: %+v", e.Event, e)
			}
			if e.Event != userpool.AuditLoginFailure || e.Detail["reason"] != "user_not_found" {
				if e.UserID != u.ID {
					t.Errorf("event %s has user %q, want %q", e.Event, e.UserID, u.ID)
				}
			} else if e.UserID != "" || len(e.Detail) != 2 {
				t.Errorf("unknown-account failure records more than method and reason: %+v", e)
			}
			// Never a password, nor the identifier tried for an unknown
			// account.
			raw := fmt.Sprintf("%+v", *e)
			if strings.Contains(raw, pw) || strings.Contains(raw, "someone-typed") {
				t.Errorf("audit event holds a secret: %s", raw)
			}
		}
		// Registration with forceLogin records two events at one instant.
		slices.Sort(got[:2])
		want := []string{
			"login.success:", "user.register:", "login.failure:wrong_password", "login.failure:user_not_found",
			"token.refresh:", "password.change:", "login.success:", "logout:",
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("audit log\n got %v\nwant %v", got, want)
		}
		// The backend's login is recorded under the claimed address and app.
		ok := in.audit(t, userpool.AuditFilter{Event: userpool.AuditLoginSuccess})
		if ok[0].ClientIP != "192.0.2.55" || ok[0].Detail["app"] != backendApp || ok[0].Detail["method"] != "email" {
			t.Fatalf("backend login event: %+v", ok[0])
		}

		// Retention: the janitor deletes events older than the retention.
		in.Clock.Advance(91 * 24 * time.Hour)
		in.Srv.Purge(ctx)
		if left := in.audit(t, userpool.AuditFilter{}); len(left) != 0 {
			t.Fatalf("%d events survived retention", len(left))
		}
	})
}

// errAs is errors.As for a *client.Error, for tests that look at many.
func errAs(err error) (*client.Error, bool) {
	var ce *client.Error
	return ce, errors.As(err, &ce)
}

// TestCaptchaIDInCode: a caller that can send neither a cookie nor a
// captchaId (Authing's Python SDK) names the CAPTCHA inside captchaCode as
// "<id>:<answer>". The id must be the image's own: another image's id, an
// unknown id or a wrong answer is 2001, and each image allows one guess.
func TestCaptchaIDInCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startProt(t, protConfig(dbURL), nil, ans)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "dee@example.com", "passw0rd!", nil, nil))
		for range 3 {
			_, err := c.LoginByEmail(ctx, "dee@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		login := func(code string) error {
			_, err := c.LoginByEmail(ctx, "dee@example.com", "passw0rd!", &client.LoginOptions{CaptchaCode: code})
			return err
		}
		cp1 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		a1 := ans.last()
		cp2 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		wantCode(t, login(cp2.ID+":"+a1), 2001) // cp1's answer with cp2's id (cp2 is spent)
		wantCode(t, login("no-such-id:"+a1), 2001)
		wantCode(t, login(cp1.ID+":"), 2000) // no answer: not a guess
		wantCode(t, login(cp1.ID+":999999"), 2001)
		wantCode(t, login(cp1.ID+":"+a1), 2001) // spent by the wrong guess
		cp3 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		if err := login(cp3.ID + ":" + ans.last()); err != nil {
			t.Fatalf("login with <id>:<answer>: %v", err)
		}
		// Phone logins take the same form.
		for range 3 {
			_, err := c.LoginByEmail(ctx, "dee@example.com", "wrong-pass", nil)
			wantCode(t, err, 2006)
		}
		cp4 := must[*client.Captcha](t)(c.GetCaptcha(ctx))
		_, err := c.LoginByPhonePassword(ctx, "+8613800138000", "passw0rd!", &client.LoginOptions{CaptchaCode: cp4.ID + ":" + ans.last()})
		wantCode(t, err, 2004)
	})
}
