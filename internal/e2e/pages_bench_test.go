package e2e

// The sign-up page over real HTTP on loopback, read as a ratio to
// BenchmarkTrivialJSON of the same run (docs/BENCHMARKS.md, "Hosted user
// pages"):
//
//	go test ./internal/e2e -run '^$' -bench 'TrivialJSON|PagesSignup' -benchtime 3s -count 3

import (
	"io"
	"testing"
)

// BenchmarkPagesSignup: GET of the sign-up page (pool read from the
// cache, CSRF cookie, template render, headers), a new browser each time.
func BenchmarkPagesSignup(b *testing.B) {
	in := benchServer(b)
	c := benchHTTP()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(in.URL + "/oidc/signup?method=email")
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

// BenchmarkPagesSignupSerial: one page at a time, so ns/op is the time
// from request to the last byte of the page on an otherwise idle server
// (the first-render time of the target: under 50 ms).
func BenchmarkPagesSignupSerial(b *testing.B) {
	in := benchServer(b)
	c := benchHTTP()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Get(in.URL + "/oidc/signup?method=email")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
