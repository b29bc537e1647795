package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

const acceptAll = `async function pipe(user, context, callback) { callback(null, user, context) }`

// rawAdmin sends one admin request with the test key and returns the
// status and the decoded error body (if any).
func rawAdmin(t *testing.T, in *instance, method, path, body string) (int, api.ErrorBody) {
	t.Helper()
	req, _ := http.NewRequest(method, in.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb api.ErrorBody
	_ = json.Unmarshal(raw, &eb)
	return resp.StatusCode, eb
}

// TestPipelineAdminCRUD creates, reads, changes and deletes pipelines
// through the ManagementClient: validation, generated secrets shown once,
// env values never shown, the larger body bound of the pipeline routes
// only, coded errors that change nothing, and an audit trail without
// secrets.
func TestPipelineAdminCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		order := func(n int) *int { return &n }

		gate := must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{
			Stage: client.StagePostAuthentication, Name: "gate", Kind: client.PipelineKindScript, Script: acceptAll,
			Timeout: "2s", AllowedHosts: []string{"api.example.com"}, Env: map[string]string{"API_KEY": "k-secret-value", "REGION": "eu"},
		}))
		if gate.ID == "" || gate.Order != 0 || !gate.Enabled || gate.Timeout != "2s" || gate.Secret != "" ||
			!slices.Equal(gate.EnvNames, []string{"API_KEY", "REGION"}) || !slices.Equal(gate.AllowedHosts, []string{"api.example.com"}) {
			t.Fatalf("created: %+v", gate)
		}
		second := must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{
			Stage: client.StagePostAuthentication, Name: "second", Kind: client.PipelineKindScript, Script: acceptAll, Enabled: new(bool),
		}))
		if second.Order != 1 || second.Enabled {
			t.Fatalf("a pipeline without order goes last, disabled as asked: %+v", second)
		}
		web := must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{
			Stage: client.StagePreRegister, Name: "web", Kind: client.PipelineKindHTTP, URL: "https://hooks.example.com/pre", Order: order(5),
		}))
		if !strings.HasPrefix(web.Secret, "whsec_") || web.Order != 5 {
			t.Fatalf("http pipeline: %+v", web)
		}
		// The secret and env values are shown nowhere else.
		if got := must[*client.Pipeline](t)(mc.GetPipeline(ctx, "default", web.ID)); got.Secret != "" || got.URL != web.URL {
			t.Fatalf("get shows %+v", got)
		}
		all := must[[]client.Pipeline](t)(mc.ListPipelines(ctx, "default", ""))
		if len(all) != 3 || all[0].ID != web.ID || all[1].ID != gate.ID || all[2].ID != second.ID {
			t.Fatalf("list in run order: %+v", all)
		}
		for _, p := range all {
			if p.Secret != "" {
				t.Fatalf("list shows a secret: %+v", p)
			}
		}
		if got := must[[]client.Pipeline](t)(mc.ListPipelines(ctx, "default", client.StagePostAuthentication)); len(got) != 2 {
			t.Fatalf("stage filter: %d", len(got))
		}

		// A script of 32 KiB that JSON-escapes to ~180 KiB is accepted on
		// the pipeline routes; the 256 KiB bound holds; other admin routes
		// keep 64 KiB.
		big := "// " + strings.Repeat("<", 32000) + "\n" + acceptAll
		bp := must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{
			Stage: client.StagePreAuthentication, Name: "big", Kind: client.PipelineKindScript, Script: big,
		}))
		if bp.Script != big {
			t.Fatal("the big script was not kept whole")
		}
		body, _ := json.Marshal(client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: big})
		if len(body) <= api.MaxBodyBytes || len(body) > api.MaxPipelineBodyBytes {
			t.Fatalf("test body of %d bytes does not sit between the bounds", len(body))
		}
		huge := `{"stage":"pre-register","name":"x","kind":"script","script":"` + strings.Repeat(" ", api.MaxPipelineBodyBytes) + `"}`
		if st, eb := rawAdmin(t, in, "POST", "/api/v1/admin/pools/default/pipelines", huge); st != 413 || eb.Code != 1002 || !strings.Contains(eb.Message, "262144") {
			t.Fatalf("over 256 KiB: %d %+v", st, eb)
		}
		if st, eb := rawAdmin(t, in, "PATCH", "/api/v1/admin/pools/default/pipelines/"+gate.ID, `{"script":"`+strings.Repeat(" ", api.MaxPipelineBodyBytes)+`"}`); st != 413 || eb.Code != 1002 {
			t.Fatalf("update over 256 KiB: %d %+v", st, eb)
		}
		if st, eb := rawAdmin(t, in, "POST", "/api/v1/admin/pools/default/webhooks", `{"url":"https://x.example.com","events":["*"],"secret":"`+strings.Repeat("a", 100<<10)+`"}`); st != 413 || eb.Code != 1002 || !strings.Contains(eb.Message, "65536") {
			t.Fatalf("webhook route over 64 KiB: %d %+v", st, eb)
		}

		// Refused creations: coded, and nothing stored.
		bad := []struct {
			name   string
			in     client.CreatePipelineRequest
			code   int
			reason string
		}{
			{"unknown stage", client.CreatePipelineRequest{Stage: "during-login", Name: "x", Kind: "script", Script: acceptAll}, 1003, "invalid_pipeline"},
			{"no kind", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Script: acceptAll}, 1003, "missing_field"},
			{"unknown kind", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "lua", Script: acceptAll}, 1003, "invalid_pipeline"},
			{"syntax error", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: "async function pipe(user, context, callback) {"}, 1003, "invalid_pipeline"},
			{"no pipe", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: "function other() {}"}, 1003, "invalid_pipeline"},
			{"script too large", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: "//" + strings.Repeat("x", 33000) + "\n" + acceptAll}, 1003, "invalid_pipeline"},
			{"timeout too long", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: acceptAll, Timeout: "31s"}, 1003, "invalid_pipeline"},
			{"timeout not a duration", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: acceptAll, Timeout: "soon"}, 1003, "invalid_pipeline"},
			{"negative order", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: acceptAll, Order: order(-1)}, 1003, "invalid_pipeline"},
			{"bad env name", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: acceptAll, Env: map[string]string{"1X": "v"}}, 1003, "invalid_pipeline"},
			{"http with a bad URL", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "http", URL: "ftp://example.com"}, 1003, "invalid_url"},
			{"http with a bad secret", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "http", URL: "https://example.com", Secret: "hunter2"}, 1003, "invalid_pipeline"},
			{"script with a url", client.CreatePipelineRequest{Stage: "pre-register", Name: "x", Kind: "script", Script: acceptAll, URL: "https://example.com"}, 1003, "invalid_pipeline"},
		}
		for _, tc := range bad {
			_, err := mc.CreatePipeline(ctx, "default", tc.in)
			if ce := wantCode(t, err, tc.code); ce.Reason != tc.reason || ce.HTTPStatus != 400 {
				t.Errorf("%s: %+v", tc.name, ce)
			}
		}
		if n := len(must[[]client.Pipeline](t)(mc.ListPipelines(ctx, "default", ""))); n != 4 {
			t.Fatalf("%d pipelines after refused creations, want 4", n)
		}

		// Updates: a patch of env (values stay unreadable), a new name, a
		// rotated secret shown once; refused updates change nothing.
		up := must[*client.Pipeline](t)(mc.UpdatePipeline(ctx, "default", gate.ID, client.UpdatePipelineRequest{
			Name: ptr("email gate"), Env: map[string]*string{"REGION": nil, "TOKEN": ptr("t-secret-value")},
		}))
		if up.Name != "email gate" || !slices.Equal(up.EnvNames, []string{"API_KEY", "TOKEN"}) || up.Script != acceptAll || up.Timeout != "2s" {
			t.Fatalf("updated: %+v", up)
		}
		rot := must[*client.Pipeline](t)(mc.UpdatePipeline(ctx, "default", web.ID, client.UpdatePipelineRequest{RotateSecret: true}))
		if !strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == web.Secret {
			t.Fatalf("rotated secret: %q", rot.Secret)
		}
		for name, req := range map[string]client.UpdatePipelineRequest{
			"broken script":          {Script: ptr("function pipe(")},
			"rotate a script secret": {RotateSecret: true},
			"timeout":                {Timeout: ptr("1h")},
			"negative order":         {Order: order(-2)},
		} {
			_, err := mc.UpdatePipeline(ctx, "default", gate.ID, req)
			wantCode(t, err, 1003)
			if got := must[*client.Pipeline](t)(mc.GetPipeline(ctx, "default", gate.ID)); got.Script != acceptAll || got.Timeout != "2s" || got.Order != 0 {
				t.Fatalf("refused update %q changed the pipeline: %+v", name, got)
			}
		}
		_, err := mc.UpdatePipeline(ctx, "default", web.ID, client.UpdatePipelineRequest{Secret: ptr(rot.Secret), RotateSecret: true})
		wantCode(t, err, 1003)
		if st, eb := rawAdmin(t, in, "PATCH", "/api/v1/admin/pools/default/pipelines/"+gate.ID, `{"stage":"pre-register"}`); st != 400 || eb.Code != 1001 {
			t.Fatalf("changing the stage: %d %+v", st, eb)
		}

		// Not found, in this pool and in another.
		must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{ID: "other", Name: "other"}))
		for _, call := range []func() error{
			func() error { _, err := mc.GetPipeline(ctx, "default", "nope"); return err },
			func() error { _, err := mc.GetPipeline(ctx, "other", gate.ID); return err },
			func() error {
				_, err := mc.UpdatePipeline(ctx, "other", gate.ID, client.UpdatePipelineRequest{Name: ptr("x")})
				return err
			},
			func() error { return mc.DeletePipeline(ctx, "other", gate.ID) },
			func() error { _, err := mc.PipelineLogs(ctx, "default", "nope", 0); return err },
			func() error {
				_, err := mc.TryPipeline(ctx, "default", "nope", client.TryPipelineRequest{})
				return err
			},
		} {
			if ce := wantCode(t, call(), 1004); ce.Reason != "pipeline_not_found" || ce.HTTPStatus != 404 {
				t.Errorf("not found: %+v", ce)
			}
		}
		_, err = mc.ListPipelines(ctx, "nope", "")
		wantCode(t, err, 1006)
		_, err = mc.ListPipelines(ctx, "default", "sometime")
		wantCode(t, err, 1003)

		// Delete: gone with its log; a second delete is not found.
		must0(t, mc.DeletePipeline(ctx, "default", second.ID))
		_, err = mc.GetPipeline(ctx, "default", second.ID)
		wantCode(t, err, 1004)
		wantCode(t, mc.DeletePipeline(ctx, "default", second.ID), 1004)

		// The audit trail names what changed, never script, env values or
		// secrets.
		events, _ := in.Srv.Store().ListAudit(ctx, userpool.AuditFilter{PoolID: in.Srv.DefaultPoolID(), Limit: 1000})
		kinds := map[string]int{}
		for _, e := range events {
			kinds[e.Event]++
			for _, v := range e.Detail {
				for _, secret := range []string{"k-secret-value", "t-secret-value", web.Secret, rot.Secret, "<<<<"} {
					if strings.Contains(v, secret) {
						t.Errorf("audit %s holds a secret: %v", e.Event, e.Detail)
					}
				}
			}
		}
		if kinds["admin.pipeline.create"] != 4 || kinds["admin.pipeline.update"] != 2 || kinds["admin.pipeline.delete"] != 1 {
			t.Fatalf("audit: %v", kinds)
		}
	})
}

// TestPipelineAdminRuns: enabling, disabling and reordering change what
// logins run; a test run judges a sample user with the checks of a real
// run and stores nothing; the log shows the real runs.
func TestPipelineAdminRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "tier", DataType: "STRING"}))
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "run@example.com", "passw0rd!", nil, nil))

		closed := addPipeline(t, in, client.StagePreAuthentication, 0, `async function pipe(user, context, callback) {
			callback(new Error("logins are closed")) }`, func(r *client.CreatePipelineRequest) { r.Enabled = new(bool) })
		if _, err := c.LoginByEmail(ctx, "run@example.com", "passw0rd!", nil); err != nil {
			t.Fatalf("a disabled pipeline ran: %v", err)
		}
		must[*client.Pipeline](t)(mc.EnablePipeline(ctx, "default", closed.ID, true))
		_, err := c.LoginByEmail(ctx, "run@example.com", "passw0rd!", nil)
		if ce := wantCode(t, err, 1020); ce.Message != "logins are closed" {
			t.Fatalf("enabled pipeline: %+v", ce)
		}
		must[*client.Pipeline](t)(mc.EnablePipeline(ctx, "default", closed.ID, false))

		// Two pipelines set one field: the later one wins, so the order shows.
		a := addPipeline(t, in, client.StagePostAuthentication, 0, `async function pipe(user, context, callback) { user.nickname = "A"; callback(null, user, context) }`)
		b := addPipeline(t, in, client.StagePostAuthentication, 1, `async function pipe(user, context, callback) { user.nickname = "B"; callback(null, user, context) }`)
		if li := must[*client.User](t)(c.LoginByEmail(ctx, "run@example.com", "passw0rd!", nil)); li.Nickname != "B" {
			t.Fatalf("order a, b: nickname %q", li.Nickname)
		}
		got := must[[]client.Pipeline](t)(mc.ReorderPipelines(ctx, "default", client.StagePostAuthentication, []string{b.ID, a.ID}))
		if len(got) != 2 || got[0].ID != b.ID || got[0].Order != 0 || got[1].ID != a.ID || got[1].Order != 1 {
			t.Fatalf("reordered: %+v", got)
		}
		if li := must[*client.User](t)(c.LoginByEmail(ctx, "run@example.com", "passw0rd!", nil)); li.Nickname != "A" {
			t.Fatalf("order b, a: nickname %q", li.Nickname)
		}
		for name, ids := range map[string][]string{"missing one": {b.ID}, "twice": {b.ID, b.ID}, "foreign": {b.ID, closed.ID}} {
			_, err := mc.ReorderPipelines(ctx, "default", client.StagePostAuthentication, ids)
			if ce := wantCode(t, err, 1003); ce.Reason != "invalid_order" {
				t.Errorf("reorder %s: %+v", name, ce)
			}
		}
		_, err = mc.ReorderPipelines(ctx, "default", "whenever", []string{b.ID, a.ID})
		wantCode(t, err, 1003)
		if li := must[*client.User](t)(c.LoginByEmail(ctx, "run@example.com", "passw0rd!", nil)); li.Nickname != "A" {
			t.Fatalf("a refused reorder changed the order: %q", li.Nickname)
		}

		// Test runs.
		gate := addPipeline(t, in, client.StagePostAuthentication, 5, `async function pipe(user, context, callback) {
			console.log("try " + user.email + " " + context.params.source + " " + context.request.ip)
			if (!user.emailVerified) return callback(new Error("verify first"))
			if (context.params.gender) user.gender = context.params.gender
			if (context.params.tier !== undefined) user.customData.tier = context.params.tier
			callback(null, user, context)
		}`, func(r *client.CreatePipelineRequest) { r.Enabled = new(bool) })
		try := func(verified bool, params map[string]any) *client.PipelineTrial {
			t.Helper()
			return must[*client.PipelineTrial](t)(mc.TryPipeline(ctx, "default", gate.ID, client.TryPipelineRequest{
				User:    &client.User{Email: "sample@example.com", EmailVerified: verified, CustomData: map[string]any{"tier": "free"}},
				Context: &client.TryPipelineContext{Params: params, Request: client.PipelineRequestInfo{IP: "203.0.113.9", Method: "email"}},
			}))
		}
		if tr := try(false, map[string]any{"source": "cli"}); tr.Outcome != "rejected" || tr.Message != "verify first" || tr.Output != "try sample@example.com cli 203.0.113.9\n" {
			t.Fatalf("rejecting test run: %+v", tr)
		}
		if tr := try(true, map[string]any{"gender": "F", "tier": "gold"}); tr.Outcome != "accepted" || tr.Changes["gender"] != "F" || tr.CustomData["tier"] != "gold" {
			t.Fatalf("accepting test run: %+v", tr)
		}
		// The checks of a real run: an invalid profile value, an undefined
		// key or a value of the wrong type fails the pipeline.
		for _, params := range []map[string]any{{"gender": "X"}, {"tier": 5}} {
			if tr := try(true, params); tr.Outcome != "failed" || !strings.Contains(tr.Message, "invalid user") || len(tr.Changes) != 0 {
				t.Fatalf("test run with %v: %+v", params, tr)
			}
		}
		pre := addPipeline(t, in, client.StagePreAuthentication, 3, `async function pipe(user, context, callback) {
			console.log(String(user) + " " + context.request.identifier); callback(null, user, context) }`, func(r *client.CreatePipelineRequest) { r.Enabled = new(bool) })
		tr := must[*client.PipelineTrial](t)(mc.TryPipeline(ctx, "default", pre.ID, client.TryPipelineRequest{
			User:    &client.User{Email: "ignored@example.com"},
			Context: &client.TryPipelineContext{Request: client.PipelineRequestInfo{Identifier: "who@example.com"}},
		}))
		if tr.Outcome != "accepted" || tr.Output != "null who@example.com\n" {
			t.Fatalf("pre-authentication test run sees no user: %+v", tr)
		}
		// Test runs store nothing: no log, no audit event, no change.
		if logs := pipelineLogs(t, in, gate); len(logs) != 0 {
			t.Fatalf("test runs were logged: %+v", logs)
		}
		if ev, _ := in.Srv.Store().ListAudit(ctx, userpool.AuditFilter{PoolID: in.Srv.DefaultPoolID(), Event: "pipeline.rejected"}); len(ev) != 1 {
			t.Fatalf("%d pipeline.rejected audit events, want 1 (the real login)", len(ev))
		}

		// The log of the real refusal, with its limit.
		logs := pipelineLogs(t, in, closed)
		if len(logs) != 1 || logs[0].Outcome != "rejected" || logs[0].Message != "logins are closed" || logs[0].Stage != client.StagePreAuthentication {
			t.Fatalf("log: %+v", logs)
		}
		_, err = mc.PipelineLogs(ctx, "default", closed.ID, 5000)
		wantCode(t, err, 1003)
	})
}
