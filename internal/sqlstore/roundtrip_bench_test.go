package sqlstore_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPostgresRoundTrip measures the floor under every statement the
// store sends to PostgreSQL: the CPU this process and the PostgreSQL
// backends serving it spend per round trip, with pgx alone (no
// database/sql, no authpool code), for a statement that does nothing
// (SELECT 1) and for a primary-key read of a row shaped like a session
// (the token check's one statement). Over TCP to the URL's host, and over
// the local Unix socket when there is one; one connection at a time, or
// ten connections in parallel as the server's pool runs them:
//
//	AUTHPOOL_TEST_POSTGRES_URL=... go test ./internal/sqlstore -run '^$' -bench PostgresRoundTrip -benchtime 20000x
//
// A request's database CPU cannot go below its round trips times the
// backend-cpu-us/op here, nor its server CPU below its round trips times
// client-cpu-us/op.
func BenchmarkPostgresRoundTrip(b *testing.B) {
	base := os.Getenv("AUTHPOOL_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("PostgreSQL benchmark skipped: set AUTHPOOL_TEST_POSTGRES_URL")
	}
	targets := []struct{ name, url string }{{"tcp", base}}
	const socketDir = "/var/run/postgresql"
	if _, err := os.Stat(socketDir + "/.s.PGSQL.5432"); err == nil {
		u, err := url.Parse(base)
		if err != nil {
			b.Fatal(err)
		}
		q := u.Query()
		q.Set("host", socketDir) // pgx: a host parameter that is a directory is a Unix socket
		u.RawQuery = q.Encode()
		targets = append(targets, struct{ name, url string }{"unix", u.String()})
	}
	const pk = "SELECT id, pool_id, user_id, created_at, expires_at, revoked_at, client_ip, user_agent FROM rt_sessions WHERE id = md5('1')"
	for _, tg := range targets {
		for _, q := range []struct{ name, sql string }{{"select1", "SELECT 1"}, {"pk", pk}} {
			for _, conns := range []int{1, 10} {
				b.Run(fmt.Sprintf("%s/%s/conns=%d", tg.name, q.name, conns), func(b *testing.B) {
					roundTrips(b, tg.url, q.sql, conns)
				})
			}
		}
	}
}

// roundTrips runs sql b.N times over conns connections (one goroutine
// each) and reports CPU per statement: this process's and the backends'.
func roundTrips(b *testing.B, dbURL, sql string, conns int) {
	ctx := context.Background()
	cs := make([]*pgx.Conn, conns)
	pids := make([]int, conns)
	for i := range cs {
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(ctx) })
		// A temporary table per connection: nothing is left behind.
		if _, err := c.Exec(ctx, `CREATE TEMP TABLE rt_sessions (id text PRIMARY KEY, pool_id text NOT NULL, user_id text NOT NULL,
			created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, revoked_at timestamptz,
			client_ip text NOT NULL, user_agent text NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Exec(ctx, `INSERT INTO rt_sessions SELECT md5(i::text), 'pool', 'user', now(), now() + interval '1 hour',
			NULL, '127.0.0.1', 'Go-http-client/1.1' FROM generate_series(1, 10000) i`); err != nil {
			b.Fatal(err)
		}
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pids[i]); err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	backends := func() (d time.Duration) {
		for _, p := range pids {
			d += procTime(p)
		}
		return d
	}
	b.ResetTimer()
	c0, d0 := rusageSelf(), backends()
	var wg sync.WaitGroup
	for i, c := range cs {
		n := b.N / conns
		if i < b.N%conns {
			n++
		}
		wg.Go(func() {
			for range n {
				rows, err := c.Query(ctx, sql)
				if err != nil {
					b.Error(err)
					return
				}
				for rows.Next() {
				}
				if rows.Err() != nil {
					b.Error(rows.Err())
					return
				}
			}
		})
	}
	wg.Wait()
	c1, d1 := rusageSelf(), backends()
	b.ReportMetric(float64((c1-c0).Nanoseconds())/1e3/float64(b.N), "client-cpu-us/op")
	b.ReportMetric(float64((d1-d0).Nanoseconds())/1e3/float64(b.N), "backend-cpu-us/op")
}

func rusageSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procTime is process pid's user + system CPU time from /proc/PID/stat
// (clock ticks of 10 ms: run enough statements).
func procTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * (time.Second / 100)
}
