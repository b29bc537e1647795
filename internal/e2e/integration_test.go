package e2e

import (
	"context"
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
