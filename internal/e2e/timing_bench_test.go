package e2e

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// BenchmarkLoginTimingParity shows that a login for an unknown account
// costs what a login with a wrong password costs (one argon2id
// computation each, production parameters), so response time does not
// tell which accounts exist. Each iteration makes one login of each kind,
// in alternating order so that drift hits both alike, and the benchmark
// reports both means, their difference and Welch's t statistic: |t| below
// about 2 means the difference is not distinguishable from noise at this
// sample size. It asserts nothing (timing belongs in benchmarks):
//
//	go test ./internal/e2e -run '^$' -bench LoginTimingParity -benchtime 400x
func BenchmarkLoginTimingParity(b *testing.B) {
	in := benchServer(b)
	// Failure detection off, so that every attempt reaches the hash.
	in.settings(b, func(s *userpool.PoolSettings) { s.LoginFailureDetection = false })
	ctx := context.Background()
	c := benchClient(in, benchHTTP())
	if _, err := c.RegisterByEmail(ctx, "timing@example.com", "passw0rd!", nil, nil); err != nil {
		b.Fatal(err)
	}
	login := func(email string, want int) float64 {
		start := time.Now()
		_, err := c.LoginByEmail(ctx, email, "wrong-password", nil)
		d := time.Since(start)
		var ce *client.Error
		if ce, _ = errAs(err); ce == nil || ce.Code != want {
			b.Fatalf("login %s: %v, want code %d", email, err, want)
		}
		return float64(d.Microseconds())
	}
	var unknown, wrong []float64
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			unknown = append(unknown, login("nobody@example.com", 2004))
			wrong = append(wrong, login("timing@example.com", 2006))
		} else {
			wrong = append(wrong, login("timing@example.com", 2006))
			unknown = append(unknown, login("nobody@example.com", 2004))
		}
	}
	b.StopTimer()
	mu, vu := meanVar(unknown)
	mw, vw := meanVar(wrong)
	b.ReportMetric(mu, "unknown-µs/login")
	b.ReportMetric(mw, "wrong-pw-µs/login")
	b.ReportMetric(100*(mu-mw)/mw, "diff-%")
	if n := float64(len(unknown)); n > 1 {
		b.ReportMetric((mu-mw)/math.Sqrt(vu/n+vw/n), "welch-t")
	}
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		variance /= float64(len(xs) - 1)
	}
	return mean, variance
}

// BenchmarkSendEmailTimingParity measures what a code request for an
// address with an account costs against one for an address without,
// with the pool's uniform option on (RESET_PASSWORD, console mailer,
// sending limits off so that every request goes the whole way). Each
// iteration makes one request of each kind, in alternating order, and
// the benchmark reports both medians and their ratio. It asserts nothing
// (timing belongs in benchmarks):
//
//	go test ./internal/e2e -run '^$' -bench SendEmailTimingParity -benchtime 400x
func BenchmarkSendEmailTimingParity(b *testing.B) {
	in := benchServer(b)
	in.settings(b, func(s *userpool.PoolSettings) {
		s.UniformLoginError = true
		s.EmailAddressInterval, s.EmailAddressPerDay, s.EmailIPPerHour = 0, 0, 0
	})
	ctx := context.Background()
	c := benchClient(in, benchHTTP())
	if _, err := c.RegisterByEmail(ctx, "timing@example.com", "passw0rd!", nil, nil); err != nil {
		b.Fatal(err)
	}
	send := func(email string) float64 {
		start := time.Now()
		err := c.SendEmail(ctx, email, client.EmailSceneResetPassword)
		d := time.Since(start)
		if err != nil {
			b.Fatalf("SendEmail(%s): %v", email, err)
		}
		return float64(d.Microseconds())
	}
	var known, unknown []float64
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			known = append(known, send("timing@example.com"))
			unknown = append(unknown, send("nobody@example.com"))
		} else {
			unknown = append(unknown, send("nobody@example.com"))
			known = append(known, send("timing@example.com"))
		}
	}
	b.StopTimer()
	mk, mu := median(known), median(unknown)
	b.ReportMetric(mk, "known-median-µs")
	b.ReportMetric(mu, "unknown-median-µs")
	b.ReportMetric(mk/mu, "known/unknown")
	b.ReportMetric(percentile(known, 0.9), "known-p90-µs")
	b.ReportMetric(percentile(unknown, 0.9), "unknown-p90-µs")
}

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
