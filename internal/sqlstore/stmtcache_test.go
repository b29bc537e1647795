package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
)

func openCached(t *testing.T) *sql.DB {
	t.Helper()
	c, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(stmtCacheConnector{c})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// cached reports how many statements the pool's one connection keeps.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error { n = len(dc.(*stmtCacheConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStmtCacheReusesAndStaysCorrect(t *testing.T) {
	db := openCached(t)
	base := cached(t, db)
	const q = `SELECT v FROM t WHERE id = ?`
	for i := range 5 {
		var v string
		if err := db.QueryRow(q, i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("row %d: %q %v", i, v, err)
		}
	}
	if got := cached(t, db); got != base+1 {
		t.Fatalf("%d statements kept after one text ran five times, want %d", got, base+1)
	}

	// The same text again while its rows are open, in one transaction:
	// the busy statement is not reset under the open rows.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(`SELECT id FROM t WHERE id >= ? ORDER BY id`, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		var inner int
		if err := tx.QueryRow(`SELECT id FROM t WHERE id >= ? ORDER BY id`, id).Scan(&inner); err != nil || inner != id {
			t.Fatalf("inner query at %d: %d %v", id, inner, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[0 1 2 3 4]" {
		t.Fatalf("outer rows %v: the inner run disturbed them", ids)
	}

	// An error leaves the statement usable, and errors still surface.
	if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, 1, "dup"); err == nil {
		t.Fatal("duplicate key accepted")
	}
	if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, 9, "v9"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT nonsense FROM nowhere`); err == nil {
		t.Fatal("a bad text ran")
	}
}

func TestStmtCacheIsBounded(t *testing.T) {
	db := openCached(t)
	for i := range stmtCacheSize + 50 {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil || n != 5+i {
			t.Fatalf("text %d: %d %v", i, n, err)
		}
	}
	if got := cached(t, db); got > stmtCacheSize {
		t.Fatalf("%d statements kept, bound %d", got, stmtCacheSize)
	}
	// A text above maxCachedText runs, uncached.
	before := cached(t, db)
	long := "SELECT count(*) FROM t WHERE id NOT IN (" + strings.Repeat("-1, ", maxCachedText/4) + "-1)"
	var n int
	if err := db.QueryRow(long).Scan(&n); err != nil || n != 5 {
		t.Fatalf("a long text: %d %v", n, err)
	}
	if got := cached(t, db); got != before {
		t.Fatalf("a %d-byte text was cached", len(long))
	}
}
