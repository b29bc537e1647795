package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// rawLogin posts a login by email with extra headers and returns the
// status and error body.
func rawLogin(t *testing.T, in *instance, body api.LoginByEmailRequest, headers map[string]string) (int, api.ErrorBody) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/api/v1/login/email", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb api.ErrorBody
	if resp.StatusCode >= 300 {
		_ = json.Unmarshal(raw, &eb)
	}
	return resp.StatusCode, eb
}

// lastFailureIP is the client address of the newest failed login. Tests
// step the clock between logins, since events of one instant list in no
// set order.
func lastFailureIP(t *testing.T, in *instance) string {
	t.Helper()
	evs := in.audit(t, userpool.AuditFilter{Event: userpool.AuditLoginFailure, Limit: 1})
	if len(evs) == 0 {
		t.Fatal("no login.failure event")
	}
	return evs[0].ClientIP
}

func TestClaimedClientIP(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "ip@example.com", "passw0rd!", nil, nil))

		// An untrusted caller's claim is ignored, silently: each failure is
		// counted under its real address, whatever it claims.
		for i := range 3 {
			in.Clock.Advance(time.Second)
			_, err := c.LoginByEmail(ctx, "ip@example.com", "wrong-pass", &client.LoginOptions{ClientIP: fmt.Sprintf("203.0.113.%d", i+1)})
			wantCode(t, err, 2006)
			if ip := lastFailureIP(t, in); ip != "127.0.0.1" {
				t.Fatalf("untrusted claim counted under %s", ip)
			}
		}
		// Claiming a fresh address does not dodge the per-IP counter.
		_, err := in.client().LoginByUsername(ctx, "someone", "passw0rd!", &client.LoginOptions{ClientIP: "203.0.113.50"})
		wantCode(t, err, 2000)

		// A backend with the app secret is believed: a fresh address is
		// counted apart (the account's own counter is not tripped yet).
		must[*client.User](t)(c.RegisterByEmail(ctx, "ip2@example.com", "passw0rd!", nil, nil))
		u := must[*client.User](t)(in.from("203.0.113.60", "ip2@example.com", "passw0rd!", nil))
		if u.LastIP != "203.0.113.60" {
			t.Fatalf("lastIP %q, want the claimed address", u.LastIP)
		}
		in.Clock.Advance(time.Second)
		_, err = in.from("203.0.113.61", "ip2@example.com", "wrong-pass", nil)
		wantCode(t, err, 2006)
		if ip := lastFailureIP(t, in); ip != "203.0.113.61" {
			t.Fatalf("trusted claim counted under %s", ip)
		}

		// A wrong secret is no error, but no trust either.
		bad := client.NewAuthenticationClient(client.Options{AppHost: in.URL, AppID: backendApp, AppSecret: "not-the-secret-at-all"})
		_, err = bad.LoginByEmail(ctx, "ip2@example.com", "passw0rd!", &client.LoginOptions{ClientIP: "203.0.113.62"})
		wantCode(t, err, 2000) // 127.0.0.1 is still over the threshold
		// Nor does a right secret under another app id.
		other := client.NewAuthenticationClient(client.Options{AppHost: in.URL, AppID: "other", AppSecret: backendSecret})
		_, err = other.LoginByEmail(ctx, "ip2@example.com", "passw0rd!", &client.LoginOptions{ClientIP: "203.0.113.63"})
		wantCode(t, err, 2000)

		// Registration options' clientIp follows the same rule.
		r := must[*client.User](t)(in.backend().RegisterByEmail(ctx, "ip3@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true, ClientIP: "198.51.100.30"}))
		r2 := must[*client.User](t)(in.client().RegisterByEmail(ctx, "ip4@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true, ClientIP: "198.51.100.31"}))
		if r.LastIP != "198.51.100.30" || r2.LastIP != "127.0.0.1" {
			t.Fatalf("registration lastIP: trusted %q, untrusted %q", r.LastIP, r2.LastIP)
		}
	})
}

func TestTrustedProxies(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := protConfig(dbURL)
		// The test's connections come from 127.0.0.1: make it a proxy, and
		// 10.0.0.0/8 the backends behind it.
		cfg.TrustedProxies = []string{"127.0.0.1/32", "10.0.0.0/8"}
		in := startProt(t, cfg, nil, &answers{})
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "px@example.com", "passw0rd!", nil, nil))
		fail := func(claim string, headers map[string]string) string {
			t.Helper()
			st, eb := rawLogin(t, in, api.LoginByEmailRequest{Email: "px@example.com", Password: "wrong-pass", Options: &api.LoginOptions{ClientIP: claim}}, headers)
			if st != 401 || eb.Code != 2006 {
				t.Fatalf("login: %d %+v", st, eb)
			}
			in.Clock.Advance(time.Hour) // keep the counters out of the way
			return lastFailureIP(t, in)
		}
		xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
		for _, tc := range []struct {
			name, claim string
			headers     map[string]string
			want        string
		}{
			{"a trusted CIDR calling directly may claim", "198.51.100.1", nil, "198.51.100.1"},
			{"the nearest untrusted hop is the client", "", xff("192.0.2.9, 198.51.100.2"), "198.51.100.2"},
			{"a browser behind the proxy may not claim", "198.51.100.3", xff("198.51.100.4"), "198.51.100.4"},
			{"hops it forged before the proxy are ignored", "", xff("10.0.0.1, 198.51.100.5"), "198.51.100.5"},
			{"a backend behind the proxy may claim", "198.51.100.6", xff("10.1.2.3"), "198.51.100.6"},
			{"an unknown hop stops the walk, untrusted", "198.51.100.7", xff("unknown, 10.1.2.3"), "10.1.2.3"},
			{"the other header is ignored", "", map[string]string{"Forwarded": "for=198.51.100.8"}, "127.0.0.1"},
		} {
			if got := fail(tc.claim, tc.headers); got != tc.want {
				t.Errorf("%s: counted under %s, want %s", tc.name, got, tc.want)
			}
		}

		// With Forwarded (RFC 7239) configured instead.
		cfg2 := cfg
		cfg2.DatabaseURL = "sqlite:" + t.TempDir() + "/fwd.db"
		cfg2.ForwardedHeader = "Forwarded"
		in = startProt(t, cfg2, nil, &answers{})
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "px@example.com", "passw0rd!", nil, nil))
		fwd := func(v string) map[string]string { return map[string]string{"Forwarded": v} }
		for _, tc := range []struct {
			name    string
			headers map[string]string
			want    string
		}{
			{"quoted IPv6 with port", fwd(`for="[2001:db8:cafe::17]:4711";proto=https`), "2001:db8:cafe::17"},
			{"nearest untrusted element", fwd(`for=192.0.2.43, for="198.51.100.17:80";by=10.0.0.1`), "198.51.100.17"},
			{"obfuscated hop", fwd(`for=_hidden`), "127.0.0.1"},
			{"X-Forwarded-For is ignored", xff("198.51.100.40"), "127.0.0.1"},
		} {
			if got := fail("", tc.headers); got != tc.want {
				t.Errorf("Forwarded %s: counted under %s, want %s", tc.name, got, tc.want)
			}
		}
	})
}

func TestRateLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := protConfig(dbURL)
		cfg.RateLimitRegister = config.Rate{Max: 2, Window: time.Minute}
		cfg.RateLimitLogin = config.Rate{Max: 3, Window: time.Minute}
		cfg.RateLimitCaptcha = config.Rate{Max: 2, Window: time.Minute}
		cfg.RateLimitTokenCheck = config.Rate{Max: 2, Window: time.Minute}
		in := startProt(t, cfg, nil, &answers{})
		c := in.client()
		limited := func(err error) {
			t.Helper()
			ce := wantCode(t, err, 1005)
			if ce.HTTPStatus != http.StatusTooManyRequests || ce.RetryAfter <= 0 || ce.RetryAfter > time.Minute {
				t.Fatalf("429 answer: %+v", ce)
			}
		}
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "rl@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true}))
		must[*client.User](t)(c.RegisterByEmail(ctx, "rl2@example.com", "passw0rd!", nil, nil))
		_, err := c.RegisterByEmail(ctx, "rl3@example.com", "passw0rd!", nil, nil)
		limited(err)

		// Logins: 3 a minute, counted before anything else (the refused
		// one leaves no trace of a credential check in the audit log).
		for range 3 {
			must[*client.User](t)(in.client().LoginByEmail(ctx, "rl@example.com", "passw0rd!", nil))
		}
		before := len(in.audit(t, userpool.AuditFilter{}))
		_, err = in.client().LoginByEmail(ctx, "rl@example.com", "wrong-pass", nil)
		limited(err)
		if after := len(in.audit(t, userpool.AuditFilter{})); after != before {
			t.Fatalf("a rate-limited login reached the credential check (%d -> %d events)", before, after)
		}
		// Per address: a backend's user at another address is not limited.
		must[*client.User](t)(in.from("198.51.100.70", "rl@example.com", "passw0rd!", nil))

		for range 2 {
			must[*client.Captcha](t)(c.GetCaptcha(ctx))
		}
		_, err = c.GetCaptcha(ctx)
		limited(err)
		for range 2 {
			must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, u.Token))
		}
		_, err = c.CheckLoginStatus(ctx, u.Token)
		limited(err)

		// The raw answer carries Retry-After.
		st, eb := rawLogin(t, in, api.LoginByEmailRequest{Email: "rl@example.com", Password: "x"}, nil)
		if st != 429 || eb.Code != 1005 {
			t.Fatalf("raw 429: %d %+v", st, eb)
		}

		// Windows end by themselves.
		in.Clock.Advance(time.Minute)
		must[*client.User](t)(c.RegisterByEmail(ctx, "rl3@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(in.client().LoginByEmail(ctx, "rl@example.com", "passw0rd!", nil))
		must[*client.Captcha](t)(c.GetCaptcha(ctx))
		must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, u.Token))
	})
}

// TestConcurrentWrongPasswords floods the server with 200 wrong-password
// logins at once: it stays up, answers each with a coded error (2006, or
// 429/1005 past the login limit), and its memory stays bounded because at
// most PasswordConcurrency hashes run at once.
func TestConcurrentWrongPasswords(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := protConfig(dbURL)
		const n, limit, hashMiB = 200, 120, 8
		cfg.PasswordMemoryKiB = hashMiB << 10
		cfg.PasswordTime = 3
		cfg.PasswordConcurrency = 2
		cfg.RateLimitLogin = config.Rate{Max: limit, Window: time.Hour}
		in := startProt(t, cfg, nil, &answers{})
		// Detection off, so that every allowed login hashes.
		in.settings(t, func(s *userpool.PoolSettings) { s.LoginFailureDetection = false })
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "flood@example.com", "passw0rd!", nil, nil))

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()

		codes := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := in.client().LoginByEmail(ctx, "flood@example.com", fmt.Sprintf("wrong-%d", i), nil)
				if ce, ok := errAs(err); ok {
					codes[i] = ce.Code
				}
			})
		}
		close(start)
		wg.Wait()
		close(stop)
		<-sampled

		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[2006] != limit || count[1005] != n-limit {
			t.Fatalf("answers by code %v, want %d x 2006 and %d x 1005", count, limit, n-limit)
		}
		// Unbounded, 150 hashes of 4 MiB would hold 600 MiB at once.
		t.Logf("heap grew by %d MiB", (int64(peak.Load())-int64(base.HeapInuse))>>20)
		if grew := int64(peak.Load()) - int64(base.HeapInuse); grew > 128<<20 {
			t.Fatalf("heap grew by %d MiB during the flood", grew>>20)
		}
		resp, err := http.Get(in.URL + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("server after the flood: %v %v", err, resp)
		}
		resp.Body.Close()
		in.Clock.Advance(time.Hour)
		must[*client.User](t)(in.client().LoginByEmail(ctx, "flood@example.com", "passw0rd!", nil))
	})
}

// TestReplicasShareCounters runs two servers on one PostgreSQL database:
// failures counted by one make the other demand a CAPTCHA, a CAPTCHA made
// by one is accepted by the other (once), and the rate limit is shared.
func TestReplicasShareCounters(t *testing.T) {
	url, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("needs PostgreSQL: set " + storetest.PostgresURLEnv)
	}
	ctx := context.Background()
	cfg := protConfig(url)
	cfg.RateLimitLogin = config.Rate{Max: 9, Window: time.Minute}
	clk := newClock()
	ans := &answers{}
	a := startProt(t, cfg, clk, ans)
	b := startProt(t, cfg, clk, ans)
	if a.Srv.DefaultPoolID() != b.Srv.DefaultPoolID() {
		t.Fatal("replicas disagree on the default pool")
	}
	must[*client.User](t)(a.client().RegisterByEmail(ctx, "shared@example.com", "passw0rd!", nil, nil))
	for range 3 {
		_, err := a.client().LoginByEmail(ctx, "shared@example.com", "wrong-pass", nil)
		wantCode(t, err, 2006)
	}
	_, err := b.client().LoginByEmail(ctx, "shared@example.com", "passw0rd!", nil)
	wantCode(t, err, 2000)
	cp := must[*client.Captcha](t)(a.client().GetCaptcha(ctx))
	must[*client.User](t)(b.client().LoginByEmail(ctx, "shared@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cp.ID, CaptchaCode: ans.last()}))
	for range 3 {
		_, err := b.client().LoginByEmail(ctx, "shared@example.com", "wrong-pass", nil)
		wantCode(t, err, 2006)
	}
	_, err = a.client().LoginByEmail(ctx, "shared@example.com", "passw0rd!", &client.LoginOptions{CaptchaID: cp.ID, CaptchaCode: ans.last()})
	wantCode(t, err, 2001) // spent on b
	// 3 + 1 + 1 + 3 + 1 = 9 logins from 127.0.0.1 on the two replicas,
	// the shared limit: the next one is over it.
	_, err = b.client().LoginByEmail(ctx, "shared@example.com", "passw0rd!", nil)
	wantCode(t, err, 1005)
}
