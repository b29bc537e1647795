package e2e

// The account page's cost over real HTTP on loopback, read as a ratio to
// BenchmarkTrivialJSON of the same run (docs/BENCHMARKS.md, "Account
// page"):
//
//	go test ./internal/e2e -run '^$' -bench 'TrivialJSON|AccountPage' -benchtime 2s -count 3

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkAccountPage: GET of the account page by a signed-in browser:
// the session check, the user with its values, factors, sessions,
// consents and fields read through the use cases, and the template.
func BenchmarkAccountPage(b *testing.B) {
	in, _, br := oidcBenchServer(b)
	u, _ := url.Parse(in.URL + "/oidc/account")
	var cookies []string
	for _, ck := range br.http.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	cookie := strings.Join(cookies, "; ")
	hc := benchHTTP()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
			req.Header.Set("Cookie", cookie)
			req.Header.Set("Accept-Language", "en")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="account"`) {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
