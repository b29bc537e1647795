package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// BenchmarkReplicaRevocation measures how long after a logout on replica A
// answered replica B still accepted the token, with the session cache on
// (AUTHPOOL_SESSION_CACHE=listen; PostgreSQL only). Each round logs in on
// A, has B cache the session (two checks), logs out on A and checks on B
// until B refuses. Reported: p50, p99 and max of that visibility delay,
// and the checks B accepted after the logout had answered.
//
//	AUTHPOOL_TEST_POSTGRES_URL=... go test ./internal/e2e -run '^$' -bench BenchmarkReplicaRevocation -benchtime 500x
func BenchmarkReplicaRevocation(b *testing.B) {
	dbURL := storetest.DatabaseURLs(b)["postgres"]
	if dbURL == "" {
		b.Skip("AUTHPOOL_TEST_POSTGRES_URL is not set")
	}
	a := start(b, listenConfig(dbURL), nil)
	r := start(b, listenConfig(dbURL), nil)
	for _, in := range []*instance{a, r} {
		for up, _ := in.Srv.Cache().Listening(); !up; up, _ = in.Srv.Cache().Listening() {
			time.Sleep(time.Millisecond)
		}
	}
	ctx := context.Background()
	hc := benchHTTP()
	ca := client.NewAuthenticationClient(client.Options{AppHost: a.URL, HTTPClient: hc})
	cb := client.NewAuthenticationClient(client.Options{AppHost: r.URL, HTTPClient: hc})
	if _, err := ca.RegisterByEmail(ctx, "revoke@example.com", "passw0rd!", nil, nil); err != nil {
		b.Fatal(err)
	}
	check := func(tok string) bool {
		st, err := cb.CheckLoginStatus(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		return st.Status
	}
	delays := make([]time.Duration, 0, b.N)
	stale := 0
	b.ResetTimer()
	for range b.N {
		u, err := ca.LoginByEmail(ctx, "revoke@example.com", "passw0rd!", nil)
		if err != nil {
			b.Fatal(err)
		}
		if !check(u.Token) || !check(u.Token) {
			b.Fatal("B refused a live token")
		}
		if err := ca.Logout(ctx); err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		for check(u.Token) {
			stale++
			if time.Since(answered) > 10*time.Second {
				b.Fatal("B never saw the logout")
			}
		}
		delays = append(delays, time.Since(answered))
	}
	b.StopTimer()
	slices.Sort(delays)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(delays[len(delays)/2]), "p50-ms")
	b.ReportMetric(ms(delays[(len(delays)*99)/100]), "p99-ms")
	b.ReportMetric(ms(delays[len(delays)-1]), "max-ms")
	b.ReportMetric(float64(stale), "stale-accepts")
}

// BenchmarkCheckSessionCache compares token checks on PostgreSQL with the
// session read per check (off) and from memory (listen), the two servers
// alternating. cpu-us/op is this process's CPU per check (server and
// clients; PostgreSQL's own CPU is not in it, which the cache saves too).
//
//	AUTHPOOL_TEST_POSTGRES_URL=... go test ./internal/e2e -run '^$' -bench BenchmarkCheckSessionCache -benchtime 3s -count 3
func BenchmarkCheckSessionCache(b *testing.B) {
	dbURL := storetest.DatabaseURLs(b)["postgres"]
	if dbURL == "" {
		b.Skip("AUTHPOOL_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	for _, mode := range []string{"off", "listen"} {
		cfg := listenConfig(dbURL)
		cfg.SessionCache = mode
		cfg.RateLimitTokenCheck.Max = 1 << 30
		in := start(b, cfg, nil)
		for up, _ := in.Srv.Cache().Listening(); !up; up, _ = in.Srv.Cache().Listening() {
			time.Sleep(time.Millisecond)
		}
		hc := benchHTTP()
		c := client.NewAuthenticationClient(client.Options{AppHost: in.URL, HTTPClient: hc})
		u, err := c.RegisterByEmail(ctx, "cache-"+mode+"@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("session-cache="+mode, func(b *testing.B) {
			cpu0 := processCPU()
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					st, err := c.CheckLoginStatus(ctx, u.Token)
					if err != nil || !st.Status {
						b.Errorf("check: %v %+v", err, st)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
		})
		in.stop()
	}
}
