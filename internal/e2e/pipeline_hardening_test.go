package e2e

import (
	"context"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestPipelineUnreadableRefusalFailsClosed is the attack of issue 10: a
// pre-register pipeline refuses with the client's own context value, and
// the client sends one whose message cannot be read. The registration is
// refused and no user is created.
func TestPipelineUnreadableRefusalFailsClosed(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				callback(context.params.reason || "registration closed")
			}`)
		c := in.client()
		for _, reason := range []any{
			map[string]any{"toString": 1},
			map[string]any{"toString": 1, "valueOf": 1},
			map[string]any{"message": map[string]any{"toString": 1}},
			nil,
		} {
			_, err := c.RegisterByEmail(ctx, "mallory@example.com", "passw0rd!", nil,
				&client.RegisterOptions{Context: map[string]any{"reason": reason}})
			ce := wantCode(t, err, api.CodePipelineRejected)
			if ce.Message == "" {
				t.Fatalf("reason %v: a refusal without a message", reason)
			}
		}
		list := must[*client.UserList](t)(in.admin().ListUsers(ctx, "default", client.ListUsersOptions{}))
		if list.Total != 0 {
			t.Fatalf("refused registrations created %d users", list.Total)
		}
	})
}
