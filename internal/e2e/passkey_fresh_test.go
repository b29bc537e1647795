package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestPasskeyNeedsAFreshSignIn: a passkey signs in alone and outlives a
// password reset, so only a sign-in of the last five minutes may add one
// (review: a leaked token could plant the thief's key for good); signing
// in again lets the same user add it.
func TestPasskeyNeedsAFreshSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "fresh@example.com", "Quill-Marsh-408", nil, nil))
		must[*client.User](t)(c.LoginByEmail(ctx, "fresh@example.com", "Quill-Marsh-408", nil))
		in.Clock.Advance(5*time.Minute + time.Second)
		ce := wantCode(t, errOf(c.BeginPasskeyRegistration(ctx)), 2206)
		if ce.Reason != "fresh_sign_in_required" {
			t.Fatalf("reason %q", ce.Reason)
		}
		must[*client.User](t)(c.LoginByEmail(ctx, "fresh@example.com", "Quill-Marsh-408", nil))
		must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
	})
}
