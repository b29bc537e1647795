package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// clock is an injected clock tests move forward instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// instance is one running server.
type instance struct {
	URL    string
	Srv    *server.Server
	Clock  *clock
	DBURL  string
	Outbox *outbox
	cancel context.CancelFunc
	done   chan error
}

// testConfig is the configuration tests use: cheap password hashing (the
// parameters are configuration; benchmarks use the defaults).
func testConfig(dbURL string) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = dbURL
	cfg.PasswordMemoryKiB = 64
	cfg.PasswordTime = 1
	// Retries of queued messages are picked up promptly once the test's
	// clock makes them due.
	cfg.MessagePollInterval = config.Duration(10 * time.Millisecond)
	return cfg
}

// start runs a server over dbURL until the test ends (or stop is called).
func start(t testing.TB, cfg config.Config, clk *clock) *instance {
	t.Helper()
	return startWith(t, cfg, clk, server.Options{})
}

// startWith is start with more server options (the clock and the log are
// always the harness's).
func startWith(t testing.TB, cfg config.Config, clk *clock, opts server.Options) *instance {
	t.Helper()
	if clk == nil {
		clk = newClock()
	}
	// Listen first, so that links in mails can name the real port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = url
	}
	box := &outbox{shared: sentLogFor(cfg.DatabaseURL)}
	ctx, cancel := context.WithCancel(context.Background())
	opts.Now, opts.Log = clk.Now, slog.New(box)
	srv, err := server.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start server: %v", err)
	}
	box.settle = func() error {
		if ctx.Err() != nil {
			return nil // stopped: nothing more will be sent
		}
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		return srv.SettleMessages(sctx)
	}
	in := &instance{URL: url, Srv: srv, Clock: clk, DBURL: cfg.DatabaseURL, Outbox: box, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(in.stop)
	return in
}

// settle waits until the server's queued messages are sent (bounded).
func (in *instance) settle(t testing.TB) {
	t.Helper()
	if err := in.Outbox.settle(); err != nil {
		t.Fatalf("the message queue did not settle: %v", err)
	}
}

// stop shuts the server down and waits for it; safe to call twice.
func (in *instance) stop() {
	in.cancel()
	if in.done == nil {
		return
	}
	if err := <-in.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		panic("server stopped with error: " + err.Error())
	}
	in.done = nil
}

func (in *instance) client() *client.AuthenticationClient {
	return client.NewAuthenticationClient(client.Options{AppHost: in.URL, Timeout: 30 * time.Second})
}

// eachBackend runs fn as a subtest per configured store.
func eachBackend(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Helper()
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) { fn(t, url) })
	}
}

// wantCode fails unless err is a *client.Error with the given code.
func wantCode(t testing.TB, err error, code int) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want error code %d, got %v", code, err)
	}
	if ce.Code != code {
		t.Fatalf("want error code %d, got %d (%s: %s)", code, ce.Code, ce.Reason, ce.Message)
	}
	return ce
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// withoutFailureDetection turns the default pool's login failure detection
// off, for tests that make many failed logins from one address on purpose
// while testing something else (the CAPTCHA demand has its own tests).
func (in *instance) withoutFailureDetection(t testing.TB) *instance {
	t.Helper()
	if _, err := in.Srv.Store().UpdatePool(context.Background(), in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
		p.Settings.LoginFailureDetection = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return in
}
