package authingcompat

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/authpool/authpool/internal/userpool"
)

// TestMeasure counts selections as the engine expands them, and
// introspection fields wherever they hide.
func TestMeasure(t *testing.T) {
	for _, tc := range []struct {
		doc           string
		sels, intro   int
		introspection bool
	}{
		{`{ user { id } }`, 2, 0, false},
		{`{ a: user { id } b: user { id nickname } }`, 5, 0, false},
		{`{ __typename }`, 1, 0, true},
		{`{ __schema { types { name } } }`, 3, 1, true},
		{`{ a: __schema { queryType { name } } b: __schema { queryType { name } } }`, 6, 2, true},
		{`{ __type(name: "User") { name } user { id } }`, 4, 1, false},
		// A spread counts, and so does each copy of what it expands to.
		{`{ user { ...U ...U } } fragment U on User { id nickname }`, 7, 0, false},
		{`query { ...Q } fragment Q on Query { __schema { queryType { name } } }`, 4, 1, true},
		{`{ ... on Query { __schema { queryType { name } } } }`, 4, 1, true},
		{`{ ... @include(if: true) { user { id } } }`, 3, 0, false},
		// A cycle is not followed (the engine refuses it).
		{`{ user { ...A } } fragment A on User { id ...B } fragment B on User { ...A }`, 5, 0, false},
		// The largest operation of the document.
		{`query A { user { id } } query B { __schema { queryType { name } } }`, 3, 1, false},
	} {
		d, err := parseDocument(tc.doc)
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		c := d.measure(maxSelections)
		if c.selections != tc.sels || c.introspection != tc.intro || c.introspectionOnly != tc.introspection {
			t.Errorf("%s: %+v, want %d selections, %d introspection, introspection only %v", tc.doc, c, tc.sels, tc.intro, tc.introspection)
		}
	}
}

// TestMeasureStopsAtTheLimit: a chain of fragments doubling at each step
// expands to 2^40 fields; counting stops just past the limit.
func TestMeasureStopsAtTheLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ user { ...F0 } }")
	for i := range 40 {
		fmt.Fprintf(&b, " fragment F%d on User { ...F%d ...F%d }", i, i+1, i+1)
	}
	b.WriteString(" fragment F40 on User { id }")
	d, err := parseDocument(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if c := d.measure(maxSelections); c.selections != maxSelections+1 {
		t.Fatalf("counted %d, want the limit + 1", c.selections)
	}
}

// TestParseDocument reads the whole executable grammar, and refuses what
// is not a document; the engine agrees on each.
func TestParseDocument(t *testing.T) {
	s := schemaForTest(t)
	good := []string{
		"{ user { id } }",
		"\uFEFF# comment\n query Q($a: String = \"x\", $c: Boolean = true) { user(id: $a) @skip(if: $c) { id } udv(targetType: USER, targetId: \"x\") @include(if: false) { key } t: __typename @skip(if: false) }",
		`mutation { loginByEmail(input: {email: "a\"b\\", password: """block "" string""", params: null, autoRegister: true, clientIp: "x"}) { id } }`,
		`query { udv(targetType: USER, targetId: "x") { key value } }`,
		"{ user { ... on User { id } ... @include(if: true) { nickname } ...F } } fragment F on User { email }",
		"{ user { id } , }",
		`mutation { registerByEmail(input: {email: "x", password: "y", profile: {udf: [{key: "a", value: "1"} {key: "b", value: "2"}]}}) { id } }`,
		"query { __type(name: \"User\") { fields { name } } }",
	}
	for _, doc := range good {
		if _, err := parseDocument(doc); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
		if errs := s.Validate(doc); len(errs) > 0 {
			t.Errorf("the engine refuses %q: %v", doc, errs)
		}
	}
	// Read here though the engine refuses it (a Float for a String):
	// harmless, as the engine then refuses the document before running it.
	for _, doc := range []string{
		`{ user(id: 1.5e-3) { id } }`,
	} {
		if _, err := parseDocument(doc); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
	bad := []string{
		"", "   ", "{ }", "{ user { id }", "user { id }", "{ user(id: ) { id } }", "{ user() { id } }",
		"query Q() { user { id } }", `{ user(id: "unterminated) { id } }`, "{ user(id: \"\"\"x) { id } }",
		"{ user { ..F } }", "{ user { id } } fragment on on User { id }", "{ user { id } } fragment F on User { id } fragment F on User { id }",
		"{ 1user { id } }", "{ user(id: 1.) { id } }", "{ user(id: 12abc) { id } }", "{ user(id: [) { id } }",
		"type T { a: Int }", "{ user(id: \"a\nb\") { id } }",
		// A block string ending in \""": the spec reads on past it, the
		// engine ends the string there (and runs what follows as
		// selections); refused, as is one left open, which the engine reads
		// to the end of the document.
		`{ user(id: """escaped \""" quotes""") { id } }`, `{ user(id: """a\\""") { id } }`,
		`{ user(id: """open) { id } }`, "{ user(id: \"a\\\nb\") { id } }",
		`{ user(id: "\700") { id } }`, `{ user(id: "\x41") { id } }`, `{ user(id: "\U00000041") { id } }`,
		"{ user { " + strings.Repeat("... on User { ", maxNesting) + "id" + strings.Repeat(" }", maxNesting) + " } }",
	}
	for _, doc := range bad {
		if _, err := parseDocument(doc); !errors.Is(err, errSyntax) {
			t.Errorf("%q was read: %v", doc, err)
		}
	}
}

// TestQueryErrorCodes: every limit of the engine is the client's error
// (1001 or 1002), never 1000.
func TestQueryErrorCodes(t *testing.T) {
	for _, qe := range []*gqlerrors.QueryError{
		{Message: "query expands to too many selections", Err: graphql.ErrTooManySelections},
		{Message: "Field \"x\" has depth 16 that exceeds max depth 15", Rule: "MaxDepthExceeded"},
		{Message: "Overlapping field validation aborted", Rule: "OverlapValidationLimitExceeded"},
		{Message: "query length 20000 exceeds the maximum allowed query length of 16384 bytes"},
		{Message: "syntax error", Err: gqlerrors.ErrSyntax},
		{Message: errUnreadable.Message, Err: errUnreadable},
	} {
		if c := userpool.AsError(queryError(qe)).Code; c != userpool.CodeBadRequest {
			t.Errorf("%q: code %d, want 1001", qe.Message, c)
		}
	}
}

// TestAnswerCache keeps the most recently used answers and keys on the
// document, the operation name and the variables.
func TestAnswerCache(t *testing.T) {
	c := newAnswerCache(2)
	k := func(q, op string, vars map[string]any) [32]byte {
		key, ok := cacheKey(&gqlRequest{Query: q, OperationName: op, Variables: vars})
		if !ok {
			t.Fatal("not cacheable")
		}
		return key
	}
	a, b, d := k("{ a }", "", nil), k("{ a }", "A", nil), k("{ a }", "", map[string]any{"x": 1})
	if a == b || a == d || b == d {
		t.Fatal("distinct requests share a key")
	}
	if k("{ a }", "", map[string]any{}) != a {
		t.Error("no variables and empty variables differ")
	}
	if k("q", "", map[string]any{"a": 1, "b": 2}) != k("q", "", map[string]any{"b": 2, "a": 1}) {
		t.Error("variables key depends on order")
	}
	c.put(a, []byte("A"))
	c.put(b, []byte("B"))
	if v, ok := c.get(a); !ok || string(v) != "A" { // a is now the most recent
		t.Fatal("a lost")
	}
	c.put(d, []byte("D")) // b goes
	if _, ok := c.get(b); ok {
		t.Error("the least recently used entry was kept")
	}
	if _, ok := c.get(a); !ok {
		t.Error("a recently used entry was dropped")
	}
}

func schemaForTest(t *testing.T) *graphql.Schema {
	t.Helper()
	s, err := graphql.ParseSchema(schemaSDL, nil, graphql.UseStringDescriptions())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
