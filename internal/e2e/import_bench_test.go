package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

var importUsers = flag.Int("import-users", 100_000, "users BenchmarkImportUsers imports (docs/BENCHMARKS.md uses 1000000)")

// BenchmarkImportUsers streams -import-users new users (email, verified
// flag, profile, a bcrypt hash; no hashing at import) through one
// request of the import route, as `authpool admin users import` sends
// them, and reports the time each 100,000 took. SQLite by default;
// AUTHPOOL_BENCH_POSTGRES=1 for PostgreSQL. Run with -benchtime 1x.
func BenchmarkImportUsers(b *testing.B) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + b.TempDir() + "/bench.db"
	if url := benchPostgres(b); url != "" {
		cfg.DatabaseURL = url
	}
	cfg.AdminKey = testAdminKey
	in := start(b, cfg, nil)
	mc := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: testAdminKey})
	ctx := context.Background()
	n := *importUsers
	b.ResetTimer()
	for range b.N {
		pr, pw := io.Pipe()
		go func() {
			for i := range n {
				if _, err := fmt.Fprintf(pw, `{"externalId":"b%d","email":"b%d@example.com","emailVerified":true,"nickname":"user %d","givenName":"Bench","passwordHash":"$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"}`+"\n", i, i, i); err != nil {
					return
				}
			}
			pw.Close()
		}()
		start, last := time.Now(), time.Now()
		done := 0
		var per []time.Duration
		sum, err := mc.ImportUsers(ctx, "default", pr, client.ImportOptions{Source: fmt.Sprintf("bench%d", time.Now().UnixNano())}, func(r client.ImportReport) error {
			if r.Status != "imported" {
				return fmt.Errorf("line %d: %+v", r.Line, r)
			}
			done++
			if done%100_000 == 0 {
				per = append(per, time.Since(last))
				last = time.Now()
				// Also as it happens, for runs too long to wait for.
				fmt.Fprintf(os.Stderr, "import bench: users %d-%d: %.1f s\n", done-99_999, done, per[len(per)-1].Seconds())
			}
			return nil
		})
		if err != nil || sum.Imported != n {
			b.Fatalf("import: %v %+v", err, sum)
		}
		total := time.Since(start)
		b.ReportMetric(float64(n)/total.Seconds(), "users/s")
		for i, d := range per {
			b.Logf("users %d-%d: %.1f s", i*100_000+1, (i+1)*100_000, d.Seconds())
		}
		b.Logf("%d users in %.1f s", n, total.Seconds())
	}
}
