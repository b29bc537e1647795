package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/userpool"
)

// BenchmarkPools measures login, token check and users/me in one pool of a
// store holding 1 pool and of one holding 10,000 (AUTHPOOL_BENCH_POOLS
// changes the count), each with settings, two fields, one disabled
// pipeline and one webhook: per-request cost must not grow with the
// number of pools. storereads/op counts the reads of cached data (pool,
// fields, pipelines) that went to the store. SQLite unless
// AUTHPOOL_BENCH_POSTGRES=1:
//
//	go test ./internal/e2e -run '^$' -bench BenchmarkPools -benchtime 3s
func BenchmarkPools(b *testing.B) {
	many := 10000
	if v := os.Getenv("AUTHPOOL_BENCH_POOLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("AUTHPOOL_BENCH_POOLS=%q", v)
		}
		many = n
	}
	// Both stores are made first and the operations alternate between
	// them, so that a change in the machine's load between sub-benchmarks
	// falls on both alike; cpu-us/op (this process's user+system CPU: the
	// server and the SDK clients) is less disturbed by other processes than
	// ns/op.
	type target struct {
		pools int
		in    *instance
		opts  client.Options
		token string
	}
	ctx := context.Background()
	var targets []target
	for _, pools := range []int{1, many} {
		in := poolsServer(b, pools)
		opts := client.Options{AppHost: in.URL, HTTPClient: benchHTTP(), UserPoolID: benchPoolID(pools - 1)}
		c := client.NewAuthenticationClient(opts)
		if _, err := c.RegisterByEmail(ctx, "pools@example.com", "passw0rd!", nil, nil); err != nil {
			b.Fatal(err)
		}
		u, err := c.LoginByEmail(ctx, "pools@example.com", "passw0rd!", nil)
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, target{pools, in, opts, u.Token})
	}
	ops := []struct {
		name string
		op   func(c *client.AuthenticationClient, tok string) error
	}{
		{"login", func(c *client.AuthenticationClient, _ string) error {
			_, err := c.LoginByEmail(ctx, "pools@example.com", "passw0rd!", nil)
			return err
		}},
		{"check", func(c *client.AuthenticationClient, tok string) error {
			st, err := c.CheckLoginStatus(ctx, tok)
			if err == nil && !st.Status {
				err = fmt.Errorf("check: %+v", st)
			}
			return err
		}},
		{"me", func(c *client.AuthenticationClient, tok string) error {
			c.SetToken(tok)
			_, err := c.GetCurrentUser(ctx)
			return err
		}},
	}
	for _, o := range ops {
		for _, tg := range targets {
			b.Run(fmt.Sprintf("%s/pools=%d", o.name, tg.pools), func(b *testing.B) {
				_, m0 := tg.in.Srv.Cache().Stats()
				cpu0 := processCPU()
				b.SetParallelism(benchParallelism)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := client.NewAuthenticationClient(tg.opts)
					for pb.Next() {
						if err := o.op(c, tg.token); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				_, m1 := tg.in.Srv.Cache().Stats()
				b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
				b.ReportMetric(float64(m1-m0)/float64(b.N), "storereads/op")
			})
		}
	}
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchPoolID(i int) string { return fmt.Sprintf("bench-pool-%05d", i) }

// poolsServer starts a server (production parameters, limits far away)
// over a fresh database holding n pools, made by direct store calls.
func poolsServer(b *testing.B, n int) *instance {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + b.TempDir() + "/pools.db"
	if url := benchPostgres(b); url != "" {
		cfg.DatabaseURL = url
	}
	for _, r := range []*config.Rate{&cfg.RateLimitRegister, &cfg.RateLimitLogin, &cfg.RateLimitCaptcha, &cfg.RateLimitTokenCheck, &cfg.RateLimitGraphQL} {
		r.Max = 1 << 30
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	began := time.Now()
	for i := range n {
		id := benchPoolID(i)
		set := userpool.DefaultPoolSettings()
		set.PasswordMinLength = 9
		set.LoginFailureDetection = false
		err := st.CreatePool(ctx, &userpool.Pool{ID: id, Name: id, Settings: set, CreatedAt: now})
		for _, key := range []string{"plan", "age"} {
			if err == nil {
				err = st.CreateField(ctx, &userpool.Field{PoolID: id, Key: key, DataType: userpool.TypeString, Label: key, CreatedAt: now, UpdatedAt: now})
			}
		}
		if err == nil {
			err = st.CreatePipeline(ctx, &userpool.Pipeline{ID: id + "-pl", PoolID: id, Stage: userpool.StagePreAuthentication,
				Name: "off", Kind: userpool.PipelineScript, Script: "async function pipe(user, context, callback) { callback(null, user, context) }",
				Timeout: time.Second, CreatedAt: now, UpdatedAt: now})
		}
		if err == nil {
			err = st.CreateSubscription(ctx, &userpool.WebhookSubscription{ID: id + "-wh", PoolID: id, URL: "https://hooks.example.com/" + id,
				Events: []string{api.EventUserEmailVerified}, Secret: "whsec_0123456789abcdef0123456789abcdef", Enabled: true, CreatedAt: now})
		}
		if err != nil {
			b.Fatalf("pool %d: %v", i, err)
		}
	}
	b.Logf("%d pools made in %v", n, time.Since(began).Round(time.Millisecond))
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return start(b, cfg, nil)
}
