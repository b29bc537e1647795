package e2e

// Benchmarks of the OpenID provider's token endpoints over real HTTP on
// loopback, read as ratios to BenchmarkTrivialJSON of the same run
// (docs/BENCHMARKS.md, "OpenID provider"):
//
//	go test ./internal/e2e -run '^$' -bench 'TrivialJSON|OIDC' -benchtime 3s -count 3

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

// oidcBenchServer is benchServer with the administrator key (to create the
// application) and a user who signed in through the hosted page once.
func oidcBenchServer(b *testing.B) (*instance, *relyingParty, *browser) {
	b.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + b.TempDir() + "/bench.db"
	if u := benchPostgres(b); u != "" {
		cfg.DatabaseURL = u
	}
	for _, r := range []*config.Rate{&cfg.RateLimitRegister, &cfg.RateLimitLogin, &cfg.RateLimitCaptcha, &cfg.RateLimitTokenCheck, &cfg.RateLimitGraphQL} {
		r.Max = 1 << 30
	}
	cfg.AdminKey = testAdminKey
	in := start(b, cfg, nil)
	email := "bench@example.com"
	must[*client.User](b)(in.client().RegisterByEmail(context.Background(), email, oidcPassword, nil, nil))
	rp := newRP(b, in, "", client.CreateAppRequest{Name: "Bench", FirstParty: true})
	br := newBrowser(b, in)
	br.codeFlow(rp, []string{"openid"}, email, oidcPassword) // the browser session (SSO) for the codes to come
	return in, rp, br
}

// benchCode is one code with its request's verifier.
type benchCode struct{ code, verifier string }

// newCode runs the authorization request in the signed-in browser (single
// sign-on: no page) and returns the code.
func newCode(b *testing.B, rp *relyingParty, br *browser, scopes []string) benchCode {
	ar := rp.authURL(scopes)
	q := ar.callback(b, rp, br.get(ar.URL))
	if q.Get("code") == "" {
		b.Fatalf("no code: %v", q)
	}
	return benchCode{q.Get("code"), ar.Verifier}
}

// tokenPost posts a form to an endpoint with the app's credentials (HTTP
// Basic) and decodes the JSON answer.
func tokenPost(hc *http.Client, endpoint string, rp *relyingParty, form url.Values) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.app.ID), url.QueryEscape(rp.app.ClientSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out, nil
}

// BenchmarkOIDCCodeExchange: authorization_code grants (code + PKCE
// verifier + client secret -> access and ID token, both signed), the codes
// made beforehand outside the timer.
func BenchmarkOIDCCodeExchange(b *testing.B) {
	_, rp, br := oidcBenchServer(b)
	tokenURL := rp.endpoint(b, "token_endpoint")
	codes := make(chan benchCode, b.N)
	for range b.N {
		codes <- newCode(b, rp, br, []string{"openid", "profile"})
	}
	close(codes)
	hc := benchHTTP()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := <-codes
			st, out, err := tokenPost(hc, tokenURL, rp, url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
				"redirect_uri": {rp.conf.RedirectURL}, "code_verifier": {c.verifier}})
			if err != nil || st != 200 || out["id_token"] == nil {
				b.Errorf("exchange: %d %v %v", st, out, err)
				return
			}
		}
	})
}

// BenchmarkOIDCRefresh: refresh_token grants with rotation (each answer's
// refresh token is the next request's), one token family per goroutine.
func BenchmarkOIDCRefresh(b *testing.B) {
	_, rp, br := oidcBenchServer(b)
	tokenURL := rp.endpoint(b, "token_endpoint")
	hc := benchHTTP()
	// One family per goroutine of RunParallel (parallelism × GOMAXPROCS),
	// with room to spare.
	families := make(chan string, 64*benchParallelism)
	for range cap(families) / 8 {
		c := newCode(b, rp, br, []string{"openid", "offline_access"})
		st, out, err := tokenPost(hc, tokenURL, rp, url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
			"redirect_uri": {rp.conf.RedirectURL}, "code_verifier": {c.verifier}})
		rt, _ := out["refresh_token"].(string)
		if err != nil || st != 200 || rt == "" {
			b.Fatalf("exchange: %d %v %v", st, out, err)
		}
		families <- rt
	}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var rt string
		select {
		case rt = <-families:
		default:
			b.Error("more goroutines than token families")
			return
		}
		for pb.Next() {
			st, out, err := tokenPost(hc, tokenURL, rp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			next, _ := out["refresh_token"].(string)
			if err != nil || st != 200 || next == "" {
				b.Errorf("refresh: %d %v %v", st, out, err)
				return
			}
			rt = next
		}
	})
}

// BenchmarkOIDCIntrospection: RFC 7662 introspection of one active access
// token by its client (client authentication, signature check, the grant
// and its session read from the store).
func BenchmarkOIDCIntrospection(b *testing.B) {
	_, rp, br := oidcBenchServer(b)
	hc := benchHTTP()
	c := newCode(b, rp, br, []string{"openid"})
	st, out, err := tokenPost(hc, rp.endpoint(b, "token_endpoint"), rp, url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
		"redirect_uri": {rp.conf.RedirectURL}, "code_verifier": {c.verifier}})
	at, _ := out["access_token"].(string)
	if err != nil || st != 200 || at == "" {
		b.Fatalf("exchange: %d %v %v", st, out, err)
	}
	introURL := rp.endpoint(b, "introspection_endpoint")
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, out, err := tokenPost(hc, introURL, rp, url.Values{"token": {at}})
			if err != nil || st != 200 || out["active"] != true {
				b.Errorf("introspection: %d %v %v", st, out, err)
				return
			}
		}
	})
}
