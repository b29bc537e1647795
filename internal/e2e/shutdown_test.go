package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/sqlstore"
)

// TestGracefulShutdown: when the server's context ends (SIGTERM), a login
// in flight (held in a post-authentication HTTP pipeline) completes with
// a token that verifies after a restart; readiness and new requests are
// refused while it finishes; and the token-check hits the rate limiter
// counted in memory are in the store once the server has stopped.
func TestGracefulShutdown(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		cfg.PipelineTimeout = config.Duration(30 * time.Second)
		in := start(t, cfg, nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "drain@example.com", "passw0rd!", nil, nil))
		li := must[*client.User](t)(c.LoginByEmail(ctx, "drain@example.com", "passw0rd!", nil))

		// Token checks are counted in memory (a large limit, far from
		// it) and written with a later hit: the first writes, the rest
		// wait (the injected clock does not move).
		const checks = 40
		for range checks {
			st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, li.Token))
			if !st.Status {
				t.Fatalf("check: %+v", st)
			}
		}
		const counter = "rl:token_check:127.0.0.1"
		if n, _, err := in.Srv.Store().GetCounter(ctx, counter, in.Clock.Now()); err != nil || n >= checks {
			t.Fatalf("before shutdown the store holds %d of %d checks (%v): nothing left to flush, the test would prove nothing", n, checks, err)
		}

		// A login that will be in flight when shutdown begins.
		entered, release := make(chan struct{}), make(chan struct{})
		secret := pipeline.NewSecret()
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			w.WriteHeader(http.StatusNoContent)
		}))
		defer hook.Close()
		addPipeline(t, in, client.StagePostAuthentication, 0, "", func(p *client.CreatePipelineRequest) {
			p.Kind, p.Script, p.URL, p.Secret = client.PipelineKindHTTP, "", hook.URL, secret
		})
		type result struct {
			u   *client.User
			err error
		}
		done := make(chan result, 1)
		flight := in.client()
		go func() {
			u, err := flight.LoginByEmail(ctx, "drain@example.com", "passw0rd!", nil)
			done <- result{u, err}
		}()
		<-entered

		stopped := make(chan struct{})
		go func() { in.stop(); close(stopped) }()
		waitFor(t, "the server to start draining", in.Srv.Draining)

		// Not ready any more, and a new login is refused: 503 (with
		// Retry-After) while the listener is still open, a refused
		// connection once it has closed.
		adm := in.admin()
		if err := adm.Ready(ctx); err == nil {
			t.Fatal("ready while shutting down")
		}
		_, err := in.client().LoginByEmail(ctx, "drain@example.com", "passw0rd!", nil)
		var ce *client.Error
		if !errors.As(err, &ce) {
			t.Fatalf("a new login during shutdown: %v", err)
		}
		if ce.HTTPStatus != 0 && (ce.HTTPStatus != http.StatusServiceUnavailable || ce.Code != api.CodeUnavailable || ce.RetryAfter <= 0) {
			t.Fatalf("a new login during shutdown: %+v", ce)
		}
		// The same, deterministically: the handler itself (the listener
		// may already be closed) refuses with 503 and Retry-After, and
		// keeps answering the probes.
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{"POST", "/api/v1/login/email", http.StatusServiceUnavailable},
			{"GET", "/api/v1/users/me", http.StatusServiceUnavailable},
			{"GET", "/readyz", http.StatusServiceUnavailable},
			{"GET", "/livez", http.StatusOK},
			{"GET", "/healthz", http.StatusOK},
		} {
			rec := httptest.NewRecorder()
			in.Srv.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{}`)))
			if rec.Code != tc.status || (tc.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "") {
				t.Errorf("%s %s while draining: %d %q (Retry-After %q), want %d", tc.method, tc.path, rec.Code, rec.Body, rec.Header().Get("Retry-After"), tc.status)
			}
		}
		select {
		case r := <-done:
			t.Fatalf("the login in flight ended before its pipeline answered: %+v %v", r.u, r.err)
		case <-stopped:
			t.Fatal("the server stopped with a login in flight")
		default:
		}

		close(release)
		r := <-done
		if r.err != nil || r.u.Token == "" {
			t.Fatalf("the login in flight: %+v %v", r.u, r.err)
		}
		<-stopped

		st, err := sqlstore.Open(ctx, in.DBURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if n, _, err := st.GetCounter(ctx, counter, in.Clock.Now()); err != nil || n != checks {
			t.Fatalf("after shutdown the store holds %d token checks (%v), want %d", n, err, checks)
		}

		// The token issued during the drain is a real session.
		again := start(t, cfg, in.Clock)
		if s := must[*client.LoginStatus](t)(again.client().CheckLoginStatus(ctx, r.u.Token)); !s.Status {
			t.Fatalf("the token of the login finished during shutdown: %+v", s)
		}
	})
}
