package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestPhoneFlowsRunPipelines: the phone flows run the login process like
// email and username do. RegisterByPhoneCode runs pre-register before the
// code is spent (a refusal leaves the code usable) and post-register
// after; LoginByPhoneCode runs pre-authentication once, before the code is
// checked (a refusal leaves the code usable), then, for a new account,
// pre- and post-register, then post-authentication before the token;
// LoginByPhonePassword runs pre-authentication once. Refused logins are
// reported as user.login_failed with the flow's method.
func TestPhoneFlowsRunPipelines(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil).withoutFailureDetection(t)
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "user.login_failed", "user.login")
		stamp := `async function pipe(user, context, callback) {
			const r = context.request
			console.log(context.stage + " " + r.method + " " + r.identifier + " " + (user ? "user" : "null"))
			if (context.params.deny === context.stage) return callback(new Error("denied at " + context.stage))
			if (user && context.stage !== "pre-register") user.device = (user.device ? user.device + "," : "") + context.stage
			callback(null, user, context)
		}`
		pre := addPipeline(t, in, client.StagePreAuthentication, 0, stamp)
		post := addPipeline(t, in, client.StagePostAuthentication, 0, stamp)
		preReg := addPipeline(t, in, client.StagePreRegister, 0, stamp)
		postReg := addPipeline(t, in, client.StagePostRegister, 0, stamp)
		outputs := func(p *client.Pipeline) []string {
			var out []string
			for _, l := range pipelineLogs(t, in, p) {
				out = append(out, strings.TrimSpace(l.Output))
			}
			return out
		}
		c := in.client()
		deny := func(stage string) map[string]any { return map[string]any{"deny": stage} }
		// sms sends a code; the clock moves past the per-phone interval first.
		sms := func(t *testing.T, in *instance, phone string) string {
			in.Clock.Advance(61 * time.Second)
			return sms(t, in, phone)
		}

		// RegisterByPhoneCode: refused at pre-register, the code survives.
		code := sms(t, in, cnPhone)
		_, err := c.RegisterByPhoneCode(ctx, cnPhone, code, "passw0rd!", nil, &client.RegisterOptions{Context: deny("pre-register")})
		if ce := wantCode(t, err, 1020); ce.Message != "denied at pre-register" {
			t.Fatalf("refused registration: %+v", ce)
		}
		u, err := c.RegisterByPhoneCode(ctx, cnPhone, code, "passw0rd!", nil, nil)
		if err != nil {
			t.Fatalf("the code did not survive a pipeline's refusal: %v", err)
		}
		if u.Device != "post-register" || !u.PhoneVerified {
			t.Fatalf("registered: %+v", u)
		}
		if got := outputs(preReg); len(got) != 2 || got[0] != "pre-register phone-code "+cnPhone+" user" {
			t.Fatalf("pre-register runs: %q", got)
		}
		_, err = c.RegisterByPhoneCode(ctx, cnPhone, code, "passw0rd!", nil, nil)
		wantCode(t, err, 2026) // taken: refused before the (spent) code matters

		// LoginByPhoneCode: refused at pre-authentication, the code survives.
		code = sms(t, in, cnPhone)
		_, err = c.LoginByPhoneCode(ctx, cnPhone, code, &client.LoginOptions{Context: deny("pre-authentication")})
		wantCode(t, err, 1020)
		li, err := c.LoginByPhoneCode(ctx, cnPhone, code, nil)
		if err != nil {
			t.Fatalf("the code did not survive a pre-authentication refusal: %v", err)
		}
		if li.Token == "" || li.LoginsCount != 1 || li.Device != "post-register,post-authentication" {
			t.Fatalf("phone-code login: %+v", li)
		}
		if got := outputs(pre); len(got) != 2 || got[0] != "pre-authentication phone-code "+cnPhone+" null" {
			t.Fatalf("pre-authentication runs: %q", got)
		}
		// A wrong code after pre-authentication; refused at
		// post-authentication: no token, no count.
		_, err = c.LoginByPhoneCode(ctx, cnPhone, wrongFor(sms(t, in, cnPhone)), nil)
		wantCode(t, err, 2001)
		_, err = c.LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), &client.LoginOptions{Context: deny("post-authentication")})
		wantCode(t, err, 1020)
		if got := must[*client.User](t)(in.admin().GetUser(ctx, "default", u.ID)); got.LoginsCount != 1 {
			t.Fatalf("refused logins counted: %d", got.LoginsCount)
		}

		// LoginByPhoneCode creating the account: pre-authentication once,
		// then pre- and post-register, then post-authentication.
		nu, err := c.LoginByPhoneCode(ctx, cnPhone2, sms(t, in, cnPhone2), nil)
		if err != nil || !nu.NewlyCreated || nu.LoginsCount != 1 || nu.Device != "post-register,post-authentication" {
			t.Fatalf("login that registers: %v %+v", err, nu)
		}
		if got := outputs(pre); len(got) != 5 || got[0] != "pre-authentication phone-code "+cnPhone2+" null" {
			t.Fatalf("pre-authentication runs: %q", got)
		}
		if got := outputs(postReg); len(got) != 2 || got[0] != "post-register phone-code "+cnPhone2+" user" {
			t.Fatalf("post-register runs: %q", got)
		}

		// LoginByPhonePassword: pre-authentication once, post-authentication,
		// failures reported.
		pl := must[*client.User](t)(c.LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil))
		if pl.LoginsCount != 2 || !strings.HasSuffix(pl.Device, ",post-authentication") {
			t.Fatalf("phone-password login: %+v", pl)
		}
		if got := outputs(pre); len(got) != 6 || got[0] != "pre-authentication phone "+cnPhone+" null" {
			t.Fatalf("pre-authentication runs: %q", got)
		}
		if got := outputs(post); got[0] != "post-authentication phone "+cnPhone+" user" {
			t.Fatalf("post-authentication runs: %q", got)
		}
		_, err = c.LoginByPhonePassword(ctx, cnPhone, "wrong-passw0rd", nil)
		wantCode(t, err, 2006)

		// Webhooks: the three logins, and the four refused attempts.
		events := rcv.waitDistinct(t, 7)
		var failed []string
		logins := 0
		for _, e := range events {
			d := e.Event.Data
			switch e.Event.Type {
			case "user.login":
				logins++
			case "user.login_failed":
				failed = append(failed, d.Method+" "+d.Reason)
				if d.Identifier != cnPhone || d.User != nil {
					t.Errorf("user.login_failed: %+v", d)
				}
			}
		}
		want := map[string]bool{"phone-code pipeline_rejected": true, "phone-code wrong_code": true, "phone wrong_password": true}
		if logins != 3 || len(failed) != 4 {
			t.Fatalf("%d logins, failures %q", logins, failed)
		}
		for _, f := range failed {
			if !want[f] {
				t.Errorf("unexpected failure %q", f)
			}
		}
	})
}
