package authingcompat

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/introspection"
	"github.com/graph-gophers/graphql-go/trace/tracer"
)

// The reader of document.go and the engine must see the same document:
// what the reader measures is what the engine runs. These tests run
// documents on the engine itself, over a small schema of the same kinds
// (a query and a mutation type, objects, no lists, arguments of every
// kind), and compare what it resolved with what the reader counted.

const shapeSDL = `
schema { query: Query mutation: Mutation }
type Query {
  user(id: String): User
  checkLoginStatus(token: String): Status
  n(i: Int, f: Float, b: Boolean, l: [String], o: In, e: E, s: String): Int
}
type Mutation { login(token: String): User }
type User { id: String email: String friend: User }
type Status { code: Int }
input In { a: String b: [In] }
enum E { A B }
`

type shapeRoot struct{}
type shapeUser struct{}
type shapeStatus struct{}
type shapeIn struct {
	A *string
	B *[]*shapeIn
}

func (shapeRoot) User(struct{ ID *string }) *shapeUser                  { return &shapeUser{} }
func (shapeRoot) CheckLoginStatus(struct{ Token *string }) *shapeStatus { return &shapeStatus{} }
func (shapeRoot) Login(struct{ Token *string }) *shapeUser              { return &shapeUser{} }
func (shapeRoot) N(struct {
	I *int32
	F *float64
	B *bool
	L *[]*string
	O *shapeIn
	E *string
	S *string
}) *int32 {
	return nil
}
func (shapeUser) ID() *string        { s := "u"; return &s }
func (shapeUser) Email() *string     { s := "e"; return &s }
func (shapeUser) Friend() *shapeUser { return &shapeUser{} }
func (shapeStatus) Code() *int32     { return nil }

// shapeTracer is fieldBudget, which also records in the request's
// shapeRun the root fields the engine resolved and the fields outside
// introspection.
type shapeTracer struct{ fieldBudget }

type shapeRun struct {
	mu       sync.Mutex
	roots    map[string]bool
	business int
}

type shapeRunKey struct{}

func (tr shapeTracer) TraceField(ctx context.Context, label, typeName, fieldName string, trivial bool, args map[string]any) (context.Context, tracer.FieldFinishFunc) {
	if run, ok := ctx.Value(shapeRunKey{}).(*shapeRun); ok {
		run.mu.Lock()
		if typeName == "Query" || typeName == "Mutation" || typeName == "" {
			run.roots[fieldName] = true
		}
		if !strings.HasPrefix(typeName, "__") && !strings.HasPrefix(fieldName, "__") {
			run.business++
		}
		run.mu.Unlock()
	}
	return tr.fieldBudget.TraceField(ctx, label, typeName, fieldName, trivial, args)
}

func (tr shapeTracer) TraceQuery(ctx context.Context, q, op string, vars map[string]any, types map[string]*introspection.Type) (context.Context, tracer.QueryFinishFunc) {
	return tr.fieldBudget.TraceQuery(ctx, q, op, vars, types)
}

func shapeSchema(tb testing.TB) *graphql.Schema {
	tb.Helper()
	s, err := graphql.ParseSchema(shapeSDL, &shapeRoot{}, graphql.Tracer(shapeTracer{}), graphql.UseStringDescriptions())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// rootNames are the root fields of an operation as the reader sees them,
// through fragments and inline fragments.
func (d *document) rootNames(sels []selection, out map[string]bool, active map[string]bool) {
	for _, s := range sels {
		switch {
		case s.spread != "":
			if frag, ok := d.frags[s.spread]; ok && !active[s.spread] {
				active[s.spread] = true
				d.rootNames(frag, out, active)
				delete(active, s.spread)
			}
		case s.name == "":
			d.rootNames(s.sels, out, active)
		default:
			out[s.name] = true
		}
	}
}

// checkShape runs doc on the engine when the engine accepts it, and fails
// t unless the reader refuses it or saw at least what the engine ran: its
// root fields, its introspection fields, its fields outside introspection;
// and nothing but introspection when it said so.
func checkShape(t *testing.T, s *graphql.Schema, doc string) {
	if len(doc) > maxQueryBytes {
		return
	}
	if errs, ok := validate(s, doc); !ok || len(errs) > 0 {
		return
	}
	d, err := parseDocument(doc)
	if err != nil {
		return // refused: limits.go answers 1001 for a document the engine accepts
	}
	cost := d.measure(maxSelections)
	if cost.selections > maxSelections || cost.introspection > maxIntrospection {
		return // refused before it runs
	}
	run := &shapeRun{roots: map[string]bool{}}
	c := &call{}
	ctx := context.WithValue(context.WithValue(context.Background(), callKey{}, c), shapeRunKey{}, run)
	resp := s.Exec(ctx, doc, "", nil)
	if len(d.ops) != 1 {
		return // the engine runs none without an operation name
	}
	ours := map[string]bool{}
	d.rootNames(d.ops[0], ours, map[string]bool{})
	for name := range run.roots {
		if !ours[name] {
			t.Errorf("%q: the engine ran the root field %s, the reader saw %v", doc, name, ours)
		}
	}
	if n := int(c.introspected.Load()); n > cost.introspection {
		t.Errorf("%q: the engine ran %d introspection fields, the reader counted %d", doc, n, cost.introspection)
	}
	if run.business > cost.selections {
		t.Errorf("%q: the engine resolved %d fields, the reader counted %d selections", doc, run.business, cost.selections)
	}
	if cost.introspectionOnly && run.business > 0 {
		t.Errorf("%q: read as introspection only, the engine resolved %d other fields", doc, run.business)
	}
	if c.cacheable(resp.Data) && run.business > 0 {
		t.Errorf("%q: an answer with %d fields outside introspection is cacheable", doc, run.business)
	}
}

// shapeSeeds are documents where readers of GraphQL tend to differ:
// block strings (the attacks of the review's finding 1 among them),
// escapes, comments in and out of strings, fragments, directives.
var shapeSeeds = []string{
	// The attacks: the spec reads \""" as an escape, the engine ends the
	// block string there.
	"{ checkLoginStatus(token: \"\"\"a\\\"\"\") { code } x1: __schema { types { name } } x2: __schema { types { name } } g: checkLoginStatus(token: \"\"\" #\"\"\"\n) { code } }",
	"{ __type(name: \"\"\"a\\\"\"\") { name } u: user { id email } g: __type(name: \"\"\" #\"\"\"\n) { name } }",
	"{ __type(name: \"\"\"a\\\\\"\"\") { name } u: user { id } g: __type(name: \"\"\" #\"\"\"\n) { name } }",
	"{ __type(name: \"\"\"\\u{41}\\\"\"\") { name } u: user { id } g: __type(name: \"\"\" #\"\"\"\n) { name } }",
	"{ __type(name: \"a\\\"\") { name } }",
	"{ __type(name: \"\"\"a\"\"\"\") { name } }",
	"{ __type(name: \"\"\"\"\"\") { name } }",
	"{ __type(name: \"\"\"a \" \"\" # b\"\"\") { name } }",
	"{ __type(name: \"# not a comment\") { name } user { id } }",
	"{ __type(name: \"\\u{1F600}\\\"\") { name } user { id } }",
	"{ __typename # \"\"\" user { id }\n}",
	"{ n(s: \"\\\\\", i: -1, f: 1.5e3, b: true, l: [\"a\" \"b\"], o: {a: \"x\", b: [{a: \"y\"}]}, e: A) }",
	"query Q($t: String = \"\"\"x\"\"\") { checkLoginStatus(token: $t) { code } }",
	"mutation { login(token: \"\"\"t\"\"\") { id friend { id } } }",
	"{ ...F } fragment F on Query { __schema { queryType { name } } }",
	"{ ... on Query { user { id } } __typename }",
	"{ user @skip(if: true) { id } __type(name: \"User\") { name } }",
	"{ __schema { types { name } } }",
	"{ a: user { id } b: user { email } }",
	// Go's escapes, which the engine's text/scanner reads and
	// strconv.Unquote may refuse with a panic.
	"\"\\7000\"",
	"{ n(s: \"\\700\") }",
	"{ n(s: \"\\x41\\101\\U00000041\\a\") }",
}

// TestDocumentShape runs the seeds: each one the engine accepts, the
// reader refuses or sees as the engine runs it.
func TestDocumentShape(t *testing.T) {
	s := shapeSchema(t)
	accepted := 0
	for _, doc := range shapeSeeds {
		if errs, ok := validate(s, doc); ok && len(errs) == 0 {
			accepted++
		}
		checkShape(t, s, doc)
	}
	if accepted < len(shapeSeeds)*3/4 {
		t.Fatalf("the engine accepts only %d of %d seeds: they test little", accepted, len(shapeSeeds))
	}
	// The attacks are accepted by the engine and refused by the reader.
	for _, doc := range shapeSeeds[:4] {
		if errs := s.Validate(doc); len(errs) > 0 {
			t.Errorf("%q: the engine refuses it: %v", doc, errs)
		}
		if _, err := parseDocument(doc); err == nil {
			t.Errorf("%q: read", doc)
		}
	}
}

// FuzzDocumentShape: for any document the engine accepts, the reader
// refuses it or sees what the engine runs (checkShape). Run with
// go test -run '^$' -fuzz FuzzDocumentShape ./internal/authingcompat
func FuzzDocumentShape(f *testing.F) {
	for _, doc := range shapeSeeds {
		f.Add(doc)
	}
	s := shapeSchema(f)
	f.Fuzz(func(t *testing.T, doc string) {
		checkShape(t, s, doc)
	})
}

// TestAnswerCacheable: an answer is kept only when the engine resolved
// nothing but introspection and its data holds nothing else, whatever
// the reader saw.
func TestAnswerCacheable(t *testing.T) {
	trace := func(c *call, typeName, fieldName string) {
		ctx := context.WithValue(context.Background(), callKey{}, c)
		_, finish := fieldBudget{}.TraceField(ctx, "", typeName, fieldName, true, nil)
		finish(nil)
	}
	intro := json.RawMessage(`{"__schema":{"queryType":{"name":"Query"}},"__typename":"Query"}`)
	c := &call{}
	trace(c, "", "__schema")
	trace(c, "__Schema", "queryType")
	trace(c, "__Type", "name")
	if !c.cacheable(intro) {
		t.Error("an introspection answer is not cacheable")
	}
	// The engine resolved a business field.
	c = &call{}
	trace(c, "", "__type")
	trace(c, "Query", "user")
	trace(c, "User", "email")
	if c.cacheable(json.RawMessage(`{"__type":null}`)) {
		t.Error("cacheable after the engine resolved Query.user")
	}
	// A root key that is not introspection, or no data.
	for _, data := range []string{`{"__type":null,"u":{"id":"x"}}`, `{}`, `null`, ``} {
		if (&call{}).cacheable(json.RawMessage(data)) {
			t.Errorf("%s is cacheable", data)
		}
	}
	// Introspection twice, whatever the reader counted, stops the request.
	c = &call{}
	trace(c, "", "__schema")
	trace(c, "", "__type")
	if !c.introspectedTwice.Load() || c.cacheable(intro) {
		t.Error("a second introspection field was not noticed")
	}
}
