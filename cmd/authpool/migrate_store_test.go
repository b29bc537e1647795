package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

func runCmd(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errb)
	return out.String(), err
}

// TestMigrateStoreCommand: migrate-store copies a SQLite store into
// another store and back (PostgreSQL when available, else a second
// SQLite file), verifying every table; it refuses a non-empty target
// unless told, and then fails on the duplicate rows without writing.
func TestMigrateStoreCommand(t *testing.T) {
	dir := t.TempDir()
	a := "sqlite:" + filepath.Join(dir, "a.db")
	url := startServer(t, a)
	ctx := context.Background()
	c := client.NewAuthenticationClient(client.Options{AppHost: url})
	if _, err := c.RegisterByEmail(ctx, "copy@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, url, "users", "import", testdata+"auth0.json", "-format", "auth0", "-checkpoint", filepath.Join(dir, "cp"))

	mid := "sqlite:" + filepath.Join(dir, "mid.db")
	if pg, ok := storetest.DatabaseURLs(t)["postgres"]; ok {
		mid = pg
	}
	out, err := runCmd("migrate-store", "-from", a, "-to", mid)
	if err != nil || !strings.Contains(out, "row counts and checksums match") || !strings.Contains(out, "users") {
		t.Fatalf("migrate-store: %v\n%s", err, out)
	}
	back := "sqlite:" + filepath.Join(dir, "back.db")
	if out, err := runCmd("migrate-store", "-from", mid, "-to", back); err != nil {
		t.Fatalf("migrate-store back: %v\n%s", err, out)
	}
	if _, err := runCmd("migrate-store", "-from", a, "-to", back); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("into a non-empty target: %v", err)
	}
	if _, err := runCmd("migrate-store", "-from", a, "-to", back, "-into-nonempty"); err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("duplicates into a non-empty target: %v", err)
	}
	if _, err := runCmd("migrate-store", "-from", a); err == nil {
		t.Fatal("missing -to accepted")
	}
}
