package e2e

import (
	"strings"
	"testing"
)

// The engine (graph-gophers/graphql-go v1.11.0) ends a block string at the
// first """ even after a backslash; the GraphQL spec reads \""" as an
// escaped quote. A document built on that difference reads, to a reader
// that follows the spec, as one harmless field: everything between the
// first block string's \""" and the last one's """ is "string content",
// and what follows is a comment. The engine runs all of it.

// TestAuthingBlockStringIntrospectionTwice: two __schema hidden in such a
// document are seen and refused, not run (finding 1 of the review).
func TestAuthingBlockStringIntrospectionTwice(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, testConfig(dbURL), nil)
		c := in.authing(t)
		doc := "{ checkLoginStatus(token: \"\"\"a\\\"\"\") { code } " +
			"x1: __schema { types { name } } x2: __schema { types { name fields { name } } } " +
			"g: checkLoginStatus(token: \"\"\" #\"\"\"\n) { code } }"
		a := c.gql(doc, nil, "")
		if strings.Contains(string(a.Raw), `"x1"`) || strings.Contains(string(a.Raw), `"x2"`) {
			t.Fatalf("two __schema were run: %.300s", a.Raw)
		}
		refused(t, c, doc, "")
	})
}

// TestAuthingBlockStringCachedUser: a user's answer hidden in an
// "introspection-only" document run with their token is neither run as
// such nor kept in the introspection cache, where anyone sending the same
// text without a token (and without being counted) would read it.
func TestAuthingBlockStringCachedUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, testConfig(dbURL), nil)
		c := in.authing(t)
		c.registerEmail("victim@example.com", "passw0rd!", nil)
		var u authingUser
		c.loginEmail("victim@example.com", "passw0rd!", "").field(t, "loginByEmail", &u)
		token := deref(u.Token)
		if token == "" {
			t.Fatal("no token")
		}
		doc := "{ __type(name: \"\"\"a\\\"\"\") { name } u: user { id email } " +
			"g: __type(name: \"\"\" #\"\"\"\n) { name } }"
		victim := c.gql(doc, nil, token)
		if strings.Contains(string(victim.Raw), "victim@example.com") {
			t.Errorf("the hidden field was run: %.300s", victim.Raw)
		}
		for range 2 {
			a := c.gql(doc, nil, "")
			if strings.Contains(string(a.Raw), "victim@example.com") {
				t.Fatalf("a caller without a token read the victim's answer: %.300s", a.Raw)
			}
			if len(a.Errors) == 0 {
				t.Fatalf("the document was answered: %.300s", a.Raw)
			}
		}
	})
}

// TestAuthingGoEscapes: escapes GraphQL does not have but the engine's
// Go lexer reads (\700, \x41) made the engine panic on strconv.Unquote:
// HTTP 500 and code 1000 with an ERROR line. They are the client's error.
func TestAuthingGoEscapes(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)
	for _, doc := range []string{
		`"\7000"`,
		`"\700" query { user { id } }`,
		`{ user(id: "\700") { id } }`,
		`query ($a: String = "\700") { user(id: $a) { id } }`,
		`{ user(id: "\x41") { id } }`,
	} {
		c.gql(doc, nil, "").wantCode(t, 1001)
	}
	if lines := in.Outbox.errorLines(); len(lines) > 0 {
		t.Errorf("client errors were logged as ERROR: %q", lines)
	}
}
