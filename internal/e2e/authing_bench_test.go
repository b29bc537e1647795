package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkGraphQLIntrospection measures the introspection query the
// Python SDK sends before every call (docs/BENCHMARKS.md):
//
//   - cached: the same document each time, as the SDK sends it;
//
//   - uncached: the same document with a different comment each time, so
//     that every request misses the cache and is parsed, validated and run
//     (the answer is the same);
//
//   - attack: the document of issue 10 (50 aliased __schema), refused.
//
//     go test ./internal/e2e -run '^$' -bench GraphQLIntrospection -benchtime 3s
func BenchmarkGraphQLIntrospection(b *testing.B) {
	q, err := os.ReadFile("testdata/introspection_graphqlcore2.graphql")
	if err != nil {
		b.Fatal(err)
	}
	var attack strings.Builder
	attack.WriteString("query {")
	for i := range 50 {
		fmt.Fprintf(&attack, " s%d: __schema { types { name fields { name type { name } } } }", i)
	}
	attack.WriteString(" }")
	for _, bc := range []struct {
		name   string
		doc    func(n int64) string
		answer string // a fragment every answer holds
	}{
		{"cached", func(int64) string { return string(q) }, `"__schema"`},
		{"uncached", func(n int64) string { return fmt.Sprintf("# %d\n%s", n, q) }, `"__schema"`},
		{"attack", func(int64) string { return attack.String() }, `"code":1001`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := benchServer(b)
			hc := benchHTTP()
			var seq, bytesOut atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body, _ := json.Marshal(map[string]any{"query": bc.doc(seq.Add(1))})
					resp, err := hc.Post(in.URL+"/graphql/v2", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), bc.answer) {
						b.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
						return
					}
					bytesOut.Add(int64(len(raw)))
				}
			})
			b.ReportMetric(float64(bytesOut.Load())/float64(b.N), "answer-B/op")
		})
	}
}
