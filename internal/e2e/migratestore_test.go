package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
)

// TestMigrateStoreSQLiteToPostgres: a SQLite store with users, a logged-in
// session, user-defined values, a pipeline, imported users with
// identities and a webhook delivery still pending (no worker ran) is
// copied into a fresh PostgreSQL schema (what `authpool migrate-store`
// does), and a server started on PostgreSQL serves it: the token signed
// before the move is still valid (keys moved), passwords and values are
// there, the pipeline still runs, and the pending delivery is delivered.
func TestMigrateStoreSQLiteToPostgres(t *testing.T) {
	pgURL, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("PostgreSQL tests skipped: set " + storetest.PostgresURLEnv)
	}
	ctx := context.Background()
	sqliteURL := "sqlite:" + t.TempDir() + "/authpool.db"
	cfg := webhookConfig(sqliteURL)
	cfg.WebhookWorkers = 0 // the event waits in the outbox
	a := start(t, cfg, nil)
	rcv := newReceiver(t, nil)
	rcv.subscribe(t, a, "user.registered")
	mc, c := a.admin(), a.client()
	must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "plan", DataType: "STRING", UserEditable: true}))
	must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{
		Stage: "pre-register", Name: "no example.org", Kind: "script",
		Script: `async function pipe(user, context, callback) { if (user.email.endsWith("@example.org")) return callback(new Error("not here")); callback(null, user, context) }`,
	}))
	must[*client.User](t)(c.RegisterByEmail(ctx, "move@example.com", "passw0rd!", nil, nil))
	li := must[*client.User](t)(c.LoginByEmail(ctx, "move@example.com", "passw0rd!", nil))
	must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "plan", "pro"))
	must[*client.ImportSummary](t)(mc.ImportRecords(ctx, "default", []client.UserRecord{{ExternalID: "auth0|1", Email: "imp@example.com",
		PasswordHash: "$2a$10" + bcryptTail, Identities: []client.Identity{{Provider: "github", Subject: "42"}}}}, client.ImportOptions{Source: "auth0"}, nil))
	a.stop()

	src := must[*sqlstore.Store](t)(sqlstore.Open(ctx, sqliteURL))
	defer src.Close()
	dst := must[*sqlstore.Store](t)(sqlstore.Open(ctx, pgURL))
	tables, err := sqlstore.Copy(ctx, src, dst, sqlstore.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, tc := range tables {
		rows[tc.Table] = tc.Rows
	}
	for _, tb := range []string{"users", "sessions", "signing_keys", "server_secrets", "user_values", "pipelines", "webhook_subscriptions", "webhook_deliveries", "user_imports", "user_identities", "audit_events"} {
		if rows[tb] == 0 {
			t.Errorf("table %s: no rows copied (%v)", tb, rows)
		}
	}
	// A second copy into the now full target is refused, and changes
	// nothing.
	if _, err := sqlstore.Copy(ctx, src, dst, sqlstore.CopyOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a non-empty target: %v", err)
	}
	dst.Close()

	cfgB := webhookConfig(pgURL)
	b := start(t, cfgB, nil)
	// The pending delivery is delivered by the new server's workers.
	if got := rcv.waitEvents(t, 1); got[0].Event.Data.User.Email != "move@example.com" {
		t.Fatalf("delivery after the move: %+v", got[0])
	}
	// The token signed before the move still works.
	tc := client.NewAuthenticationClient(client.Options{AppHost: b.URL, Token: li.Token})
	me := must[*client.User](t)(tc.GetCurrentUser(ctx))
	if me.ID != li.ID {
		t.Fatalf("current user %s; want %s", me.ID, li.ID)
	}
	udv := must[[]client.UserDefinedData](t)(tc.ListUdv(ctx))
	if len(udv) != 1 || udv[0].Value != "pro" {
		t.Fatalf("values: %+v", udv)
	}
	cb := b.client()
	must[*client.User](t)(cb.LoginByEmail(ctx, "move@example.com", "passw0rd!", nil))
	must[*client.User](t)(cb.LoginByEmail(ctx, "imp@example.com", "allmine", nil))
	// The pipeline came along and still runs.
	_, err = cb.RegisterByEmail(ctx, "x@example.org", "passw0rd!", nil, nil)
	wantCode(t, err, 1020)
	// Serial ids continue after the copied ones (PostgreSQL identities).
	must[*client.User](t)(cb.RegisterByEmail(ctx, "after@example.com", "passw0rd!", nil, nil))
	rcv.waitEvents(t, 1)
}
