package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testUser() *userpool.User {
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	return &userpool.User{
		ID: "u1", PoolID: "p1", Email: "ann@example.com",
		Profile:  userpool.Profile{Nickname: "Ann Smith", Company: "ACME"},
		SignedUp: t0, CreatedAt: t0, UpdatedAt: t0,
	}
}

func script(src string) *userpool.Pipeline {
	return &userpool.Pipeline{ID: "pl", PoolID: "p1", Stage: userpool.StagePostAuthentication, Kind: userpool.PipelineScript,
		Name: "test", Enabled: true, Script: src, Timeout: 5 * time.Second}
}

func input() Input {
	return Input{
		Stage: userpool.StagePostAuthentication, PoolID: "p1", User: testUser(),
		Request: Request{IP: "192.0.2.7", UserAgent: "test/1.0", Method: "email", Identifier: "ann@example.com"},
		Params:  map[string]any{"source": "mobile", "n": 3},
	}
}

func TestScriptOutcomes(t *testing.T) {
	t.Parallel()
	r := NewRunner(nil, Config{}, nil, nil)
	tests := []struct {
		name    string
		src     string
		in      func(*Input)
		outcome userpool.PipelineOutcome
		message string // substring
		changes map[string]string
		output  string // substring
	}{
		{name: "accept unchanged", src: `async function pipe(user, context, callback) { callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted},
		{name: "accept with a change", src: `async function pipe(user, context, callback) {
				user.nickname = user.nickname.toLowerCase(); callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"nickname": "ann smith"}},
		{name: "plain function", src: `function pipe(user, context, callback) { callback(null, Object.assign({}, user, {city: "Oslo"})) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"city": "Oslo"}},
		{name: "null clears a field", src: `async function pipe(user, context, callback) { user.company = null; callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"company": ""}},
		{name: "only profile fields change", src: `async function pipe(user, context, callback) {
				user.email = "x@evil.example"; user.emailVerified = true; user.loginsCount = 99; callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{}},
		{name: "callback without user", src: `async function pipe(user, context, callback) { callback(null) }`,
			outcome: userpool.PipelineAccepted},
		{name: "reject with an Error", src: `async function pipe(user, context, callback) {
				if (!user.emailVerified) return callback(new Error("Please verify your email first")); callback(null, user, context) }`,
			outcome: userpool.PipelineRejected, message: "Please verify your email first"},
		{name: "reject with a string", src: `async function pipe(user, context, callback) { callback("not today") }`,
			outcome: userpool.PipelineRejected, message: "not today"},
		{name: "await then callback", src: `async function pipe(user, context, callback) {
				const n = await Promise.resolve(2); await null; user.city = "c" + n; callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"city": "c2"}},
		{name: "then chain", src: `function pipe(user, context, callback) {
				Promise.resolve("x").then(v => { user.city = v; callback(null, user, context) }) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"city": "x"}},
		{name: "first callback wins", src: `async function pipe(user, context, callback) { callback(new Error("first")); callback(null, user) }`,
			outcome: userpool.PipelineRejected, message: "first"},
		{name: "throw after callback", src: `async function pipe(user, context, callback) { callback(null, user); throw new Error("later") }`,
			outcome: userpool.PipelineAccepted, output: "after callback"},
		{name: "throw", src: `async function pipe(user, context, callback) { throw new Error("boom") }`,
			outcome: userpool.PipelineFailed, message: "the pipeline threw: boom"},
		{name: "throw in a sync function", src: `function pipe(user, context, callback) { null.x }`,
			outcome: userpool.PipelineFailed, message: "the pipeline threw"},
		{name: "throw after await", src: `async function pipe(user, context, callback) { await null; throw new Error("late boom") }`,
			outcome: userpool.PipelineFailed, message: "late boom"},
		{name: "no callback", src: `async function pipe(user, context, callback) { return user }`,
			outcome: userpool.PipelineFailed, message: "without calling callback"},
		{name: "never settles", src: `async function pipe(user, context, callback) { await new Promise(() => {}) ; callback(null, user) }`,
			outcome: userpool.PipelineFailed, message: "never happens"},
		{name: "infinite loop", src: `async function pipe(user, context, callback) { while (true) {} }`,
			outcome: userpool.PipelineFailed, message: "time limit"},
		{name: "infinite loop after await", src: `async function pipe(user, context, callback) { await null; for (;;) {} }`,
			outcome: userpool.PipelineFailed, message: "time limit"},
		{name: "infinite loop catching everything", src: `async function pipe(user, context, callback) { for (;;) { try { while (true) {} } catch (e) {} } }`,
			outcome: userpool.PipelineFailed, message: "time limit"},
		{name: "infinite loop at top level", src: `while (true) {}`,
			outcome: userpool.PipelineFailed, message: "time limit"},
		{name: "infinite recursion", src: `function f() { return f() } async function pipe(user, context, callback) { f() }`,
			outcome: userpool.PipelineFailed, message: "recursed"},
		{name: "syntax error", src: `async function pipe(user, context, callback) { callback(null, user`,
			outcome: userpool.PipelineFailed, message: "does not compile"},
		{name: "no pipe", src: `function other(user, context, callback) { callback(null, user) }`,
			outcome: userpool.PipelineFailed, message: "does not define function pipe"},
		{name: "too large", src: "async function pipe(u, c, cb) { cb(null, u) }\n//" + strings.Repeat("x", MaxScriptBytes),
			outcome: userpool.PipelineFailed, message: "larger than"},
		{name: "non-string profile field", src: `async function pipe(user, context, callback) { user.nickname = 42; callback(null, user) }`,
			outcome: userpool.PipelineFailed, message: "nickname must be a string"},
		{name: "user not an object", src: `async function pipe(user, context, callback) { callback(null, "ann") }`,
			outcome: userpool.PipelineFailed, message: "not an object"},
		{name: "cyclic user", src: `async function pipe(user, context, callback) { user.self = user; callback(null, user) }`,
			outcome: userpool.PipelineFailed, message: "cannot be read"},
		{name: "console captured", src: `async function pipe(user, context, callback) {
				console.log("hello", user.email, {a: 1}); console.error("bad", 2); callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, output: "hello ann@example.com {\"a\":1}\nERROR bad 2\n"},
		{name: "console bounded", src: `async function pipe(user, context, callback) {
				for (let i = 0; i < 10000; i++) console.log("line " + i); callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, output: "(output truncated)"},
		{name: "context", src: `async function pipe(user, context, callback) {
				const r = context.request;
				user.company = [context.stage, context.params.source, context.params.n, r.ip, r.userAgent, r.userPoolId, r.method, r.identifier].join("|");
				callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"company": "post-authentication|mobile|3|192.0.2.7|test/1.0|p1|email|ann@example.com"}},
		{name: "sandbox has no way out", src: `async function pipe(user, context, callback) {
				const names = ["require", "process", "fetch", "XMLHttpRequest", "setTimeout", "http", "module", "Deno"];
				user.company = names.filter(n => typeof globalThis[n] !== "undefined").join(",") || "none";
				callback(null, user, context) }`,
			outcome: userpool.PipelineAccepted, changes: map[string]string{"company": "none"}},
		{name: "env", src: `async function pipe(user, context, callback) {
				env.REGION = "changed"; user.locale = env.REGION; callback(null, user, context) }`,
			in: func(in *Input) {}, outcome: userpool.PipelineAccepted, changes: map[string]string{"locale": "eu-west"}},
		{name: "no user at pre-authentication", src: `async function pipe(user, context, callback) {
				if (user !== null) throw new Error("user is " + typeof user); callback(null, user, context) }`,
			in: func(in *Input) { in.Stage, in.User = userpool.StagePreAuthentication, nil }, outcome: userpool.PipelineAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := input()
			if tc.in != nil {
				tc.in(&in)
			}
			p := script(tc.src)
			if strings.Contains(tc.message, "time limit") {
				// Only the cases about the limit run into it; the others
				// keep script's room for a loaded machine (the table runs
				// in parallel).
				p.Timeout = 200 * time.Millisecond
			}
			p.Env = map[string]string{"REGION": "eu-west"}
			tr := r.Try(context.Background(), p, in)
			if tr.Outcome != tc.outcome || !strings.Contains(tr.Message, tc.message) {
				t.Fatalf("outcome %s %q, want %s containing %q (output %q)", tr.Outcome, tr.Message, tc.outcome, tc.message, tr.Output)
			}
			if tc.changes != nil && !equalMaps(tr.Changes, tc.changes) {
				t.Errorf("changes %v, want %v", tr.Changes, tc.changes)
			}
			if tc.changes == nil && len(tr.Changes) != 0 {
				t.Errorf("changes %v, want none", tr.Changes)
			}
			if !strings.Contains(tr.Output, tc.output) {
				t.Errorf("output %q, want it to contain %q", tr.Output, tc.output)
			}
			if len(tr.Output) > maxOutput+64 {
				t.Errorf("output of %d bytes exceeds the bound", len(tr.Output))
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestScriptCancelled: a request that ends stops its pipeline.
func TestScriptCancelled(t *testing.T) {
	t.Parallel()
	r := NewRunner(nil, Config{}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	p := script(`async function pipe(user, context, callback) { console.log("started"); while (true) {} }`)
	p.Timeout = MaxTimeout
	done := make(chan Trial, 1)
	go func() { done <- r.Try(ctx, p, input()) }()
	cancel()
	tr := <-done
	if tr.Outcome != userpool.PipelineFailed {
		t.Fatalf("cancelled run: %s %q", tr.Outcome, tr.Message)
	}
}

// TestScriptConcurrencyBound: with every slot taken by a looping script,
// another run waits at most its own time limit and then fails closed.
func TestScriptConcurrencyBound(t *testing.T) {
	t.Parallel()
	r := NewRunner(nil, Config{Concurrency: 1}, nil, nil)
	loop := script(`async function pipe(user, context, callback) { while (true) {} }`)
	loop.Timeout = 2 * time.Second
	r.slots.acquire(context.Background(), "p1", time.Now().Add(time.Second)) // a run holds the only slot
	quick := script(`async function pipe(user, context, callback) { callback(null, user) }`)
	quick.Timeout = 50 * time.Millisecond
	tr := r.Try(context.Background(), quick, input())
	if tr.Outcome != userpool.PipelineFailed || !tr.Busy || !strings.Contains(tr.Message, "too many pipelines") {
		t.Fatalf("run without a slot: %s %q", tr.Outcome, tr.Message)
	}
	r.slots.done("p1")
	quick.Timeout = 5 * time.Second // room for a cold worker on a loaded machine
	if tr := r.Try(context.Background(), quick, input()); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("run with a free slot: %s %q", tr.Outcome, tr.Message)
	}
}
