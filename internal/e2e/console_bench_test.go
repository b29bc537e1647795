package e2e

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

var consoleUsers = flag.Int("console-users", 100_000, "users BenchmarkConsoleUserSearch fills the pool with (docs/BENCHMARKS.md uses 1000000)")

// fillUsers writes n users into the pool straight in SQL (one statement:
// the benchmark measures reading them, and the import route would take
// minutes on SQLite and hours on a shared PostgreSQL). User i has email
// user<i>@example.com, username user<i>, phone +1555<i, 7 digits>, id
// the 32-hex-digit i, and was created i milliseconds after t0, with
// their identifier keys as the store computes them for ASCII.
func fillUsers(tb testing.TB, in *instance, poolID string, n int, t0 time.Time) {
	tb.Helper()
	ctx := context.Background()
	var db *sql.DB
	var err error
	var stmt string
	if strings.HasPrefix(in.DBURL, "sqlite:") {
		db, err = sql.Open("sqlite", strings.TrimPrefix(in.DBURL, "sqlite:")+"?_pragma=busy_timeout(60000)")
		stmt = `INSERT INTO users (pool_id, id, email, email_key, username, username_key, phone, created_at, updated_at)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
			SELECT ?1, printf('%032x', i), 'user' || i || '@example.com', 'user' || i || '@example.com', 'user' || i, 'user' || i,
				'+1555' || printf('%07d', i), ?3 + i, ?3 + i FROM n`
	} else {
		db, err = sql.Open("pgx", in.DBURL)
		stmt = `INSERT INTO users (pool_id, id, email, email_key, username, username_key, phone, created_at, updated_at)
			SELECT $1, lpad(to_hex(i), 32, '0'), 'user' || i || '@example.com', 'user' || i || '@example.com', 'user' || i, 'user' || i,
				'+1555' || lpad(i::text, 7, '0'), to_timestamp($3::bigint / 1000.0) + i * interval '1 millisecond', to_timestamp($3::bigint / 1000.0) + i * interval '1 millisecond'
			FROM generate_series(1, $2::bigint) AS i`
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	if _, err := db.ExecContext(ctx, stmt, poolID, n, t0.UnixMilli()); err != nil {
		tb.Fatalf("fill: %v", err)
	}
	if !strings.HasPrefix(in.DBURL, "sqlite:") {
		if _, err := db.ExecContext(ctx, "ANALYZE users"); err != nil {
			tb.Fatal(err)
		}
	} else if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("filled %d users in %.1f s", n, time.Since(start).Seconds())
}

// BenchmarkConsoleUserSearch fills the default pool with -console-users
// users and times the console's users page (one signed-in GET, page
// rendered, over loopback: the server's time plus a local round trip) for
// searches by the start of an email, a username and a phone number, by
// id, a prefix that matches most of the pool, a miss, and the list's first
// and a deep page. SQLite by default; AUTHPOOL_BENCH_POSTGRES=1 for
// PostgreSQL.
//
//	go test ./internal/e2e -run '^$' -bench BenchmarkConsoleUserSearch -console-users 1000000
func BenchmarkConsoleUserSearch(b *testing.B) {
	cfg := adminConfig("sqlite:" + b.TempDir() + "/bench.db")
	if u := benchPostgres(b); u != "" {
		cfg.DatabaseURL = u
	}
	in := start(b, cfg, nil)
	n := *consoleUsers
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fillUsers(b, in, in.Srv.DefaultPoolID(), n, t0)
	c := newConsoleClient(b, in)
	c.signIn(testAdminKey)
	mid := n / 2
	deep := url.Values{"after": {fmt.Sprintf("%d.%032x", t0.Add(time.Duration(mid)*time.Millisecond).UnixMilli(), mid)}}.Encode()
	for _, tc := range []struct{ name, query, want string }{
		{"email", "q=" + url.QueryEscape(fmt.Sprintf("user%d@", mid)), fmt.Sprintf("user%d@example.com", mid)},
		{"username", "q=" + url.QueryEscape(fmt.Sprintf("USER%d", mid)), fmt.Sprintf("user%d@example.com", mid)},
		{"phone", "q=" + url.QueryEscape(fmt.Sprintf("1555%07d", mid)), fmt.Sprintf("user%d@example.com", mid)},
		{"id", fmt.Sprintf("q=%032x", mid), fmt.Sprintf("user%d@example.com", mid)},
		{"short-prefix", "q=user1", "user1"},
		{"miss", "q=nobody", `id="no-users"`},
		{"list", "", fmt.Sprintf("user%d@example.com", n)},
		{"deep-page", deep, fmt.Sprintf("user%d@example.com", mid-1)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			path := "/pools/default/users?" + tc.query
			if a := c.get(path); a.Status != 200 || !strings.Contains(a.Body, tc.want) {
				b.Fatalf("GET %s: %d, want %q in the page", path, a.Status, tc.want)
			}
			b.ResetTimer()
			for b.Loop() {
				c.get(path)
			}
		})
	}
}
