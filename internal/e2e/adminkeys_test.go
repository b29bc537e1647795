package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestNamedAdminKeys drives named keys through the SDK: made with the
// administrator key (the secret shown once, never listed), refused to a
// named key and for bad or taken names, audited by name with every
// action a key takes, and dead at once when revoked.
func TestNamedAdminKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		alice := must[*client.CreatedNamedAdminKey](t)(adm.CreateAdminKey(ctx, "alice", false))
		if !strings.HasPrefix(alice.Key, "apk_") || alice.ReadOnly || alice.RevokedAt != nil {
			t.Fatalf("created: %+v", alice)
		}
		keys := must[[]client.NamedAdminKey](t)(adm.ListAdminKeys(ctx))
		if len(keys) != 1 || keys[0].ID != alice.ID || keys[0].Name != "alice" {
			t.Fatalf("list: %+v", keys)
		}
		ak := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: alice.Key, Timeout: 30 * time.Second})

		// A named key works everywhere else, and its actions name it.
		u := must[*client.User](t)(ak.CreateUser(ctx, "default", client.CreateUserRequest{Email: "named@example.com"}))
		must[*client.BlockedUser](t)(ak.BlockUser(ctx, "default", u.ID))
		must[*client.User](t)(adm.UnblockUser(ctx, "default", u.ID))
		evs := must[[]client.AuditEvent](t)(adm.ListAudit(ctx, "default", client.AuditQuery{UserID: u.ID}))
		by := map[string]string{}
		for _, e := range evs {
			by[e.Event] = e.Detail["adminKey"]
		}
		if by["admin.user.create"] != "alice" || by["admin.user.block"] != "alice" || by["admin.user.unblock"] != "admin" {
			t.Fatalf("audit names: %v", by)
		}
		created := must[[]client.AuditEvent](t)(adm.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.key.create"}))
		if len(created) != 1 || created[0].Detail["name"] != "alice" || created[0].Detail["adminKey"] != "admin" {
			t.Fatalf("key creation audit: %+v", created)
		}

		// Only the administrator key manages keys.
		_, err := ak.CreateAdminKey(ctx, "mallory", false)
		wantCode(t, err, api.CodeNoPermission)
		wantCode(t, ak.RevokeAdminKey(ctx, alice.ID), api.CodeNoPermission)

		for _, name := range []string{"", "admin", " alice2", "bell\x07", strings.Repeat("x", 65), "alice"} {
			_, err := adm.CreateAdminKey(ctx, name, true)
			wantCode(t, err, api.CodeInvalidArgument)
		}
		must[*client.CreatedNamedAdminKey](t)(adm.CreateAdminKey(ctx, strings.Repeat("é", 64), true))

		// Racing creates of one name: one wins.
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() { _, errs[i] = adm.CreateAdminKey(ctx, "racer", false) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantCode(t, err, api.CodeInvalidArgument)
			}
		}
		if won != 1 {
			t.Fatalf("%d racing creates of one name won", won)
		}

		must[struct{}](t)(struct{}{}, adm.RevokeAdminKey(ctx, alice.ID))
		_, err = ak.ListPools(ctx)
		wantCode(t, err, api.CodeAdminUnauthorized)
		wantCode(t, adm.RevokeAdminKey(ctx, alice.ID), api.CodeNotFound)
		wantCode(t, adm.RevokeAdminKey(ctx, "no-such-key"), api.CodeNotFound)
		keys = must[[]client.NamedAdminKey](t)(adm.ListAdminKeys(ctx))
		if len(keys) != 3 {
			t.Fatalf("%d keys listed, want alice, é… and racer", len(keys))
		}
		for _, k := range keys {
			if (k.ID == alice.ID) != (k.RevokedAt != nil) {
				t.Fatalf("revocation marks: %+v", k)
			}
		}
		// The name of a revoked key is free again.
		must[*client.CreatedNamedAdminKey](t)(adm.CreateAdminKey(ctx, "alice", false))
		in.Outbox.noLeak(t, alice.Key)
	})
}
