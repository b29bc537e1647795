package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// consoleChrome is a headless Chromium signed in to the console with key
// (both console browser tests start here; the sign-in page passes axe on
// the way).
type consoleChrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newConsoleChrome(t *testing.T, in *instance, key string) (*consoleChrome, context.CancelFunc) {
	t.Helper()
	ctx, cancel := newChromium(t)
	b := &consoleChrome{t: t, ctx: ctx, base: in.URL + "/console"}
	// The first action starts the browser, which lives as long as the
	// context of that action: this one, not run's shorter ones.
	// A desktop's width: the screenshots show the tables unwrapped.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	b.run("sign in",
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible(chromedp.ID("key")),
	)
	checkAxe(t, ctx, "console sign-in, en")
	b.run("type the key",
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Submit(chromedp.ID("signin-form")),
	)
	b.run("signed in", chromedp.WaitVisible(chromedp.ID("signout")))
	return b, cancel
}

func (b *consoleChrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		src, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
		b.t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, src)
	}
}

// axe checks the page shown (checkAxe).
func (b *consoleChrome) axe(what string) {
	b.t.Helper()
	checkAxe(b.t, b.ctx, what)
}

// lang makes the browser ask for lang (Accept-Language) from now on.
func (b *consoleChrome) lang(lang string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}}); err != nil {
		b.t.Fatalf("Accept-Language %s: %v", lang, err)
	}
}

// open navigates to a path below the default pool and waits for sel.
func (b *consoleChrome) open(path, sel string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+"/pools/default"+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *consoleChrome) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

func (b *consoleChrome) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (b *consoleChrome) html() string {
	b.t.Helper()
	return b.eval(`document.documentElement.outerHTML`)
}

// TestConsoleConfigBrowser drives the configuration pages in headless
// Chromium, each change seen through the Go SDK: a refused setting shows
// its problem beside it and changes nothing; a saved password policy
// refuses a short password at registration; the branding preview follows
// the colour typed; a field defined in the browser takes a user's value
// and its deletion page counts the values; an app created in the browser
// completes an OIDC sign-in with the secret shown once; a pipeline with a
// syntax error is refused on save, one refusing a domain refuses that
// registration (and its test run says so); a webhook created in the
// browser receives an event, and a redelivery sends it again; the audit
// log filters by event; a signing key rotates; a pool is created and
// renamed. Secrets shown once appear on no later page and never in the
// log. With AUTHPOOL_SCREENSHOTS set it writes the pages to that folder:
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestConsoleConfigBrowser/sqlite' -count=1
func TestConsoleConfigBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		u, _ := consoleUser(t, in, "ann@example.com")
		b, cancel := newConsoleChrome(t, in, testAdminKey)
		defer cancel()

		// Settings: a value out of range is shown beside its setting.
		b.open("/settings", "#settings-form")
		b.axe("console settings")
		b.run("refused setting",
			chromedp.SetValue(chromedp.CSS("#s-passwordMinLength"), "0"),
			chromedp.Submit(chromedp.ID("settings-form")),
			chromedp.WaitVisible(chromedp.ID("e-passwordMinLength")),
		)
		if msg := b.text("#e-passwordMinLength"); !strings.Contains(msg, "passwordMinLength") {
			t.Fatalf("the problem beside passwordMinLength: %q", msg)
		}
		if got := b.eval(`document.getElementById("s-passwordMinLength").value`); got != "0" {
			t.Fatalf("the refused form lost what was typed: %q", got)
		}
		if p := must[*client.Pool](t)(in.admin().GetPool(ctx, "default")); p.Settings["passwordMinLength"] != float64(8) {
			t.Fatalf("a refused form changed the setting: %v", p.Settings["passwordMinLength"])
		}
		// The branding preview follows the colour as it is typed.
		b.eval(`document.getElementById("s-brandPrimaryColor").value = ""`)
		b.run("type a colour",
			chromedp.SendKeys(chromedp.CSS("#s-brandPrimaryColor"), "#AA0000"),
		)
		if got := b.eval(`document.getElementById("brand-preview").dataset.color + " " + getComputedStyle(document.getElementById("preview-button")).backgroundColor`); got != "#aa0000 rgb(170, 0, 0)" {
			t.Fatalf("the preview shows %q", got)
		}
		b.run("save settings",
			chromedp.SetValue(chromedp.CSS("#s-passwordMinLength"), "20"),
			chromedp.Submit(chromedp.ID("settings-form")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		)
		screenshot(t, b.ctx, shots, "console-settings.png")
		_, err := in.client().RegisterByEmail(ctx, "short@example.com", "only 15 chars!!", nil, nil)
		if err == nil {
			t.Fatal("a 15-character password registered after the minimum became 20")
		}
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "long@example.com", "twenty-one characters", nil, nil))
		if p := must[*client.Pool](t)(in.admin().GetPool(ctx, "default")); p.Settings["brandPrimaryColor"] != "#AA0000" {
			t.Fatalf("brandPrimaryColor is %v", p.Settings["brandPrimaryColor"])
		}

		// Fields: define one, set a user's value, see the deletion count.
		b.open("/fields", "#define-form")
		b.run("define a field its users may edit",
			chromedp.SetValue(chromedp.CSS("#f-key"), "tier"),
			chromedp.SetValue(chromedp.CSS("#f-type"), "NUMBER"),
			chromedp.SetValue(chromedp.CSS("#f-label"), "Tier"),
			chromedp.Click(chromedp.ID("f-editable")),
			chromedp.Submit(chromedp.ID("define-form")),
			chromedp.WaitVisible(chromedp.ID("field-tier")),
		)
		b.axe("console fields")
		screenshot(t, b.ctx, shots, "console-fields.png")
		if !must[*client.Field](t)(in.admin().GetField(ctx, "default", "tier")).UserEditable {
			t.Fatal("the box was ticked, yet users may not edit tier")
		}
		if got := b.eval(`String(document.getElementById("ue-tier").checked)`); got != "true" {
			t.Fatalf("tier's row box is %s", got)
		}
		b.open("/users/"+u.ID, "#value-tier")
		if got := b.text("#ue-tier"); got != "the user may edit it too" {
			t.Fatalf("the user page says %q beside tier", got)
		}
		b.open("/fields", "#edit-tier")
		b.run("stop users editing tier",
			chromedp.Click(chromedp.ID("ue-tier")),
			chromedp.Submit(chromedp.ID("edit-tier")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		)
		if must[*client.Field](t)(in.admin().GetField(ctx, "default", "tier")).UserEditable {
			t.Fatal("the box was unticked, yet users may still edit tier")
		}
		b.open("/users/"+u.ID, "#value-tier")
		if got := b.text("#ue-tier"); got != "administrators only" {
			t.Fatalf("the user page says %q beside tier", got)
		}
		b.axe("console user (values)")
		b.run("set the value",
			chromedp.SetValue(chromedp.CSS("#v-tier"), "3"),
			chromedp.Submit(chromedp.ID("value-tier")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		)
		if v, ok := must[*client.User](t)(in.admin().GetUser(ctx, "default", u.ID)).CustomData["tier"].(float64); !ok || v != 3 {
			t.Fatal("the value set in the console is not the user's")
		}
		b.open("/fields/tier/delete", "#delete-form")
		b.axe("console field deletion")
		if n := b.eval(`document.getElementById("value-count").dataset.count`); n != "1" {
			t.Fatalf("the deletion page counts %s values, want 1", n)
		}
		b.run("delete the field", chromedp.Click(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("notice")))
		if _, err := in.admin().GetField(ctx, "default", "tier"); err == nil {
			t.Fatal("the field survived its deletion")
		}

		// Apps: create one and sign in with it.
		b.open("/apps", "#app-form")
		b.axe("console apps")
		b.run("create an app",
			chromedp.SetValue(chromedp.CSS("#a-name"), "Console RP"),
			chromedp.SetValue(chromedp.CSS("#a-type"), "web"),
			chromedp.SetValue(chromedp.CSS("#a-redirects"), "https://app.example.com/callback"),
			chromedp.Click(chromedp.ID("a-first")),
			chromedp.Submit(chromedp.ID("app-form")),
			chromedp.WaitVisible(chromedp.ID("secret")),
		)
		b.axe("console app created")
		appSecret, clientID := b.text("#secret"), b.text("#client-id")
		if len(appSecret) < 20 || clientID == "" {
			t.Fatalf("app secret %q, client id %q", appSecret, clientID)
		}
		rp := consoleRP(t, in, clientID, appSecret, "https://app.example.com/callback")
		_, idt := newBrowser(t, in).codeFlow(rp, nil, "ann@example.com", consolePassword)
		if idt.Subject != u.ID {
			t.Fatalf("the OIDC sign-in is for %q, want %q", idt.Subject, u.ID)
		}
		b.open("/apps/"+clientID, "#app-edit")
		b.axe("console app")
		screenshot(t, b.ctx, shots, "console-app.png")
		if strings.Contains(b.html(), appSecret) {
			t.Fatal("the app's page shows its secret again")
		}

		// Pipelines: a syntax error is refused; a domain rule refuses.
		b.open("/pipelines", "#pipeline-form")
		b.axe("console pipelines")
		broken := "async function pipe(user, context, callback) { if ( }"
		b.run("save a broken script",
			chromedp.SetValue(chromedp.CSS("#p-stage"), "pre-register"),
			chromedp.SetValue(chromedp.CSS("#p-name"), "No blocked.example"),
			chromedp.SetValue(chromedp.CSS("#p-script"), broken),
			chromedp.Submit(chromedp.ID("pipeline-form")),
			chromedp.WaitVisible(chromedp.ID("error")),
		)
		if got := b.eval(`document.getElementById("p-script").value`); got != broken {
			t.Fatalf("the refused editor holds %q", got)
		}
		if n := len(must[[]client.Pipeline](t)(in.admin().ListPipelines(ctx, "default", ""))); n != 0 {
			t.Fatalf("a broken script was stored (%d pipelines)", n)
		}
		b.run("save the rule",
			chromedp.SetValue(chromedp.CSS("#p-script"), `async function pipe(user, context, callback) {
  if ((user.email || "").toLowerCase().endsWith("@blocked.example")) {
    return callback(new Error("This domain may not register."))
  }
  callback(null, user, context)
}`),
			chromedp.Submit(chromedp.ID("pipeline-form")),
			chromedp.WaitVisible(chromedp.ID("try-form")),
		)
		b.run("test run",
			chromedp.SetValue(chromedp.CSS("#t-email"), "x@blocked.example"),
			chromedp.Submit(chromedp.ID("try-form")),
			chromedp.WaitVisible(chromedp.ID("trial-outcome")),
		)
		if got := b.text("#trial-outcome"); got != "rejected" {
			t.Fatalf("the test run says %q", got)
		}
		b.axe("console pipeline")
		screenshot(t, b.ctx, shots, "console-pipeline.png")
		_, err = in.client().RegisterByEmail(ctx, "eve@Blocked.example", "twenty-one characters", nil, nil)
		if ce := wantCode(t, err, api.CodePipelineRejected); ce.Message != "This domain may not register." {
			t.Fatalf("refusal %q", ce.Message)
		}
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "eve@fine.example", "twenty-one characters", nil, nil))

		// Webhooks: create, receive, redeliver, receive again.
		rcv := newReceiver(t, nil)
		rcv.mu.Lock()
		rcv.clock = in.Clock
		rcv.mu.Unlock()
		b.open("/webhooks", "#webhook-form")
		b.run("create a webhook",
			chromedp.SetValue(chromedp.CSS("#w-url"), rcv.srv.URL),
			chromedp.Click(chromedp.CSS(`input[value="user.registered"]`)),
			chromedp.Submit(chromedp.ID("webhook-form")),
			chromedp.WaitVisible(chromedp.ID("secret")),
		)
		b.axe("console webhook")
		whSecret := b.text("#secret")
		rcv.useSecret(whSecret)
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "hook@example.com", "twenty-one characters", nil, nil))
		first := rcv.waitEvents(t, 1)[0]
		var deliveryID string
		waitFor(t, "the delivery is recorded as delivered", func() bool {
			ds, err := in.admin().ListDeliveries(ctx, "default", client.DeliveryQuery{Status: "delivered"})
			if err == nil && len(ds) == 1 {
				deliveryID = ds[0].ID
			}
			return deliveryID != ""
		})
		b.open("/webhooks", "#deliveries")
		b.axe("console webhooks")
		screenshot(t, b.ctx, shots, "console-webhooks.png")
		if strings.Contains(b.html(), whSecret) {
			t.Fatal("the webhooks page shows the secret again")
		}
		b.run("open the delivery", chromedp.Click(chromedp.CSS("#deliveries a")), chromedp.WaitVisible(chromedp.ID("redeliver")))
		if id := b.text("#delivery-id"); id != deliveryID {
			t.Fatalf("delivery page of %q, want %q", id, deliveryID)
		}
		if body := b.text("#delivery-body"); !strings.Contains(body, "hook@example.com") {
			t.Fatalf("the delivery's body: %q", body)
		}
		b.run("redeliver", chromedp.Click(chromedp.ID("redeliver")), chromedp.WaitVisible(chromedp.ID("notice")))
		again := rcv.waitEvents(t, 1)[0]
		if again.ID != first.ID || again.Event.Type != api.EventUserRegistered {
			t.Fatalf("redelivered %q (%s), first %q", again.ID, again.Event.Type, first.ID)
		}
		b.open("/webhooks/deliveries/"+deliveryID, "#attempts")
		b.axe("console delivery")
		screenshot(t, b.ctx, shots, "console-delivery.png")

		// Audit log: filter by event.
		b.open("/audit", "#audit-filter")
		b.run("filter",
			chromedp.SetValue(chromedp.CSS("#a-event"), "admin.webhook.create"),
			chromedp.Click(chromedp.ID("filter")),
			chromedp.WaitVisible(chromedp.CSS(`#audit[data-event="admin.webhook.create"]`)),
		)
		rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#audit tbody tr td:nth-child(2)")].map(td => td.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0] != "admin.webhook.create" {
			t.Fatalf("filtered by admin.webhook.create: %q", rows)
		}
		b.axe("console audit log")
		screenshot(t, b.ctx, shots, "console-audit.png")

		// Signing keys: rotate with the confirmation.
		before := len(must[[]client.SigningKey](t)(in.admin().ListSigningKeys(ctx)))
		b.open("/keys", "#keys")
		b.run("rotate", chromedp.Click(chromedp.ID("rotate-key-confirm")), chromedp.Click(chromedp.ID("rotate-key")), chromedp.WaitVisible(chromedp.ID("notice")))
		if after := len(must[[]client.SigningKey](t)(in.admin().ListSigningKeys(ctx))); after != before+1 {
			t.Fatalf("%d keys after the rotation, %d before", after, before)
		}
		b.axe("console signing keys")
		screenshot(t, b.ctx, shots, "console-keys.png")

		// Pools: create and rename.
		b.open("/pools", "#pool-form")
		b.run("create a pool",
			chromedp.SetValue(chromedp.CSS("#np-id"), "second"),
			chromedp.SetValue(chromedp.CSS("#np-name"), "Second pool"),
			chromedp.Submit(chromedp.ID("pool-form")),
			chromedp.WaitVisible(chromedp.ID("rename-second")),
		)
		b.run("rename it",
			chromedp.SetValue(chromedp.CSS("#name-second"), "Renamed pool"),
			chromedp.Submit(chromedp.ID("rename-second")),
			chromedp.WaitVisible(chromedp.CSS(`#name-second[value="Renamed pool"]`)),
		)
		if p := must[*client.Pool](t)(in.admin().GetPool(ctx, "second")); p.Name != "Renamed pool" {
			t.Fatalf("the pool is named %q", p.Name)
		}
		b.axe("console pools")
		screenshot(t, b.ctx, shots, "console-pools.png")

		in.Outbox.noLeak(t, testAdminKey, appSecret, whSecret)
	})
}

// consoleRP is a relying party of an app made in the console.
func consoleRP(t *testing.T, in *instance, clientID, secret, redirect string) *relyingParty {
	t.Helper()
	ctx := context.Background()
	app := must[*client.App](t)(in.admin().GetApp(ctx, "default", clientID))
	rp := &relyingParty{in: in, issuer: oidcIssuer(in, "default"), app: app}
	p, err := gooidc.NewProvider(ctx, rp.issuer)
	if err != nil {
		t.Fatal(err)
	}
	rp.provider = p
	rp.conf = oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "profile", "email"}}
	rp.verifier = p.Verifier(&gooidc.Config{ClientID: clientID})
	return rp
}
