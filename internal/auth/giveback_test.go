package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// decrCountingStore counts the give-backs written on their own
// (DecrCounter) rather than with a login's write.
type decrCountingStore struct {
	userpool.Store
	decrs atomic.Int64
}

func (s *decrCountingStore) DecrCounter(ctx context.Context, key string, now time.Time) error {
	if strings.HasPrefix(key, "lf:chg:") {
		s.decrs.Add(1)
	}
	return s.Store.DecrCounter(ctx, key, now)
}

// TestLoginGivesBackItsChargeOnce: a password login's place in its
// account's budget of checks in flight is given back exactly once, however
// the login ends: a right password in the login's own write (no write of
// its own), a right password stopped for a second factor with the MFA
// challenge's write, a right password of a blocked user by a write of its
// own. Two places held by other checks in flight (another replica's)
// must still be held afterwards: a give-back counted twice would free one
// of them, letting a burst of guesses get more checks than the threshold.
func TestLoginGivesBackItsChargeOnce(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
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
			clk := &testClock{t: time.Now().UTC().Truncate(time.Minute).Add(time.Hour + 10*time.Second)}
			cs := &decrCountingStore{Store: st}
			svc := auth.New(cs, tokens, password.New(cheapHashing(), 2), auth.Config{}, clk.Now, slog.New(slog.DiscardHandler))
			set := userpool.DefaultPoolSettings()
			set.LoginFailureDetection, set.LoginFailureThreshold, set.LoginFailureWindow = true, 3, 5*time.Minute
			pool, err := svc.EnsureDefaultPool(ctx, "", set)
			if err != nil {
				t.Fatal(err)
			}
			m := auth.Meta{ClientIP: "192.0.2.7"}
			register := func(name string) *userpool.User {
				res, err := svc.RegisterByUsername(ctx, m, name, "passw0rd!", userpool.Profile{}, auth.RegisterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return res.User
			}
			window := clk.Now().UnixNano() / int64(time.Minute)
			charges := func(u *userpool.User) (key string, n int64) {
				key = fmt.Sprintf("lf:chg:%s:u:%s:%d", pool.ID, u.ID, window)
				n, _, err := st.GetCounter(ctx, key, clk.Now())
				if err != nil {
					t.Fatal(err)
				}
				return key, n
			}
			// Two checks of the account in flight elsewhere: with the
			// login's own, the budget (3) is full but not over.
			holdTwo := func(u *userpool.User) {
				key, _ := charges(u)
				for range 2 {
					if _, _, err := st.IncrCounter(ctx, key, 2*time.Minute, clk.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			check := func(what string, u *userpool.User, wantDecrs int64) {
				t.Helper()
				if _, n := charges(u); n != 2 {
					t.Errorf("%s: %d places held after the login, want the other 2 (its own given back once)", what, n)
				}
				if d := cs.decrs.Swap(0); d != wantDecrs {
					t.Errorf("%s: %d give-backs written on their own, want %d", what, d, wantDecrs)
				}
			}

			right := register("right")
			holdTwo(right)
			cs.decrs.Store(0)
			if _, err := svc.LoginByUsername(ctx, m, "right", "passw0rd!", auth.LoginOptions{}); err != nil {
				t.Fatalf("right password: %v", err)
			}
			check("right password", right, 0)

			blocked := register("blocked")
			if _, err := st.UpdateUser(ctx, pool.ID, blocked.ID, func(u *userpool.User) error { u.Blocked = true; return nil }); err != nil {
				t.Fatal(err)
			}
			holdTwo(blocked)
			cs.decrs.Store(0)
			_, err = svc.LoginByUsername(ctx, m, "blocked", "passw0rd!", auth.LoginOptions{})
			if e := userpool.AsError(err); e.Code != userpool.CodeUserBlocked {
				t.Fatalf("blocked user: %v, want code %d", err, userpool.CodeUserBlocked)
			}
			check("blocked user", blocked, 1)

			second := register("second")
			if err := st.SetMFARequired(ctx, pool.ID, second.ID, true); err != nil {
				t.Fatal(err)
			}
			holdTwo(second)
			cs.decrs.Store(0)
			_, err = svc.LoginByUsername(ctx, m, "second", "passw0rd!", auth.LoginOptions{})
			if e := userpool.AsError(err); e.Code != userpool.CodeMFARequired {
				t.Fatalf("second factor required: %v, want code %d", err, userpool.CodeMFARequired)
			}
			check("second factor required", second, 0)

			wrong := register("wrong")
			holdTwo(wrong)
			cs.decrs.Store(0)
			_, err = svc.LoginByUsername(ctx, m, "wrong", "guess", auth.LoginOptions{})
			if e := userpool.AsError(err); e.Code != userpool.CodeWrongPassword {
				t.Fatalf("wrong password: %v", err)
			}
			check("wrong password", wrong, 1)
		})
	}
}
