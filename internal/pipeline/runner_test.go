package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// TestRunRecords runs a stage's pipelines over a real store: in order,
// each seeing the changes before it; disabled ones skipped; a refusal stops
// the flow with its code and lands in the pipeline's log and the audit log.
func TestRunRecords(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CreatePool(ctx, &userpool.Pool{ID: "p1", Name: "p1"}); err != nil {
				t.Fatal(err)
			}
			add := func(id string, order int, enabled bool, src string) {
				p := script(src)
				p.ID, p.Order, p.Enabled, p.Name = id, order, enabled, id
				if err := Validate(p); err != nil {
					t.Fatalf("Validate %s: %v", id, err)
				}
				if err := st.CreatePipeline(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			add("lower", 0, true, `async function pipe(user, context, callback) {
				user.nickname = user.nickname.toLowerCase(); console.log("lowered"); callback(null, user, context) }`)
			add("off", 1, false, `async function pipe(user, context, callback) { callback(new Error("disabled pipelines do not run")) }`)
			add("suffix", 2, true, `async function pipe(user, context, callback) {
				user.nickname = user.nickname + "!"; callback(null, user, context) }`)
			r := NewRunner(st, Config{LogKeep: 10}, nil, nil)
			res, err := r.Run(ctx, input())
			if err != nil {
				t.Fatal(err)
			}
			if !equalMaps(res.Changes, map[string]string{"nickname": "ann smith!"}) {
				t.Fatalf("changes %v", res.Changes)
			}
			logs, _ := st.ListPipelineLogs(ctx, "p1", "lower", 0)
			if len(logs) != 1 || logs[0].Output != "lowered\n" || logs[0].Outcome != userpool.PipelineAccepted {
				t.Fatalf("log of a run that printed: %+v", logs)
			}
			if logs, _ := st.ListPipelineLogs(ctx, "p1", "suffix", 0); len(logs) != 0 {
				t.Fatalf("a silent accepted run was logged: %+v", logs)
			}

			// Check refuses what the pipelines produced: that is the
			// pipeline's failure.
			in := input()
			in.Check = func(ch map[string]string) error {
				if len(ch["nickname"]) > 9 {
					return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_profile", "nickname must be at most 9 characters")
				}
				return nil
			}
			_, err = r.Run(ctx, in)
			if e := userpool.AsError(err); e.Code != userpool.CodePipelineFailed || e.Data["pipelineId"] != "suffix" {
				t.Fatalf("invalid change: %v", err)
			}
			logs, _ = st.ListPipelineLogs(ctx, "p1", "suffix", 0)
			if len(logs) != 1 || logs[0].Outcome != userpool.PipelineFailed || !strings.Contains(logs[0].Message, "at most 9") {
				t.Fatalf("failure log: %+v", logs)
			}

			add("gate", 3, true, `async function pipe(user, context, callback) {
				if (!user.emailVerified) return callback(new Error("Please verify your email")); callback(null, user, context) }`)
			_, err = r.Run(ctx, input())
			var e *userpool.Error
			if !errors.As(err, &e) || e.Code != userpool.CodePipelineRejected || e.Message != "Please verify your email" || e.Data["stage"] != "post-authentication" {
				t.Fatalf("rejection: %v", err)
			}
			audit, _ := st.ListAudit(ctx, userpool.AuditFilter{PoolID: "p1", Event: "pipeline.rejected"})
			if len(audit) != 1 || audit[0].UserID != "u1" || audit[0].Detail["pipelineId"] != "gate" || audit[0].ClientIP != "192.0.2.7" {
				t.Fatalf("audit of the rejection: %+v", audit)
			}
			if audit, _ := st.ListAudit(ctx, userpool.AuditFilter{PoolID: "p1", Event: "pipeline.failed"}); len(audit) != 1 {
				t.Fatalf("audit of the failure: %d events", len(audit))
			}

			// Other stages are untouched by these pipelines.
			in = input()
			in.Stage = userpool.StagePreRegister
			if res, err := r.Run(ctx, in); err != nil || len(res.Changes) != 0 {
				t.Fatalf("another stage: %v %v", res, err)
			}

			// The log stays bounded.
			for range 15 {
				_, _ = r.Run(ctx, input())
			}
			if logs, _ := st.ListPipelineLogs(ctx, "p1", "gate", 0); len(logs) != 10 {
				t.Fatalf("%d logs kept, want 10", len(logs))
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := func() *userpool.Pipeline {
		p := script(`async function pipe(user, context, callback) { callback(null, user, context) }`)
		p.AllowedHosts = []string{"api.example.com", "127.0.0.1:8080"}
		p.Env = map[string]string{"API_KEY": "x"}
		return p
	}
	web := func() *userpool.Pipeline {
		return &userpool.Pipeline{Stage: userpool.StagePreRegister, Name: "hook", Kind: userpool.PipelineHTTP,
			URL: "https://hooks.example.com/pre", Secret: NewSecret()}
	}
	if err := Validate(ok()); err != nil {
		t.Fatalf("valid script: %v", err)
	}
	if err := Validate(web()); err != nil {
		t.Fatalf("valid http: %v", err)
	}
	tests := []struct {
		name string
		p    *userpool.Pipeline
		edit func(*userpool.Pipeline)
	}{
		{"stage", ok(), func(p *userpool.Pipeline) { p.Stage = "pre-login" }},
		{"name", ok(), func(p *userpool.Pipeline) { p.Name = "" }},
		{"kind", ok(), func(p *userpool.Pipeline) { p.Kind = "wasm" }},
		{"timeout", ok(), func(p *userpool.Pipeline) { p.Timeout = time.Minute }},
		{"order", ok(), func(p *userpool.Pipeline) { p.Order = -1 }},
		{"syntax", ok(), func(p *userpool.Pipeline) { p.Script = "function pipe(" }},
		{"no pipe", ok(), func(p *userpool.Pipeline) { p.Script = "function other() {}" }},
		{"top-level loop", ok(), func(p *userpool.Pipeline) { p.Script = "while (true) {} function pipe() {}" }},
		{"top-level throw", ok(), func(p *userpool.Pipeline) { p.Script = "throw 1; function pipe() {}" }},
		{"top-level memory bomb", ok(), func(p *userpool.Pipeline) { p.Script = `var s = "x"; while (true) s = s + s; function pipe() {}` }},
		{"top-level uninterruptible", ok(), func(p *userpool.Pipeline) {
			p.Script = `/^(a+)+(?=b)/.test("a".repeat(26) + "!"); function pipe() {}`
		}},
		{"too large", ok(), func(p *userpool.Pipeline) { p.Script += "//" + strings.Repeat("x", MaxScriptBytes) }},
		{"host with path", ok(), func(p *userpool.Pipeline) { p.AllowedHosts = []string{"api.example.com/x"} }},
		{"wildcard host", ok(), func(p *userpool.Pipeline) { p.AllowedHosts = []string{"*.example.com"} }},
		{"env name", ok(), func(p *userpool.Pipeline) { p.Env = map[string]string{"1X": "y"} }},
		{"script with url", ok(), func(p *userpool.Pipeline) { p.URL = "https://x.example.com" }},
		{"url scheme", web(), func(p *userpool.Pipeline) { p.URL = "ftp://x.example.com" }},
		{"url user info", web(), func(p *userpool.Pipeline) { p.URL = "https://u:p@x.example.com" }},
		{"secret", web(), func(p *userpool.Pipeline) { p.Secret = "hunter2" }},
		{"http with env", web(), func(p *userpool.Pipeline) { p.Env = map[string]string{"A": "b"} }},
	}
	for _, tc := range tests {
		tc.edit(tc.p)
		err := Validate(tc.p)
		if e := userpool.AsError(err); err == nil || e.Code != userpool.CodeInvalidArgument {
			t.Errorf("%s: Validate = %v, want code 1003", tc.name, err)
		}
	}

	sub := func() *userpool.WebhookSubscription {
		return &userpool.WebhookSubscription{URL: "https://hooks.example.com/h", Events: []string{"user.login", "*"}, Secret: NewSecret()}
	}
	if err := ValidateSubscription(sub()); err != nil {
		t.Fatalf("valid subscription: %v", err)
	}
	for name, edit := range map[string]func(*userpool.WebhookSubscription){
		"no events":     func(w *userpool.WebhookSubscription) { w.Events = nil },
		"unknown event": func(w *userpool.WebhookSubscription) { w.Events = []string{"user.exploded"} },
		"url":           func(w *userpool.WebhookSubscription) { w.URL = "not a url" },
		"secret":        func(w *userpool.WebhookSubscription) { w.Secret = "" },
	} {
		w := sub()
		edit(w)
		if err := ValidateSubscription(w); err == nil {
			t.Errorf("%s: ValidateSubscription accepted it", name)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	d := NewDispatcher(nil, DispatchConfig{Backoff: 10 * time.Second, MaxBackoff: time.Minute, Timeout: time.Second}, nil, nil)
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// TestUserDefinedData: a pipeline sees the user's values as
// user.customData and may set (any JSON), change or remove (null) them;
// untouched and equal values are no change; later pipelines see the
// earlier ones' changes; CheckData refusing a change fails the pipeline.
func TestUserDefinedData(t *testing.T) {
	t.Parallel()
	r := NewRunner(nil, Config{}, nil, nil)
	in := input()
	in.Data = map[string]json.RawMessage{"plan": json.RawMessage(`"free"`), "seats": json.RawMessage(`3`),
		"prefs": json.RawMessage(`{"a":1,"b":[true]}`), "old": json.RawMessage(`"x"`)}
	tr := r.Try(context.Background(), script(`async function pipe(user, context, callback) {
		const d = user.customData
		console.log(d.plan, d.seats, JSON.stringify(d.prefs))
		d.plan = "pro"; d.seats = 3; d.prefs = {b: [true], a: 1}; d.old = null; d.nothing = null
		d.since = "2024-05-01T00:00:00Z"; d.obj = {n: 1.5}
		callback(null, user, context) }`), in)
	if tr.Outcome != userpool.PipelineAccepted || tr.Output != "free 3 {\"a\":1,\"b\":[true]}\n" {
		t.Fatalf("run: %s %q %q", tr.Outcome, tr.Message, tr.Output)
	}
	want := map[string]string{"plan": `"pro"`, "old": "null", "since": `"2024-05-01T00:00:00Z"`, "obj": `{"n":1.5}`}
	got := map[string]string{}
	for k, v := range tr.Data {
		got[k] = string(v)
	}
	if !equalMaps(got, want) {
		t.Fatalf("data changes %v, want %v", got, want)
	}

	// A user without values gets an empty object to add to; customData
	// left out or not an object.
	for _, tc := range []struct{ src, outcome string }{
		{`async function pipe(user, context, callback) { user.customData.plan = "new"; callback(null, user, context) }`, "accepted"},
		{`async function pipe(user, context, callback) { delete user.customData; callback(null, user, context) }`, "accepted"},
		{`async function pipe(user, context, callback) { user.customData = [1]; callback(null, user, context) }`, "failed"},
	} {
		tr := r.Try(context.Background(), script(tc.src), input())
		if string(tr.Outcome) != tc.outcome {
			t.Errorf("%s: %s %q", tc.src, tr.Outcome, tr.Message)
		}
	}

	// CheckData sees the changes and may refuse them.
	in.CheckData = func(ch map[string]json.RawMessage) error {
		if string(ch["plan"]) != `"pro"` {
			return userpool.Errorf(userpool.CodeFieldTypeMismatch, "field_type_mismatch", "plan must be free or pro")
		}
		return nil
	}
	if tr := r.Try(context.Background(), script(`async function pipe(user, context, callback) {
		user.customData.plan = "gold"; callback(null, user, context) }`), in); tr.Outcome != userpool.PipelineFailed ||
		!strings.Contains(tr.Message, "plan must be free or pro") || tr.Data != nil {
		t.Fatalf("refused data: %s %q %v", tr.Outcome, tr.Message, tr.Data)
	}
}

// TestLoadDataOnlyWhenRunning: a stage without an enabled pipeline does
// not read the user's values; one with a pipeline reads them once and the
// script sees them.
func TestLoadDataOnlyWhenRunning(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, storetest.DatabaseURLs(t)["sqlite"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreatePool(ctx, &userpool.Pool{ID: "p1", Name: "p1"}); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(st, Config{}, nil, nil)
	loads := 0
	in := input()
	in.LoadData = func(context.Context) (map[string]json.RawMessage, error) {
		loads++
		return map[string]json.RawMessage{"plan": json.RawMessage(`"gold"`)}, nil
	}
	p := script(`async function pipe(user, context, callback) { user.nickname = user.customData.plan; callback(null, user, context) }`)
	p.Enabled = false
	if err := st.CreatePipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, in); err != nil || loads != 0 {
		t.Fatalf("a stage with only a disabled pipeline: %v, %d loads", err, loads)
	}
	if _, err := st.UpdatePipeline(ctx, "p1", p.ID, func(x *userpool.Pipeline) error { x.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(ctx, in)
	if err != nil || loads != 1 || res.Changes["nickname"] != "gold" {
		t.Fatalf("run: %v, %d loads, %v", err, loads, res.Changes)
	}
}
