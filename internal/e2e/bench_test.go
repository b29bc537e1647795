package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	reused "github.com/authpool/authpool/internal/password/argon2"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
)

// Benchmarks run over real HTTP on loopback with the production password
// parameters, so that the ratios in docs/BENCHMARKS.md can be read from one
// run:
//
//	go test ./internal/e2e -run '^$' -bench . -benchtime 5s
//
// BenchmarkRawArgon2id and BenchmarkTrivialJSON are the references.
// AUTHPOOL_BENCH_CHEAP_HASH=1 gives the server the cheapest argon2id, for
// CPU profiles of what a login does beyond the hash (-cpuprofile).

const benchParallelism = 8 // goroutines per CPU, to keep the server busy

func benchServer(b *testing.B) *instance {
	in, _ := benchServerCounting(b)
	return in
}

// benchServerCounting is benchServer whose store counts its statements and
// transactions; countPerOp reports them per op at the end of the benchmark.
func benchServerCounting(b *testing.B) (*instance, *sqlstore.Counts) {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + b.TempDir() + "/bench.db"
	if url := benchPostgres(b); url != "" {
		cfg.DatabaseURL = url
	}
	// Every request comes from 127.0.0.1: per-IP limits would measure
	// themselves, not the server.
	// Every benchmark request comes from one address: keep the limits
	// counting (their cost is part of the figure) but far from refusing.
	for _, r := range []*config.Rate{&cfg.RateLimitRegister, &cfg.RateLimitLogin, &cfg.RateLimitCaptcha, &cfg.RateLimitTokenCheck, &cfg.RateLimitGraphQL} {
		r.Max = 1 << 30
	}
	if os.Getenv("AUTHPOOL_BENCH_CHEAP_HASH") != "" {
		// The cheapest argon2id: a login's cost is then what it costs
		// beyond the hash (for profiles of the request path).
		cfg.PasswordMemoryKiB, cfg.PasswordTime = 8, 1
	}
	counts := new(sqlstore.Counts)
	return startWith(b, cfg, nil, server.Options{StoreCounts: counts}), counts
}

// cpuPerOp reports the process's CPU time (user + system, server and
// clients together) per op from now to the end of the benchmark: on a
// shared machine it moves much less than wall time, and when the hashing
// keeps every CPU busy, throughputs are in the inverse ratio of CPU per op.
func cpuPerOp(b *testing.B) {
	c0 := selfCPU()
	b.Cleanup(func() { b.ReportMetric(ms(selfCPU()-c0)/float64(b.N), "CPU-ms/op") })
}

// countPerOp starts counting the store's statements and transactions now
// and reports them per op when the benchmark ends. Work the server does on
// its own meanwhile (the janitor, idle pollers) is counted too; it is small
// beside thousands of requests.
func countPerOp(b *testing.B, c *sqlstore.Counts) {
	s0, t0 := c.Statements.Load(), c.Transactions.Load()
	b.Cleanup(func() {
		n := float64(b.N)
		b.ReportMetric(float64(c.Statements.Load()-s0)/n, "stmts/op")
		b.ReportMetric(float64(c.Transactions.Load()-t0)/n, "txs/op")
	})
}

// benchPostgres lets AUTHPOOL_BENCH_POSTGRES=1 run the benchmarks on
// PostgreSQL (a fresh schema) instead of SQLite.
func benchPostgres(b *testing.B) string {
	if os.Getenv("AUTHPOOL_BENCH_POSTGRES") == "" {
		return ""
	}
	for name, url := range storetest.DatabaseURLs(b) {
		if name == "postgres" {
			return url
		}
	}
	b.Fatal("AUTHPOOL_BENCH_POSTGRES set but AUTHPOOL_TEST_POSTGRES_URL is not")
	return ""
}

// benchHTTP is one connection-reusing HTTP client for a whole benchmark.
func benchHTTP() *http.Client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

func benchClient(in *instance, hc *http.Client) *client.AuthenticationClient {
	return client.NewAuthenticationClient(client.Options{AppHost: in.URL, HTTPClient: hc})
}

func BenchmarkRawArgon2id(b *testing.B) {
	cfg := config.Default()
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte("passw0rd!"), salt, cfg.PasswordTime, cfg.PasswordMemoryKiB, cfg.PasswordThreads, 32)
		}
	})
}

// BenchmarkRawArgon2idReused is the raw hash as the server computes it
// (internal/password/argon2: one reused working area per hashing slot),
// one per CPU in parallel: the limit a login can approach.
func BenchmarkRawArgon2idReused(b *testing.B) {
	cfg := config.Default()
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		var area reused.Memory
		defer area.Free()
		for pb.Next() {
			area.IDKey([]byte("passw0rd!"), salt, cfg.PasswordTime, cfg.PasswordMemoryKiB, cfg.PasswordThreads, 32)
		}
	})
}

func BenchmarkTrivialJSON(b *testing.B) {
	in := benchServer(b)
	c := benchHTTP()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(in.URL + "/healthz")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func BenchmarkRegisterByEmail(b *testing.B) {
	in := benchServer(b)
	hc := benchHTTP()
	c := benchClient(in, hc)
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			email := fmt.Sprintf("bench%d@example.com", n.Add(1))
			if _, err := c.RegisterByEmail(ctx, email, "passw0rd!", nil, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLoginByEmail(b *testing.B) {
	in, counts := benchServerCounting(b)
	hc := benchHTTP()
	c := benchClient(in, hc)
	ctx := context.Background()
	const users = 32
	for i := range users {
		if _, err := c.RegisterByEmail(ctx, fmt.Sprintf("login%d@example.com", i), "passw0rd!", nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	countPerOp(b, counts)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			email := fmt.Sprintf("login%d@example.com", n.Add(1)%users)
			// A fresh client per login: the SDK client keeps one token.
			lc := benchClient(in, hc)
			if _, err := lc.LoginByEmail(ctx, email, "passw0rd!", nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCheckLoginStatus(b *testing.B) {
	in, counts := benchServerCounting(b)
	hc := benchHTTP()
	c := benchClient(in, hc)
	ctx := context.Background()
	u, err := c.RegisterByEmail(ctx, "check@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	countPerOp(b, counts)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, err := c.CheckLoginStatus(ctx, u.Token)
			if err != nil || !st.Status {
				b.Errorf("check: %v %+v", err, st)
				return
			}
		}
	})
}

func BenchmarkGetCurrentUser(b *testing.B) {
	in, counts := benchServerCounting(b)
	hc := benchHTTP()
	c := benchClient(in, hc)
	ctx := context.Background()
	u, err := c.RegisterByEmail(ctx, "me@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	countPerOp(b, counts)
	b.RunParallel(func(pb *testing.PB) {
		mc := benchClient(in, hc)
		mc.SetToken(u.Token)
		for pb.Next() {
			if _, err := mc.GetCurrentUser(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
