package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/userpool"
)

// TestHostileOutcomesFailClosed: whatever a script hands back, a refusal
// whose message cannot be read still refuses (1020 with a generic message)
// and any failure in reading the outcome is a failure (1021); nothing of it
// is ever an acceptance.
func TestHostileOutcomesFailClosed(t *testing.T) {
	t.Parallel()
	r := NewRunner(nil, Config{}, nil, nil)
	const loopingGetter = `Object.defineProperty(e, "message", {get() { while (true) {} }})`
	tests := []struct {
		name string
		body string // the body of pipe(user, context, callback)
		// params are the client's context option.
		params map[string]any
		want   []userpool.PipelineOutcome
	}{
		{name: "client context with an unreadable toString", params: map[string]any{"reason": map[string]any{"toString": 1}},
			body: `callback(context.params.reason || "registration closed")`, want: refused},
		{name: "toString that is not a function", body: `callback({toString: 1})`, want: refused},
		{name: "object without a prototype", body: `callback(Object.create(null))`, want: refused},
		{name: "proxy whose get throws", body: `callback(new Proxy({}, {get() { throw 1 }}))`, want: refused},
		{name: "proxy whose every trap throws", body: `callback(new Proxy({}, {get() { throw 1 }, has() { throw 1 }, getPrototypeOf() { throw 1 }, ownKeys() { throw 1 }}))`, want: refused},
		{name: "Error whose message getter throws", body: `var e = new Error("x"); Object.defineProperty(e, "message", {get() { throw new Error("no") }}); callback(e)`, want: refused},
		{name: "Error whose message getter loops", body: `var e = new Error("x"); ` + loopingGetter + `; callback(e)`, want: refused},
		{name: "message that is an unreadable object", body: `callback({message: {toString: 1}})`, want: refused},
		{name: "toString that returns an object", body: `callback({toString() { return {} }})`, want: refused},
		{name: "toString that loops", body: `callback({toString() { while (true) {} }})`, want: refused},
		{name: "symbol", body: `callback(Symbol("s"))`, want: refused},
		{name: "callback caught and accepted again", body: `try { callback({toString: 1}) } catch (e) {} callback(null, user)`, want: refused},
		{name: "thrown unreadable value", body: `throw {toString: 1}`, want: failed},
		{name: "thrown object without prototype", body: `throw Object.create(null)`, want: failed},
		{name: "thrown throwing proxy", body: `throw new Proxy({}, {get() { throw 1 }})`, want: failed},
		{name: "thrown Error with a looping message", body: `var e = new Error("x"); ` + loopingGetter + `; throw e`, want: failed},
		{name: "rejected promise with an unreadable value", body: `await Promise.reject({toString: 1})`, want: failed},
		{name: "rejected promise with a looping message", body: `var e = new Error("x"); ` + loopingGetter + `; await Promise.reject(e)`, want: failed},
		{name: "user whose getter throws", body: `callback(null, {get nickname() { throw 1 }})`, want: failed},
		{name: "user that is a throwing proxy", body: `callback(null, new Proxy(user, {get() { throw 1 }}))`, want: failed},
		{name: "user whose toJSON loops", body: `callback(null, {toJSON() { while (true) {} }})`, want: failed},
		{name: "user whose field is unreadable", body: `user.nickname = {toString: 1}; callback(null, user)`, want: failed},
		{name: "customData that is not an object", body: `user.customData = [1]; callback(null, user)`, want: failed},
		{name: "returned value with a throwing getter", body: `callback({toString: 1}); return new Proxy({}, {get() { throw 1 }})`, want: refused},
		{name: "console of hostile values, then a refusal", body: `console.log({toString: 1}, new Proxy({}, {get() { throw 1 }}), Object.create(null)); callback(new Error("no"))`, want: refused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := script("async function pipe(user, context, callback) {\n" + tc.body + "\n}")
			p.Timeout = 500 * time.Millisecond
			in := input()
			if tc.params != nil {
				in.Params = tc.params
			}
			tr := r.Try(context.Background(), p, in)
			if !contains(tc.want, tr.Outcome) {
				t.Fatalf("outcome %q (%q), want one of %v", tr.Outcome, tr.Message, tc.want)
			}
			if tr.Message == "" || !utf8.ValidString(tr.Message) || len(tr.Message) > maxMessage {
				t.Fatalf("message %q", tr.Message)
			}
			if tr.Changes != nil || tr.Data != nil {
				t.Fatalf("a refused run carries changes: %v %v", tr.Changes, tr.Data)
			}
		})
	}
}

var (
	refused = []userpool.PipelineOutcome{userpool.PipelineRejected, userpool.PipelineFailed}
	failed  = []userpool.PipelineOutcome{userpool.PipelineFailed}
)

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestHostileHTTPAnswersFailClosed: an HTTP stage's answer that says
// "error" in any form refuses, and one that is not exactly one answer
// fails.
func TestHostileHTTPAnswersFailClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want []userpool.PipelineOutcome
	}{
		{`{"error": ""}`, refused},
		{`{"error": "no"}`, refused},
		{`{"error": 5}`, failed},
		{`{"error": {"toString": 1}}`, failed},
		{`{"user": {}, "error": ""}`, refused},
		{`{} {"error": "no"}`, failed},
		{`{"user": {}} trailing`, failed},
		{`[]`, failed},
		{`"ok"`, failed},
		// A repeated member is read last-wins by encoding/json (and
		// case-insensitively), so it could turn a refusal into silence.
		{`{"error": "registration closed", "error": null}`, failed},
		{`{"error": "registration closed", "Error": null}`, failed},
		{`{"error": null, "error": "no"}`, failed},
		{`{"user": {"nickname": "a"}, "user": null}`, failed},
		{`{"user": {}, "USER": {}}`, failed},
		{`{"user": {"nickname": "a"}, "uſer": null}`, failed}, // "ſ" folds with "s"
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			r := NewRunner(nil, Config{}, nil, nil)
			p := &userpool.Pipeline{ID: "h", PoolID: "p1", Stage: userpool.StagePostAuthentication, Kind: userpool.PipelineHTTP,
				Enabled: true, URL: srv.URL, Secret: NewSecret(), Timeout: 2 * time.Second}
			tr := r.Try(context.Background(), p, input())
			if !contains(tc.want, tr.Outcome) {
				t.Fatalf("outcome %q (%q), want one of %v", tr.Outcome, tr.Message, tc.want)
			}
			if tr.Message == "" {
				t.Fatal("a refusal without a message")
			}
		})
	}
}

// TestClipWithinBound: a message is cut to at most maxMessage bytes,
// ellipsis included, never inside a character.
func TestClipWithinBound(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		strings.Repeat("a", 511), strings.Repeat("a", 512), strings.Repeat("a", 513), strings.Repeat("a", 5000),
		strings.Repeat("a", 510) + "é", strings.Repeat("a", 511) + "é", strings.Repeat("a", 508) + "€€",
		strings.Repeat("a", 509) + "😀", strings.Repeat("a", 507) + "😀😀", strings.Repeat("€", 200),
	} {
		got := clip(s, maxMessage)
		if len(got) > maxMessage || !utf8.ValidString(got) {
			t.Errorf("clip of %d bytes: %d bytes, valid %v", len(s), len(got), utf8.ValidString(got))
		}
		if len(s) <= maxMessage && got != s {
			t.Errorf("a message of %d bytes was changed", len(s))
		}
		if len(s) > maxMessage && (!strings.HasSuffix(got, "…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) || len(got) < maxMessage-6) {
			t.Errorf("clip of %d bytes: %q", len(s), got[max(0, len(got)-12):])
		}
	}
	// Through a run: the refusal of a script with a long message.
	r := NewRunner(nil, Config{}, nil, nil)
	for _, n := range []int{511, 512, 513} {
		tr := r.Try(context.Background(), script(`async function pipe(user, context, callback) { callback(new Error("x".repeat(`+itoa(n)+`))) }`), input())
		if tr.Outcome != userpool.PipelineRejected || len(tr.Message) > maxMessage || (n <= maxMessage && len(tr.Message) != n) {
			t.Errorf("message of %d: %s, %d bytes", n, tr.Outcome, len(tr.Message))
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
