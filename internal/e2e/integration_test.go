package e2e

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// TestResetUnlocksAndAudits ties the code flows (issue 3) to login
// protection (issue 4): a password reset by code lifts a lockout, refuses a
// new password containing the account's identifiers without spending the
// code, and the audit log records the send, the reset and a change of
// address — never a code.
func TestResetUnlocksAndAudits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		in.settings(t, func(s *userpool.PoolSettings) {
			s.LoginFailureDetection = false
			s.LockoutEnabled, s.LockoutThreshold, s.LockoutDuration, s.LockoutWindow = true, 3, time.Hour, time.Hour
			s.VerifyOldEmail = false
		})
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "locked@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		var err error
		for range 3 {
			_, err = in.client().LoginByEmail(ctx, "locked@example.com", "wrong-pass", nil)
		}
		wantCode(t, err, 2005)

		code := mailCode(t, in, "locked@example.com", client.EmailSceneResetPassword)
		// The identity rule needs the account, found after the code's first
		// check; the refusal must not spend the code.
		ce := wantCode(t, c.ResetPasswordByEmailCode(ctx, "locked@example.com", code, "locked-Passw0rd"), 2029)
		if ce.Reason != "password_contains_identity" {
			t.Fatalf("reason %q, want password_contains_identity", ce.Reason)
		}
		must0(t, c.ResetPasswordByEmailCode(ctx, "locked@example.com", code, "Sturdy-Passw0rd-9"))

		// The reset lifted the lock (well before it would end by itself).
		li := must[*client.User](t)(in.client().LoginByEmail(ctx, "locked@example.com", "Sturdy-Passw0rd-9", nil))

		// An address change is audited in the same transaction as the change.
		newCode := mailCode(t, in, "moved@example.com", client.EmailSceneChangeEmail)
		lc := in.client()
		lc.SetToken(li.Token)
		must[*client.User](t)(lc.UpdateEmail(ctx, "moved@example.com", newCode, "", ""))

		for event, want := range map[string]int{
			userpool.AuditCodeSent: 2, userpool.AuditPasswordReset: 1, userpool.AuditEmailChange: 1, userpool.AuditAccountLocked: 1,
		} {
			evs := in.audit(t, userpool.AuditFilter{Event: event})
			if len(evs) != want {
				t.Errorf("%s: %d events, want %d", event, len(evs), want)
				continue
			}
			for _, e := range evs {
				for k, v := range e.Detail {
					if v == code || v == newCode {
						t.Errorf("%s event carries a code in %q", event, k)
					}
				}
				if event != userpool.AuditCodeSent && e.UserID != u.ID {
					t.Errorf("%s event for user %q, want %q", event, e.UserID, u.ID)
				}
			}
		}
	})
}

// TestLoginInFlightDiesWithThePassword: logins racing a password change
// with the old password may succeed only before the change, and their
// sessions end with it — none outlives the change.
func TestLoginInFlightDiesWithThePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil).withoutFailureDetection(t)
		owner := in.client()
		must[*client.User](t)(owner.RegisterByEmail(ctx, "race-pw@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		var (
			mu     sync.Mutex
			tokens []string
			wg     sync.WaitGroup
			done   = make(chan struct{})
		)
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					u, err := in.client().LoginByEmail(ctx, "race-pw@example.com", "passw0rd!", nil)
					if err == nil {
						mu.Lock()
						tokens = append(tokens, u.Token)
						mu.Unlock()
					}
				}
			})
		}
		// Let some logins through first, then change the password under them.
		for {
			mu.Lock()
			n := len(tokens)
			mu.Unlock()
			if n >= 4 {
				break
			}
			runtime.Gosched()
		}
		must[*client.User](t)(owner.UpdatePassword(ctx, "n3w-passw0rd!", "passw0rd!"))
		close(done)
		wg.Wait()
		for _, tok := range tokens {
			if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)); st.Status {
				t.Fatalf("a login with the old password outlived the password change (%d logins)", len(tokens))
			}
		}
	})
}

// TestCaptchaDemandHoldsUnderABurst: a burst of parallel wrong logins gets
// at most threshold password checks; the rest must solve a CAPTCHA. (Each
// attempt is counted on the IP's and the account's counter before its
// check; interleaved increments can make both refuse one attempt each, so
// a burst may get fewer than threshold checks, never more.)
func TestCaptchaDemandHoldsUnderABurst(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "burst@example.com", "passw0rd!", nil, nil))
		const n = 40
		codes := make([]int, n)
		release := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-release
				_, err := in.client().LoginByEmail(ctx, "burst@example.com", "wrong-guess", nil)
				var ce *client.Error
				if errors.As(err, &ce) {
					codes[i] = ce.Code
				}
			})
		}
		close(release)
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[2006] < 1 || count[2006] > 3 || count[2006]+count[2000] != n {
			t.Fatalf("answers %v: want 1 to 3 password checks (2006), every other answer a CAPTCHA demand (2000)", count)
		}
	})
}

// TestConcurrentRehashLogins: after the password parameters change, many
// logins with the right password at once all rehash the same account; the
// ones whose rehash lost the race must still log in (a rehash is not a
// password change).
func TestConcurrentRehashLogins(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := testConfig(dbURL)
		first := start(t, cfg, nil)
		must[*client.User](t)(first.client().RegisterByEmail(ctx, "rehash@example.com", "passw0rd!", nil, nil))
		first.stop()

		cfg.PasswordTime = 2 // new parameters: every stored hash needs a rehash
		in := start(t, cfg, nil).withoutFailureDetection(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = in.client().LoginByEmail(ctx, "rehash@example.com", "passw0rd!", nil)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("login %d with the right password: %v", i, err)
			}
		}
	})
}
