package storetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestDatabaseURLs(t *testing.T) {
	urls := DatabaseURLs(t)
	path, ok := strings.CutPrefix(urls["sqlite"], "sqlite:")
	if !ok {
		t.Fatalf(`urls["sqlite"] = %q, want a sqlite: URL`, urls["sqlite"])
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		t.Errorf("directory of the SQLite file: %v", err)
	}
	if os.Getenv(PostgresURLEnv) == "" {
		if _, ok := urls["postgres"]; ok {
			t.Errorf("postgres URL returned without %s", PostgresURLEnv)
		}
		return
	}

	// The URL must land in an empty schema of its own, and the schema must
	// be gone once the test that asked for it has ended.
	var schema string
	t.Run("fresh schema", func(t *testing.T) {
		url := DatabaseURLs(t)["postgres"]
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		var tables int
		err = conn.QueryRow(t.Context(),
			"SELECT current_schema(), (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())").Scan(&schema, &tables)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "t_") || tables != 0 {
			t.Errorf("current_schema() = %q with %d tables, want a fresh t_ schema", schema, tables)
		}
	})
	if schema == "" {
		return
	}
	conn, err := pgx.Connect(t.Context(), os.Getenv(PostgresURLEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("schema %s still exists after its test ended", schema)
	}
}
