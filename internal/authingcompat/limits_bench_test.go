package authingcompat

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// BenchmarkIntrospectionHandler measures the GraphQL handler alone, one
// request at a time (the CPU a request costs, without HTTP): the Python
// SDK's introspection query from the cache and run afresh (a different
// comment each time misses the cache), and the attack document of issue 10
// (docs/BENCHMARKS.md).
//
//	go test ./internal/authingcompat -run '^$' -bench IntrospectionHandler -benchtime 3s
func BenchmarkIntrospectionHandler(b *testing.B) {
	s := benchTransport(b)
	q, err := os.ReadFile("../e2e/testdata/introspection_graphqlcore2.graphql")
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
		name string
		doc  func(i int) string
		want string
	}{
		{"cached", func(int) string { return string(q) }, `"__schema"`},
		{"uncached", func(i int) string { return fmt.Sprintf("# %d\n%s", i, q) }, `"__schema"`},
		{"attack", func(int) string { return attack.String() }, `"code":1001`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := func(i int) string {
				return `{"query":` + jsonString(bc.doc(i)) + `}`
			}
			for i := 0; b.Loop(); i++ {
				rec := httptest.NewRecorder()
				s.graphql(rec, httptest.NewRequest(http.MethodPost, graphqlPath, strings.NewReader(body(i))))
				if i == 0 && !strings.Contains(rec.Body.String(), bc.want) {
					b.Fatalf("%.300s", rec.Body.String())
				}
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := encodeJSON(s)
	return strings.TrimSpace(string(b))
}

// benchTransport is the transport with no use cases behind it: only the
// GraphQL rate limit is called, and it admits everything.
func benchTransport(b *testing.B) *Server {
	b.Helper()
	s, err := New(context.Background(), Deps{
		Auth: benchCore{}, Codes: struct{ Codes }{}, Captcha: struct{ Captchas }{}, Data: struct{ UserData }{},
		Keys: &benchKeys{}, ClientIP: func(*http.Request, string) string { return "192.0.2.1" },
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

type benchCore struct{ Core }

func (benchCore) LimitGraphQL(context.Context, auth.Meta) error { return nil }

type benchKeys struct{ k *userpool.TransportKey }

func (k *benchKeys) GetTransportKey(context.Context, string) (*userpool.TransportKey, error) {
	if k.k == nil {
		return nil, userpool.ErrNotFound
	}
	return k.k, nil
}

func (k *benchKeys) EnsureTransportKey(_ context.Context, t *userpool.TransportKey) (*userpool.TransportKey, error) {
	k.k = t
	return t, nil
}
