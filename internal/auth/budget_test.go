package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// testClock is the injected clock of a test's replicas.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// checkGate holds password checks in flight: a failed check counts its
// account's failure (an IncrCounter of "lf:acct:...") after the password
// was checked and before its charge is released, so holding that write
// holds the check. Every such write is one password check.
type checkGate struct {
	mu      sync.Mutex
	checks  int
	held    bool
	arrived chan struct{} // one send per check that reaches the gate
	open    chan struct{} // closed to let held checks go on
}

func newCheckGate() *checkGate {
	return &checkGate{arrived: make(chan struct{}, 64), open: make(chan struct{})}
}

func (g *checkGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = true
}

func (g *checkGate) release() { close(g.open) }

func (g *checkGate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.checks
}

func (g *checkGate) pass() {
	g.mu.Lock()
	g.checks++
	held := g.held
	g.mu.Unlock()
	g.arrived <- struct{}{}
	if held {
		<-g.open
	}
}

// gatedStore is a replica's store with its failure counts going through
// the gate.
type gatedStore struct {
	userpool.Store
	gate *checkGate
}

func (s *gatedStore) IncrCounter(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	if strings.HasPrefix(key, "lf:acct:") {
		s.gate.pass()
	}
	return s.Store.IncrCounter(ctx, key, window, now)
}

// cheapHashing is the test parameters of password hashing (the e2e
// harness's).
func cheapHashing() password.Params {
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	return p
}

// newReplica is an auth.Service over its own connection to the database
// at url, as a replica of the server is.
func newReplica(t *testing.T, url string, gate *checkGate, clk *testClock) *auth.Service {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens, err := token.NewManager(ctx, st, "https://test", nil, token.Lifecycle{LeadTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return auth.New(&gatedStore{Store: st, gate: gate}, tokens, password.New(cheapHashing(), 2),
		auth.Config{}, clk.Now, slog.New(slog.DiscardHandler))
}

// TestLoginBudgetHoldsAcrossChargeWindows is review finding 2's scenario
// (threshold 3), on two replicas sharing one store: a guess at t0, two
// guesses in flight from t0+59.9 s, two more at t0+60.05 s. The charges
// of the checks in flight must still count once a window of the charge
// counter ends: at most 3 passwords are checked, and the last two guesses
// get the CAPTCHA demand (2000).
func TestLoginBudgetHoldsAcrossChargeWindows(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// On a minute: the edge of a charge window that starts at the
			// first guess and of one aligned to the epoch alike.
			t0 := time.Now().UTC().Truncate(time.Minute).Add(time.Hour)
			clk := &testClock{t: t0}
			gate := newCheckGate()
			rs := []*auth.Service{newReplica(t, url, gate, clk), newReplica(t, url, gate, clk)}
			set := userpool.DefaultPoolSettings()
			set.LoginFailureDetection, set.LoginFailureThreshold, set.LoginFailureWindow = true, 3, 5*time.Minute
			set.LockoutEnabled = false
			if _, err := rs[0].EnsureDefaultPool(ctx, "", set); err != nil {
				t.Fatal(err)
			}
			if _, err := rs[1].EnsureDefaultPool(ctx, "", set); err != nil {
				t.Fatal(err)
			}
			if _, err := rs[0].RegisterByUsername(ctx, auth.Meta{ClientIP: "192.0.2.1"}, "victim", "passw0rd!", userpool.Profile{}, auth.RegisterOptions{}); err != nil {
				t.Fatal(err)
			}
			guess := func(i int) error {
				// Each from an address of its own: only the account's
				// budget applies.
				m := auth.Meta{ClientIP: "198.51.100." + string(rune('1'+i))}
				_, err := rs[i%2].LoginByUsername(ctx, m, "victim", "guess", auth.LoginOptions{})
				return err
			}
			code := func(err error) userpool.Code {
				var e *userpool.Error
				if errors.As(err, &e) {
					return e.Code
				}
				t.Errorf("answer %v, want a userpool.Error", err)
				return 0
			}

			if c := code(guess(0)); c != userpool.CodeWrongPassword {
				t.Fatalf("first guess: code %d, want %d", c, userpool.CodeWrongPassword)
			}
			<-gate.arrived

			gate.hold()
			results := make(chan error, 4)
			clk.Set(t0.Add(59900 * time.Millisecond))
			for i := 1; i <= 2; i++ {
				go func() { results <- guess(i) }()
			}
			// Both are granted (2 charges + 1 failure = 3) and checked.
			<-gate.arrived
			<-gate.arrived

			clk.Set(t0.Add(60050 * time.Millisecond))
			late := make(chan error, 2)
			for i := 3; i <= 4; i++ {
				go func() { late <- guess(i) }()
			}
			// Each late guess is either checked (it reaches the gate) or
			// answered without a check (its wait for a place ends).
			var lateErrs []error
			for range 2 {
				select {
				case <-gate.arrived:
				case err := <-late:
					lateErrs = append(lateErrs, err)
				}
			}
			gate.release()
			for range 2 {
				if err := <-results; code(err) != userpool.CodeWrongPassword {
					t.Errorf("guess in flight at the window's edge: %v, want a wrong password", err)
				}
			}
			if n := gate.count(); n > 3 {
				for range 2 - len(lateErrs) {
					<-late
				}
				t.Fatalf("%d passwords checked before the CAPTCHA, want at most the threshold, 3", n)
			}
			for _, err := range lateErrs {
				if c := code(err); c != userpool.CodeCaptchaRequired {
					t.Errorf("guess after the window's edge: code %d, want %d (CAPTCHA)", c, userpool.CodeCaptchaRequired)
				}
			}
		})
	}
}
