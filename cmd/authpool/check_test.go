package main

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestMigrateCheck: `authpool migrate --check` keys the accounts an older
// version left without identifier keys and lists, by id, those whose
// username or email compares equal to an older account's, failing so a
// deployment stops for an operator; with none it succeeds.
func TestMigrateCheck(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(dir)
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--check"}, env, &out, &out); err != nil {
		t.Fatalf("migrate --check on a new database: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "no identifier collisions") {
		t.Errorf("output = %q, want no collisions", out.String())
	}

	// Rows as an older version wrote them: no keys, and "Admin" beside
	// "admin".
	db, err := sql.Open("sqlite", dir+"/authpool.db")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO pools (id, name, created_at) VALUES ('p1', 'P1', 1)",
		"INSERT INTO users (pool_id, id, username, password_hash, created_at, updated_at) VALUES ('p1', 'first-user', 'admin', 'secret-hash-1', 10, 10)",
		"INSERT INTO users (pool_id, id, username, password_hash, created_at, updated_at) VALUES ('p1', 'second-user', 'Admin', 'secret-hash-2', 20, 20)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	out.Reset()
	err = run(ctx, []string{"migrate", "--check"}, env, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "1 identifier collisions") {
		t.Fatalf("migrate --check with a collision: err = %v, want 1 identifier collisions", err)
	}
	got := out.String()
	if !strings.Contains(got, "pool p1 user second-user: username (held by account first-user)") {
		t.Errorf("output does not name the colliding account:\n%s", got)
	}
	for _, secret := range []string{"secret-hash", "Admin", "admin\n"} {
		if strings.Contains(got, secret) {
			t.Errorf("output shows %q:\n%s", secret, got)
		}
	}
}
