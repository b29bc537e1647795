package e2e

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestPostgresDumpRestore follows the documented PostgreSQL procedure
// (docs/OPERATIONS.md): pg_dump of the schema while the server runs, the
// schema lost, pg_restore, a server started on the restored schema. Its
// users log in, a token issued before the dump verifies and a webhook
// subscription is still there. Skipped without PostgreSQL or without the
// client tools.
func TestPostgresDumpRestore(t *testing.T) {
	base := os.Getenv(storetest.PostgresURLEnv)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + storetest.PostgresURLEnv)
	}
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (PostgreSQL client tools): the dump and restore test is skipped", tool)
		}
	}
	ctx := context.Background()
	dbURL := storetest.DatabaseURLs(t)["postgres"]
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")

	in := start(t, webhookConfig(dbURL), nil)
	c := in.client()
	must[*client.User](t)(c.RegisterByEmail(ctx, "dump@example.com", "passw0rd!", nil, nil))
	li := must[*client.User](t)(c.LoginByEmail(ctx, "dump@example.com", "passw0rd!", nil))
	rc := newReceiver(t, nil)
	hook := rc.subscribe(t, in, "user.login")

	dump := filepath.Join(t.TempDir(), "authpool.dump")
	// Online: pg_dump reads one snapshot while the server goes on.
	if out, err := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, "--dbname="+base).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	in.stop()

	// The schema is lost, then restored from the dump.
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "pg_restore", "--exit-on-error", "--dbname="+base, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	again := start(t, webhookConfig(dbURL), in.Clock)
	ac := again.client()
	if st := must[*client.LoginStatus](t)(ac.CheckLoginStatus(ctx, li.Token)); !st.Status {
		t.Fatalf("a token issued before the dump, after the restore: %+v", st)
	}
	must[*client.User](t)(ac.LoginByEmail(ctx, "dump@example.com", "passw0rd!", nil))
	if _, err := again.admin().GetWebhook(ctx, "default", hook.ID); err != nil {
		t.Fatalf("the webhook subscription after the restore: %v", err)
	}
	rc.waitEvents(t, 1)
}
