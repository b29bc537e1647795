package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// addPipeline creates a script pipeline of the default pool through the
// admin API (the server must have the test administrator key).
func addPipeline(t *testing.T, in *instance, stage string, order int, src string, edit ...func(*client.CreatePipelineRequest)) *client.Pipeline {
	t.Helper()
	req := client.CreatePipelineRequest{Stage: stage, Order: &order, Name: stage + " pipeline", Kind: client.PipelineKindScript, Script: src}
	for _, e := range edit {
		e(&req)
	}
	p, err := in.admin().CreatePipeline(context.Background(), "default", req)
	if err != nil {
		t.Fatalf("create pipeline: %v", err)
	}
	return p
}

// pipelineLogs reads a pipeline's log through the admin API.
func pipelineLogs(t *testing.T, in *instance, p *client.Pipeline) []client.PipelineLog {
	t.Helper()
	return must[[]client.PipelineLog](t)(in.admin().PipelineLogs(context.Background(), "default", p.ID, 0))
}

// TestPipelineRejectsUnverifiedEmail is the documented example: a
// post-authentication pipeline refuses users whose email is not verified;
// once it is, the login succeeds.
func TestPipelineRejectsUnverifiedEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		c := in.client()
		gate := addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) {
				if (!user.emailVerified) {
					return callback(new Error("Please verify your email address before logging in."))
				}
				callback(null, user, context)
			}`)
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "ada@example.com", "passw0rd!", nil, nil))

		_, err := c.LoginByEmail(ctx, "ada@example.com", "passw0rd!", nil)
		ce := wantCode(t, err, api.CodePipelineRejected)
		if ce.Message != "Please verify your email address before logging in." || ce.Reason != "pipeline_rejected" || ce.HTTPStatus != http.StatusForbidden {
			t.Fatalf("rejection: %+v", ce)
		}
		if c.Token() != "" {
			t.Fatal("a refused login left a token")
		}
		stored, _ := in.Srv.Store().GetUser(ctx, u.UserPoolID, u.ID)
		if stored.LoginsCount != 0 || !stored.LastLogin.IsZero() {
			t.Fatalf("a refused login counted: %+v", stored)
		}
		if logs := pipelineLogs(t, in, gate); len(logs) != 1 || logs[0].Outcome != "rejected" {
			t.Fatalf("pipeline log: %+v", logs)
		}
		audit, _ := in.Srv.Store().ListAudit(ctx, userpool.AuditFilter{PoolID: u.UserPoolID, Event: "pipeline.rejected"})
		if len(audit) != 1 || audit[0].UserID != u.ID {
			t.Fatalf("audit: %+v", audit)
		}

		// The user verifies the address the documented way: a VERIFY_EMAIL
		// code (read from the console mailer's log) given to VerifyEmail.
		must0(t, c.VerifyEmail(ctx, "ada@example.com", mailCode(t, in, "ada@example.com", client.EmailSceneVerifyEmail)))
		li, err := c.LoginByEmail(ctx, "ada@example.com", "passw0rd!", nil)
		if err != nil {
			t.Fatal(err)
		}
		if li.Token == "" || li.LoginsCount != 1 || !li.EmailVerified {
			t.Fatalf("login after verification: %+v", li)
		}
		if logs := pipelineLogs(t, in, gate); len(logs) != 1 {
			t.Fatalf("an accepting silent run was logged: %+v", logs)
		}
	})
}

// TestPreRegisterPipelines: one script lower-cases the nickname, one HTTP
// pipeline refuses a domain; the client's context option reaches both.
func TestPreRegisterPipelines(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				user.nickname = (user.nickname || "").toLowerCase()
				if (context.params.source) user.company = "via " + context.params.source
				callback(null, user, context)
			}`)
		secret := pipeline.NewSecret()
		var (
			mu   sync.Mutex
			seen []api.PipelineRequest
		)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if !validSignature(secret, r.Header, body, in.Clock.Now()) {
				t.Errorf("HTTP pipeline request with a bad signature")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			var req api.PipelineRequest
			_ = json.Unmarshal(body, &req)
			mu.Lock()
			seen = append(seen, req)
			mu.Unlock()
			if strings.HasSuffix(req.User.Email, "@blocked.example") {
				_, _ = w.Write([]byte(`{"error": "registrations from blocked.example are not accepted"}`))
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer hook.Close()
		addPipeline(t, in, client.StagePreRegister, 1, "", func(p *client.CreatePipelineRequest) {
			p.Kind, p.Script, p.URL, p.Secret = client.PipelineKindHTTP, "", hook.URL, secret
		})

		u, err := c.RegisterByEmail(ctx, "nick@example.com", "passw0rd!", &client.RegisterProfile{Nickname: "NiCK The GREAT"},
			&client.RegisterOptions{Context: map[string]any{"source": "spring-campaign"}})
		if err != nil {
			t.Fatal(err)
		}
		if u.Nickname != "nick the great" || u.Company != "via spring-campaign" {
			t.Fatalf("registered: nickname %q company %q", u.Nickname, u.Company)
		}
		stored, _ := in.Srv.Store().GetUser(ctx, u.UserPoolID, u.ID)
		if stored.Nickname != "nick the great" {
			t.Fatalf("stored nickname %q", stored.Nickname)
		}
		mu.Lock()
		if len(seen) != 1 || seen[0].User.Nickname != "nick the great" || seen[0].Stage != "pre-register" ||
			seen[0].Context.Params["source"] != "spring-campaign" || seen[0].Context.Request.Method != "email" ||
			seen[0].Context.Request.Identifier != "nick@example.com" || seen[0].Context.Request.IP != "127.0.0.1" {
			t.Errorf("the HTTP pipeline saw %+v", seen)
		}
		mu.Unlock()

		_, err = c.RegisterByEmail(ctx, "eve@blocked.example", "passw0rd!", nil, nil)
		ce := wantCode(t, err, api.CodePipelineRejected)
		if ce.Message != "registrations from blocked.example are not accepted" {
			t.Fatalf("rejection message %q", ce.Message)
		}
		if _, err := in.Srv.Store().GetUserByEmail(ctx, u.UserPoolID, "eve@blocked.example"); err != userpool.ErrUserNotFound {
			t.Fatalf("a refused registration stored the user: %v", err)
		}
		// Username registration goes through the same stage.
		un, err := c.RegisterByUsername(ctx, "Shouty", "passw0rd!", &client.RegisterProfile{Nickname: "LOUD"}, nil)
		if err != nil || un.Nickname != "loud" || un.Username != "Shouty" {
			t.Fatalf("username registration: %v %+v", err, un)
		}
	})
}

// TestPostRegisterAndLoginContext: a pre-register pipeline adds a
// user-defined value to the registration, a post-register pipeline sets a
// profile field and a user-defined value (defined through the admin API),
// reported as user.updated and user.udv_changed; the login's context
// option and request reach post-authentication, whose changes (a profile
// field, a counter among the user-defined values) are stored with the
// login.
func TestPostRegisterAndLoginContext(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		mc := in.admin()
		for key, dt := range map[string]string{"plan": "STRING", "visits": "NUMBER", "referrer": "STRING"} {
			must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: key, DataType: dt}))
		}
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "user.udv_changed", "user.updated")
		c := in.client()
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				if (context.params.ref) user.customData.referrer = context.params.ref
				callback(null, user, context)
			}`)
		addPipeline(t, in, client.StagePostRegister, 0, `
			async function pipe(user, context, callback) {
				if (!user.id) throw new Error("post-register must see the stored user")
				user.website = "https://example.com/u/" + user.id
				user.customData.plan = user.customData.referrer ? "trial-referred" : "trial"
				callback(null, user, context)
			}`)
		addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) {
				const r = context.request
				user.device = [context.params.device, r.method, r.identifier, r.userAgent.startsWith("Go-http-client"), r.userPoolId === user.userPoolId].join("|")
				user.customData.visits = (user.customData.visits || 0) + 1
				callback(null, user, context)
			}`)
		u := must[*client.User](t)(c.RegisterByUsername(ctx, "grace", "passw0rd!", nil, &client.RegisterOptions{Context: map[string]any{"ref": "ann"}}))
		if u.Website != "https://example.com/u/"+u.ID {
			t.Fatalf("post-register field: %q", u.Website)
		}
		if u.CustomData["plan"] != "trial-referred" || u.CustomData["referrer"] != "ann" || len(u.CustomData) != 2 {
			t.Fatalf("registration's user-defined data: %v", u.CustomData)
		}
		for i := 1; i <= 2; i++ {
			li, err := c.LoginByUsername(ctx, "grace", "passw0rd!", &client.LoginOptions{Context: map[string]any{"device": "tablet"}})
			if err != nil {
				t.Fatal(err)
			}
			if li.Device != "tablet|username|grace|true|true" || li.LoginsCount != i || li.CustomData["visits"] != float64(i) {
				t.Fatalf("login %d: device %q logins %d data %v", i, li.Device, li.LoginsCount, li.CustomData)
			}
		}
		stored := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID))
		if stored.Device != "tablet|username|grace|true|true" || stored.Website != u.Website || stored.CustomData["visits"] != 2.0 || stored.CustomData["plan"] != "trial-referred" {
			t.Fatalf("stored: %+v", stored)
		}

		// user.updated (the website) and user.udv_changed (the plan) from
		// post-register, one user.udv_changed per login (the counter).
		got := rcv.waitEvents(t, 4)
		var udv []api.WebhookData
		for _, g := range got {
			switch g.Event.Type {
			case "user.updated":
				if g.Event.Data.User.Website != u.Website {
					t.Errorf("user.updated: %+v", g.Event.Data.User)
				}
			case "user.udv_changed":
				udv = append(udv, g.Event.Data)
			}
		}
		slices.SortFunc(udv, func(a, b api.WebhookData) int { return len(a.User.CustomData) - len(b.User.CustomData) })
		if len(udv) != 3 || !slices.Equal(udv[0].Keys, []string{"plan"}) || udv[0].User.CustomData["plan"] != "trial-referred" ||
			udv[0].User.CustomDataTypes["plan"] != "STRING" || udv[0].User.Website != u.Website {
			t.Fatalf("user.udv_changed events: %+v", udv)
		}
		for _, d := range udv[1:] {
			if !slices.Equal(d.Keys, []string{"visits"}) || d.Method != "username" || len(d.User.CustomData) != 3 {
				t.Errorf("login's user.udv_changed: %+v", d)
			}
		}
	})
}

// TestForceLoginRunsTheLoginProcess: forceLogin registration runs the
// login pipelines, emits user.login and counts the login; generateToken
// issues a token without any of that.
func TestForceLoginRunsTheLoginProcess(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "user.login", "user.registered")
		mark := `async function pipe(user, context, callback) { console.log("ran for " + context.request.identifier); callback(null, user, context) }`
		pre := addPipeline(t, in, client.StagePreAuthentication, 0, mark)
		post := addPipeline(t, in, client.StagePostAuthentication, 0, mark)
		c := in.client()

		fl, err := c.RegisterByEmail(ctx, "force@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true})
		if err != nil {
			t.Fatal(err)
		}
		if fl.Token == "" || fl.LoginsCount != 1 {
			t.Fatalf("forceLogin: %+v", fl)
		}
		gt, err := c.RegisterByEmail(ctx, "gen@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
		if err != nil {
			t.Fatal(err)
		}
		if gt.Token == "" || gt.LoginsCount != 0 {
			t.Fatalf("generateToken: %+v", gt)
		}
		for _, p := range []*client.Pipeline{pre, post} {
			logs := pipelineLogs(t, in, p)
			if len(logs) != 1 || logs[0].Output != "ran for force@example.com\n" {
				t.Fatalf("%s ran %d times: %+v", p.Stage, len(logs), logs)
			}
		}

		// A login that auto-registers runs pre-authentication once, then the
		// registration and the rest of the login.
		ar, err := c.LoginByEmail(ctx, "auto@example.com", "passw0rd!", &client.LoginOptions{AutoRegister: true})
		if err != nil || !ar.NewlyCreated || ar.LoginsCount != 1 {
			t.Fatalf("autoRegister: %v %+v", err, ar)
		}
		for _, p := range []*client.Pipeline{pre, post} {
			logs := pipelineLogs(t, in, p)
			if len(logs) != 2 || logs[0].Output != "ran for auto@example.com\n" {
				t.Fatalf("%s after autoRegister: %+v", p.Stage, logs)
			}
		}
		// The registrations are reported; generateToken's login is not.
		got := rcv.waitEvents(t, 5)
		types := map[string][]string{}
		for _, e := range got {
			types[e.Event.Type] = append(types[e.Event.Type], e.Event.Data.User.Email)
		}
		if len(types["user.login"]) != 2 || !slices.Contains(types["user.login"], "force@example.com") || slices.Contains(types["user.login"], "gen@example.com") || len(types["user.registered"]) != 3 {
			t.Fatalf("events: %v", types)
		}
		for _, e := range got {
			if e.Event.Type == "user.login" && e.Event.Data.User.LoginsCount != 1 {
				t.Errorf("user.login shows loginsCount %d", e.Event.Data.User.LoginsCount)
			}
		}
		ds, _ := in.Srv.Store().ListDeliveries(ctx, userpool.DeliveryFilter{PoolID: fl.UserPoolID})
		if len(ds) != 5 {
			t.Fatalf("%d deliveries in the outbox, want 5", len(ds))
		}
	})
}

// TestPipelineTimeLimit: a pipeline that never ends is stopped at its time
// limit (the default, 3 s) and the login fails closed, while other requests
// are served meanwhile; the server carries on.
func TestPipelineTimeLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		looping := make(chan struct{})
		var once sync.Once
		signal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(looping) })
		}))
		defer signal.Close()
		loop := addPipeline(t, in, client.StagePreAuthentication, 0, `
			async function pipe(user, context, callback) {
				if (context.request.identifier === "loop@example.com") {
					await http.get(env.SIGNAL)
					while (true) {}
				}
				callback(null, user, context)
			}`, func(p *client.CreatePipelineRequest) {
			p.AllowedHosts = []string{strings.TrimPrefix(signal.URL, "http://")}
			p.Env = map[string]string{"SIGNAL": signal.URL}
		})
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "loop@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(c.RegisterByEmail(ctx, "fine@example.com", "passw0rd!", nil, nil))

		done := make(chan error, 1)
		go func() {
			_, err := in.client().LoginByEmail(ctx, "loop@example.com", "passw0rd!", nil)
			done <- err
		}()
		<-looping // the pipeline is in its loop now
		for i := range 3 {
			oc := in.client()
			if _, err := oc.LoginByEmail(ctx, "fine@example.com", "passw0rd!", nil); err != nil {
				t.Fatalf("login %d while a pipeline loops: %v", i, err)
			}
			if _, err := oc.CheckLoginStatus(ctx, ""); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the looping login ended before the other requests did: %v", err)
		default:
		}
		ce := wantCode(t, <-done, api.CodePipelineFailed)
		if ce.Reason != "pipeline_failed" || strings.Contains(ce.Message, "time limit") {
			t.Fatalf("failure shown to the client: %+v", ce)
		}
		logs := pipelineLogs(t, in, loop)
		if len(logs) != 1 || logs[0].Outcome != "failed" || !strings.Contains(logs[0].Message, "time limit of 3s") {
			t.Fatalf("pipeline log: %+v", logs)
		}
		audit, _ := in.Srv.Store().ListAudit(ctx, userpool.AuditFilter{PoolID: in.Srv.DefaultPoolID(), Event: "pipeline.failed"})
		if len(audit) != 1 || audit[0].Detail["pipelineId"] != loop.ID {
			t.Fatalf("audit: %+v", audit)
		}
		if _, err := in.client().LoginByEmail(ctx, "fine@example.com", "passw0rd!", nil); err != nil {
			t.Fatalf("login after the failure: %v", err)
		}
	})
}

// TestMalformedPipelineFailsClosed: a pipeline that cannot run refuses
// the login with the failure code (it is stored through the store, so the
// admin API's validation is bypassed on purpose).
func TestMalformedPipelineFailsClosed(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "mal@example.com", "passw0rd!", nil, nil))
		p := &userpool.Pipeline{PoolID: in.Srv.DefaultPoolID(), Stage: userpool.StagePostAuthentication, Name: "broken",
			Kind: userpool.PipelineScript, Script: "async function pipe(user, context, callback) {", Enabled: true}
		if err := in.Srv.Store().CreatePipeline(ctx, p); err != nil {
			t.Fatal(err)
		}
		_, err := c.LoginByEmail(ctx, "mal@example.com", "passw0rd!", nil)
		wantCode(t, err, api.CodePipelineFailed)
		if logs := pipelineLogs(t, in, &client.Pipeline{ID: p.ID}); len(logs) != 1 || !strings.Contains(logs[0].Message, "does not compile") {
			t.Fatalf("pipeline log: %+v", logs)
		}
		// Disabled (through the admin API), it no longer runs.
		if got := must[*client.Pipeline](t)(in.admin().EnablePipeline(ctx, "default", p.ID, false)); got.Enabled {
			t.Fatalf("disabled pipeline: %+v", got)
		}
		if _, err := c.LoginByEmail(ctx, "mal@example.com", "passw0rd!", nil); err != nil {
			t.Fatalf("login with the pipeline disabled: %v", err)
		}
	})
}
