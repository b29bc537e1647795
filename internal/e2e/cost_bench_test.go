package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/password"
)

// BenchmarkServerCost measures what the server itself spends per request,
// the figures of issue 17 that stay stable on a shared machine: the
// authpool binary runs as a child process with its default settings
// (production password parameters, its own GC settings), and the
// benchmark reads its CPU time (utime + stime from /proc/PID/stat) and,
// on PostgreSQL, that of the database backends serving it (found by
// application_name in pg_stat_activity) before and after each phase:
//
//   - mixed: 64 concurrent logins and 64 concurrent token checks for
//     AUTHPOOL_BENCH_MIXED (default 60s); reports the peak RSS (VmHWM,
//     reset before the phase) and the login rate;
//   - check, me, login: a fixed number of each with 16 clients, on a
//     second child with the cheapest argon2id parameters, so that a
//     login's CPU is its cost beyond the hash; reports server (+ database)
//     CPU per request, and the CPU of one raw hash at the default
//     parameters (password.Hasher in this process, one at a time). The
//     child's CPU at rest (AUTHPOOL_BENCH_IDLE, default 5s, with no
//     request: its pollers and the database's share of them) is reported
//     per second, and the -net-CPU-ms figures take it off each phase.
//
// Run it once per configuration (it ignores b.N beyond 1):
//
//	go test ./internal/e2e -run '^$' -bench ServerCost -benchtime 1x
//	AUTHPOOL_BENCH_POSTGRES=1 AUTHPOOL_TEST_POSTGRES_URL=... go test ./internal/e2e -run '^$' -bench ServerCost -benchtime 1x
//
// AUTHPOOL_BENCH_BINARY runs a given binary instead of building this
// tree's (to compare with an older build); AUTHPOOL_BENCH_CHILD_ENV adds
// comma-separated NAME=VALUE settings to the child only (GOGC=400,
// GOMEMLIMIT=off, ...); AUTHPOOL_BENCH_ONLY_MIXED=1 stops after the mixed
// load.
func BenchmarkServerCost(b *testing.B) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x")
	}
	bin := os.Getenv("AUTHPOOL_BENCH_BINARY")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "authpool")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/authpool/authpool/cmd/authpool").CombinedOutput()
		if err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	ctx := context.Background()
	hc := benchHTTP()

	// Phase 1, default settings: the mixed load, for memory.
	srv := startChild(b, bin, nil)
	mixed := 60 * time.Second
	if v := os.Getenv("AUTHPOOL_BENCH_MIXED"); v != "" {
		var err error
		if mixed, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	srv.register(b, hc)
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", srv.pid), []byte("5"), 0); err != nil {
		b.Logf("cannot reset VmHWM (%v): the peak includes the setup", err)
	}
	s0, d0 := srv.cpu(b)
	var logins, checks atomic.Int64
	deadline := time.Now().Add(mixed)
	var wg sync.WaitGroup
	for g := range 128 {
		wg.Go(func() {
			for i := g; time.Now().Before(deadline); i += 128 {
				if g%2 == 0 {
					if err := srv.login(hc, i); err != nil {
						b.Error(err)
						return
					}
					logins.Add(1)
				} else {
					if err := srv.check(hc, i); err != nil {
						b.Error(err)
						return
					}
					checks.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s1, d1 := srv.cpu(b)
	hwm := procStatusKiB(srv.pid, "VmHWM")
	b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(logins.Load())/mixed.Seconds(), "mixed-logins/s")
	b.ReportMetric(float64(checks.Load())/mixed.Seconds(), "mixed-checks/s")
	b.Logf("mixed %v: %d logins, %d checks, server CPU %v, database CPU %v, VmHWM %d KiB",
		mixed, logins.Load(), checks.Load(), s1-s0, d1-d0, hwm)
	srv.stop()
	if os.Getenv("AUTHPOOL_BENCH_ONLY_MIXED") != "" {
		return
	}

	// Phase 2, the cost of each request beyond the password hash: the
	// same server with the cheapest argon2id parameters (8 KiB, 1 pass),
	// so that a login's CPU is what it spends besides hashing.
	srv = startChild(b, bin, []string{"AUTHPOOL_PASSWORD_MEMORY_KIB=8", "AUTHPOOL_PASSWORD_TIME=1"})
	defer srv.stop()
	srv.register(b, hc)
	// What the server and its database spend with no request at all (the
	// pollers of the webhook outbox and the code queue, the janitor, the
	// change feed's ping...), per second: the net figures below take it
	// off each phase, so that a cheap request is not charged for them.
	idle := envDuration(b, "AUTHPOOL_BENCH_IDLE", 5*time.Second)
	is0, id0 := srv.cpu(b)
	time.Sleep(idle)
	is1, id1 := srv.cpu(b)
	idleRate := (ms(is1-is0) + ms(id1-id0)) / idle.Seconds()
	b.ReportMetric(ms(is1-is0)/idle.Seconds(), "idle-server-CPU-ms/s")
	b.ReportMetric(ms(id1-id0)/idle.Seconds(), "idle-db-CPU-ms/s")
	phase := func(name string, n, workers int, op func(*http.Client, int) error) {
		began := time.Now()
		s0, d0 := srv.cpu(b)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
					if err := op(hc, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		s1, d1 := srv.cpu(b)
		server, database := ms(s1-s0)/float64(n), ms(d1-d0)/float64(n)
		b.ReportMetric(server+database, name+"-CPU-ms")
		b.ReportMetric(server+database-idleRate*time.Since(began).Seconds()/float64(n), name+"-net-CPU-ms")
		if srv.db != nil {
			b.ReportMetric(server, name+"-server-CPU-ms")
			b.ReportMetric(database, name+"-db-CPU-ms")
		}
	}
	checksN := envInt("AUTHPOOL_BENCH_CHECKS", 20000)
	phase("check", checksN, 16, srv.check)
	phase("me", checksN, 16, srv.me)
	phase("login", envInt("AUTHPOOL_BENCH_LOGINS", 4000), 16, srv.login)

	// The raw hash at the default parameters, one at a time in this
	// process, with the implementation the server uses: what a login
	// adds to it is the login figure above.
	cfg := config.Default()
	h := password.New(cfg.PasswordParams(), 1)
	const hashes = 20
	r0 := selfCPU()
	for range hashes {
		if _, err := h.Hash(ctx, "passw0rd!"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(ms(selfCPU()-r0)/hashes, "hash-CPU-ms")
}

// child is an authpool process started by BenchmarkServerCost.
type child struct {
	cmd     *exec.Cmd
	pid     int
	base    string
	db      *pgx.Conn // PostgreSQL: to find the backends serving the child
	appName string
	tokens  []string
	stopped bool
}

const costUsers = 64

func startChild(b *testing.B, bin string, env []string) *child {
	dbURL := "sqlite:" + filepath.Join(b.TempDir(), "cost.db")
	c := &child{}
	if pg := benchPostgres(b); pg != "" {
		c.appName = fmt.Sprintf("authpool-cost-%d", time.Now().UnixNano())
		u, err := url.Parse(pg)
		if err != nil {
			b.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", c.appName)
		u.RawQuery = q.Encode()
		dbURL = u.String()
		if c.db, err = pgx.Connect(context.Background(), os.Getenv("AUTHPOOL_TEST_POSTGRES_URL")); err != nil {
			b.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c.cmd = exec.Command(bin, "serve")
	c.cmd.Env = append(os.Environ(),
		"AUTHPOOL_ADDR="+addr, "AUTHPOOL_DATABASE_URL="+dbURL,
		// Every request comes from 127.0.0.1; keep the limits counting but
		// far from refusing (as benchServer does).
		"AUTHPOOL_RATE_LIMIT_LOGIN=1000000000/1m", "AUTHPOOL_RATE_LIMIT_REGISTER=1000000000/1m",
		"AUTHPOOL_RATE_LIMIT_TOKEN_CHECK=1000000000/1m")
	if extra := os.Getenv("AUTHPOOL_BENCH_CHILD_ENV"); extra != "" {
		c.cmd.Env = append(c.cmd.Env, strings.Split(extra, ",")...)
	}
	c.cmd.Env = append(c.cmd.Env, env...)
	if err := c.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c.pid = c.cmd.Process.Pid
	c.base = "http://" + addr
	b.Cleanup(c.stop)
	waitReady(b, benchHTTP(), c.base)
	return c
}

func (c *child) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
	if c.db != nil {
		c.db.Close(context.Background())
	}
}

func (c *child) register(b *testing.B, hc *http.Client) {
	reg := client.NewAuthenticationClient(client.Options{AppHost: c.base, HTTPClient: hc})
	c.tokens = make([]string, costUsers)
	for i := range costUsers {
		u, err := reg.RegisterByEmail(context.Background(), fmt.Sprintf("cost%d@example.com", i), "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
		if err != nil {
			b.Fatal(err)
		}
		c.tokens[i] = u.Token
	}
}

// cpu is the CPU time of the child and of its database backends.
func (c *child) cpu(b *testing.B) (server, database time.Duration) {
	server = procCPU(c.pid)
	if c.db == nil {
		return server, 0
	}
	rows, err := c.db.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE application_name = $1", c.appName)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range pids {
		database += procCPU(int(p))
	}
	return server, database
}

func (c *child) login(hc *http.Client, i int) error {
	ac := client.NewAuthenticationClient(client.Options{AppHost: c.base, HTTPClient: hc})
	_, err := ac.LoginByEmail(context.Background(), fmt.Sprintf("cost%d@example.com", i%costUsers), "passw0rd!", nil)
	return err
}

func (c *child) check(hc *http.Client, i int) error {
	ac := client.NewAuthenticationClient(client.Options{AppHost: c.base, HTTPClient: hc})
	st, err := ac.CheckLoginStatus(context.Background(), c.tokens[i%costUsers])
	if err == nil && !st.Status {
		err = fmt.Errorf("check refused: %+v", st)
	}
	return err
}

func (c *child) me(hc *http.Client, i int) error {
	ac := client.NewAuthenticationClient(client.Options{AppHost: c.base, HTTPClient: hc})
	ac.SetToken(c.tokens[i%costUsers])
	_, err := ac.GetCurrentUser(context.Background())
	return err
}
func waitReady(b *testing.B, hc *http.Client, base string) {
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(50 * time.Millisecond) {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	b.Fatal("server not ready after a minute")
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return d
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// procCPU is the user + system CPU time of process pid (0 when it is
// gone), from /proc/PID/stat in clock ticks (100 per second on Linux).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(utime+stime) * (time.Second / 100)
}

// procStatusKiB reads a "Name: N kB" line of /proc/PID/status.
func procStatusKiB(pid int, name string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// selfCPU is this process's user + system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
