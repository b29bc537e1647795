package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

// The limits of one GraphQL document (docs/AUTHING.md, "Limits"); the
// tests build documents at and one over each.
const (
	gqlMaxSelections = 500
	gqlMaxAnswer     = 256 << 10
)

// rawGQL posts a document and returns the status, the headers and the
// body as sent.
func (c *authingClient) rawGQL(doc string, vars map[string]any) (int, http.Header, []byte) {
	c.t.Helper()
	body := map[string]any{"query": doc}
	if vars != nil {
		body["variables"] = vars
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, c.url+"/graphql/v2", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, buf.Bytes()
}

// refused checks a document was refused whole (data null) with a 1001
// whose message holds want, in a small answer, and returns the answer.
func refused(t *testing.T, c *authingClient, doc, want string) *gqlAnswer {
	t.Helper()
	a := c.gql(doc, nil, "")
	msg := a.wantCode(t, 1001)
	if !strings.Contains(msg, want) {
		t.Errorf("message %q, want it to mention %q", msg, want)
	}
	if !strings.Contains(string(a.Raw), `"data":null`) || len(a.Errors) != 1 {
		t.Errorf("a refused document was run: %.300s", a.Raw)
	}
	if len(a.Raw) > 1024 {
		t.Errorf("refusal is %d bytes", len(a.Raw))
	}
	return a
}

// TestAuthingGraphQLAmplification: the attack of issue 10 (50 aliased
// __schema in a small request) and its variants are refused before they
// run, in a small answer; documents at each limit are served.
func TestAuthingGraphQLAmplification(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)

	// 50 aliased __schema: 1 KB asked 1 MB.
	var attack strings.Builder
	attack.WriteString("query {")
	for i := range 50 {
		fmt.Fprintf(&attack, " s%d: __schema { types { name fields { name type { name } } } }", i)
	}
	attack.WriteString(" }")
	if attack.Len() > 4096 {
		t.Fatalf("attack document is %d bytes", attack.Len())
	}
	refused(t, c, attack.String(), "introspection")

	// Introspection twice, in any form: __schema and __type, through a
	// fragment, or inside an inline fragment.
	refused(t, c, `{ __schema { queryType { name } } __type(name: "User") { name } }`, "introspection")
	refused(t, c, `{ a: __type(name: "User") { name } b: __type(name: "Query") { name } }`, "introspection")
	refused(t, c, `query { ...F __schema { queryType { name } } } fragment F on Query { __schema { mutationType { name } } }`, "introspection")
	refused(t, c, `query { ... on Query { a: __schema { queryType { name } } } __schema { queryType { name } } }`, "introspection")
	// Once is fine, with __typename beside it.
	a := c.gql(`{ __typename __type(name: "User") { name fields { name } } }`, nil, "")
	if a.Status != 200 || len(a.Errors) != 0 || !strings.Contains(string(a.Raw), `"name":"User"`) {
		t.Fatalf("one __type: %s", a.Raw)
	}

	// The selection limit counts aliases: a document of exactly the limit
	// runs (user without a token: 2020), one more is refused unrun.
	atLimit := func(n int) string {
		var b strings.Builder
		b.WriteString("query { user {") // user: 1 selection
		for i := range n - 1 {
			fmt.Fprintf(&b, " a%d: id", i)
		}
		b.WriteString(" } }")
		return b.String()
	}
	c.gql(atLimit(gqlMaxSelections), nil, "").wantCode(t, 2020)
	refused(t, c, atLimit(gqlMaxSelections+1), "selections")
	// Fragment spreads count what they expand to: 3 spreads of a
	// 200-field fragment are 1 + 3*(1+200) selections.
	var frag strings.Builder
	frag.WriteString("query { user { ...U ...U ...U } } fragment U on User {")
	for i := range 200 {
		fmt.Fprintf(&frag, " f%d: id", i)
	}
	frag.WriteString(" }")
	refused(t, c, frag.String(), "selections")
	// A chain of fragments that doubles at each step (2^14 fields from a
	// few hundred bytes) is refused without being expanded.
	var chain strings.Builder
	chain.WriteString("query { user { ...F0 } }")
	for i := range 14 {
		fmt.Fprintf(&chain, " fragment F%d on User { ...F%d ...F%d }", i, i+1, i+1)
	}
	chain.WriteString(" fragment F14 on User { id }")
	refused(t, c, chain.String(), "selections")

	// One introspection field within the selection limit, whose answer is
	// still too large: refused whole rather than sent.
	var wide strings.Builder
	wide.WriteString("query { __schema {")
	for i := range 40 {
		fmt.Fprintf(&wide, " t%d: types { name description fields { name description type { name kind } } }", i)
	}
	wide.WriteString(" } }")
	refused(t, c, wide.String(), "larger than")

	// The server is still well.
	if resp, err := http.Get(in.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
}

// TestAuthingGraphQLLimitErrors: every limit of the engine (depth, length,
// selections, overlap checks) answers a client error (1001, or 1002 for
// length) and writes no ERROR line to the log.
func TestAuthingGraphQLLimitErrors(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)
	deep := "query { __schema { types { " + strings.Repeat("ofType { ", 20) + "name" + strings.Repeat(" }", 20) + " } } }"
	if msg := c.gql(deep, nil, "").wantCode(t, 1001); !strings.Contains(msg, "depth") {
		t.Errorf("depth: %q", msg)
	}
	c.gql("query { user { id "+strings.Repeat("nickname ", 3000)+"} }", nil, "").wantCode(t, 1002)
	// 300 same-named fields make 45,000 pairs for the overlap check.
	if msg := c.gql("query { user { "+strings.Repeat("id ", 300)+"} }", nil, "").wantCode(t, 1001); !strings.Contains(msg, "Overlap") {
		t.Errorf("overlap: %q", msg)
	}
	// Over the selection limit, and over the engine's own (set to the
	// same number), which answered 1000 and logged an ERROR before.
	var many strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&many, " a%d: id", i)
	}
	refused(t, c, "query { user {"+many.String()+" } }", "selections")
	if lines := in.Outbox.errorLines(); len(lines) > 0 {
		t.Errorf("client errors were logged as ERROR: %q", lines)
	}
}

// TestAuthingIntrospectionCache: the introspection queries the SDKs send
// are answered from a cache, byte for byte what running them answers, and
// cached answers are not counted by the GraphQL rate limit (which counts
// the documents run: the next test).
func TestAuthingIntrospectionCache(t *testing.T) {
	cfg := testConfig(sqliteURL(t))
	cfg.RateLimitGraphQL = config.Rate{Max: 4, Window: time.Minute}
	in := start(t, cfg, nil)
	c := in.authing(t)
	// A second server runs each document fresh, for comparison.
	fresh := start(t, testConfig(sqliteURL(t)), nil).authing(t)
	for _, file := range []string{"introspection_graphqlcore2.graphql", "introspection_graphqljs16.graphql"} {
		q, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, _, want := fresh.rawGQL(string(q), nil)
		if !strings.Contains(string(want), `"__schema"`) || strings.Contains(string(want), `"errors"`) {
			t.Fatalf("%s: %.300s", file, want)
		}
		if len(want) > gqlMaxAnswer/2 {
			t.Errorf("%s: the full introspection answer is %d bytes, near the answer limit", file, len(want))
		}
		for i := range 10 {
			st, _, got := c.rawGQL(string(q), nil)
			if st != 200 || !bytes.Equal(got, want) {
				t.Fatalf("%s, request %d: HTTP %d, %d bytes differ from the fresh answer's %d", file, i, st, len(got), len(want))
			}
		}
	}
	// With variables: the cache keys on them.
	doc := `query T($n: String!) { __type(name: $n) { name kind } }`
	for range 3 {
		for _, name := range []string{"User", "Query"} {
			st, _, got := c.rawGQL(doc, map[string]any{"n": name})
			if st != 200 || !strings.Contains(string(got), `"name":"`+name+`"`) {
				t.Fatalf("__type(%s): %s", name, got)
			}
		}
	}
	// 2 introspection documents and 2 variable sets were run: 4 counted,
	// 26 answered from the cache. The next document run is the 5th.
	a := c.gql(`{ __typename }`, nil, "")
	a.wantCode(t, 1005)
}

// TestAuthingGraphQLRateLimit: documents run are counted per client
// address; past the limit the answer is 1005 with data.retryAfter and a
// Retry-After header, with HTTP 200 as every error on this wire.
func TestAuthingGraphQLRateLimit(t *testing.T) {
	cfg := testConfig(sqliteURL(t))
	cfg.RateLimitGraphQL = config.Rate{Max: 3, Window: time.Minute}
	in := start(t, cfg, nil)
	c := in.authing(t)
	for i := range 3 {
		a := c.gql(`{ checkLoginStatus { code status } }`, nil, "")
		if a.Status != 200 || len(a.Errors) != 0 {
			t.Fatalf("document %d within the limit: %s", i+1, a.Raw)
		}
	}
	st, hdr, raw := c.rawGQL(`{ checkLoginStatus { code status } }`, nil)
	a := &gqlAnswer{Status: st, Raw: raw, Errors: decodeErrors(t, raw)}
	a.wantCode(t, 1005)
	if ra := hdr.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	var o struct {
		Data struct{ RetryAfter int }
	}
	if err := json.Unmarshal(a.Errors[0].Message, &o); err != nil || o.Data.RetryAfter < 1 || o.Data.RetryAfter > 60 {
		t.Errorf("data.retryAfter: %s", a.Raw)
	}
	// The end of the window frees the address.
	in.Clock.Advance(time.Minute)
	if a := c.gql(`{ checkLoginStatus { code status } }`, nil, ""); len(a.Errors) != 0 {
		t.Fatalf("after the window: %s", a.Raw)
	}
}

// TestAuthingGraphQLAnswerCap: a user's own large values, repeated by
// aliases past the answer limit, are refused whole rather than sent; the
// same values asked for a few times are served.
func TestAuthingGraphQLAnswerCap(t *testing.T) {
	ctx := context.Background()
	in := start(t, adminConfig(sqliteURL(t)), nil)
	pool := in.Srv.DefaultPoolID()
	c := in.authing(t)
	c.registerEmail("big@example.com", "passw0rd!", nil)
	var li authingUser
	c.loginEmail("big@example.com", "passw0rd!", "").field(t, "loginByEmail", &li)
	// 6 values of 15,000 bytes: 90 KB per customData.
	for i := range 6 {
		key := fmt.Sprintf("blob%d", i)
		must[*client.Field](t)(in.admin().DefineField(ctx, pool, client.DefineFieldRequest{Key: key, DataType: "OBJECT", Label: key, UserEditable: true}))
		v, _ := json.Marshal(map[string]string{"p": strings.Repeat("x", 15000-8)})
		if a := c.gql(docs["setUdv"], map[string]any{"targetType": "USER", "targetId": li.ID, "key": key, "value": string(v)}, *li.Token); len(a.Errors) > 0 {
			t.Fatalf("setUdv: %.300s", a.Raw)
		}
	}
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("query { user {")
		for i := range n {
			fmt.Fprintf(&b, " c%d: customData { key value }", i)
		}
		b.WriteString(" } }")
		return b.String()
	}
	// 40 copies, 3.6 MB: served.
	a := c.gql(aliases(40), nil, *li.Token)
	if a.Status != 200 || len(a.Errors) > 0 || len(a.Raw) < 40*90000 {
		t.Fatalf("40 copies: HTTP %d, %d bytes, %.300s", a.Status, len(a.Raw), a.Errors)
	}
	// 150 copies, 13.5 MB: refused, in a small answer.
	a = c.gql(aliases(150), nil, *li.Token)
	if msg := a.wantCode(t, 1001); !strings.Contains(msg, "larger than") || len(a.Raw) > 1024 || !strings.Contains(string(a.Raw), `"data":null`) {
		t.Fatalf("150 copies: %d bytes, %.300s", len(a.Raw), a.Raw)
	}
}
