package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// TestDeleteAccountCountsWrongPasswords: the password that proves a
// self-deletion is checked like a login's: wrong ones count toward the
// account's lockout (review: a stolen token could guess it here without
// limit), and a locked account cannot be deleted this way either.
func TestDeleteAccountCountsWrongPasswords(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := startProt(t, protConfig(dbURL), nil, &answers{})
		in.settings(t, func(s *userpool.PoolSettings) {
			s.LoginFailureDetection = false
			s.LockoutEnabled, s.LockoutThreshold, s.LockoutDuration, s.LockoutWindow = true, 3, 15*time.Minute, time.Hour
			s.AllowSelfDelete = true
		})
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "del@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		for range 2 {
			wantCode(t, c.DeleteAccount(ctx, "wrong-pass"), 2006)
		}
		wantCode(t, c.DeleteAccount(ctx, "wrong-pass"), 2005)
		_, err := in.client().LoginByEmail(ctx, "del@example.com", "passw0rd!", nil)
		wantCode(t, err, 2005)
		wantCode(t, c.DeleteAccount(ctx, "passw0rd!"), 2005)
	})
}
