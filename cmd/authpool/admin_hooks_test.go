package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestAdminCLIPipelinesAndWebhooks drives `authpool admin pipelines ...`
// and `authpool admin webhooks ...` against a real server; the SDK checks
// that what the CLI made is real.
func TestAdminCLIPipelinesAndWebhooks(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			dir := t.TempDir()
			script := filepath.Join(dir, "gate.js")
			if err := os.WriteFile(script, []byte(`async function pipe(user, context, callback) {
	console.log("checking " + user.email)
	if (!user.emailVerified) return callback(new Error("verify first: " + env.HINT))
	callback(null, user, context)
}
`), 0o600); err != nil {
				t.Fatal(err)
			}

			// pipelines create / list
			out := mustCLI(t, url, "pipelines", "create", "-stage", "post-authentication", "-name", "email gate", "-script-file", script, "-env", "HINT=see your mail", "-timeout", "2s")
			id := regexp.MustCompile(`(?m)^id\s+(\S+)`).FindStringSubmatch(out)
			if id == nil || !regexp.MustCompile(`(?m)^env\s+HINT$`).MatchString(out) || strings.Contains(out, "see your mail") || !strings.Contains(out, "console.log") {
				t.Fatalf("pipelines create printed:\n%s", out)
			}
			out = mustCLI(t, url, "pipelines", "list")
			if !regexp.MustCompile(`STAGE\s+ORDER\s+ID\s+NAME\s+KIND\s+ENABLED\s+TIMEOUT\npost-authentication\s+0\s+` + id[1] + `\s+email gate\s+script\s+true\s+2s\n`).MatchString(out) {
				t.Fatalf("pipelines list printed:\n%s", out)
			}
			var list []client.Pipeline
			if err := json.Unmarshal([]byte(mustCLI(t, url, "pipelines", "list", "--json", "-stage", "post-authentication")), &list); err != nil || len(list) != 1 || list[0].ID != id[1] {
				t.Fatalf("pipelines list --json: %v %+v", err, list)
			}
			// It is real: the login is refused with its message.
			c := client.NewAuthenticationClient(client.Options{AppHost: url})
			if _, err := c.RegisterByEmail(ctx, "cli@example.com", "passw0rd!", nil, nil); err != nil {
				t.Fatal(err)
			}
			_, err := c.LoginByEmail(ctx, "cli@example.com", "passw0rd!", nil)
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Code != 1020 || ce.Message != "verify first: see your mail" {
				t.Fatalf("login under the CLI's pipeline: %v", err)
			}
			if out := mustCLI(t, url, "pipelines", "logs", id[1]); !regexp.MustCompile(`post-authentication\s+rejected\s+\d+\s+verify first: see your mail\s+checking cli@example.com`).MatchString(out) {
				t.Fatalf("pipelines logs printed:\n%s", out)
			}
			sample := filepath.Join(dir, "sample.json")
			if err := os.WriteFile(sample, []byte(`{"user": {"email": "ok@example.com", "emailVerified": true}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if out := mustCLI(t, url, "pipelines", "try", id[1], "-sample-file", sample); !regexp.MustCompile(`outcome\s+accepted`).MatchString(out) || !strings.Contains(out, "checking ok@example.com") {
				t.Fatalf("pipelines try printed:\n%s", out)
			}
			if out := mustCLI(t, url, "pipelines", "disable", id[1]); !strings.Contains(out, "enabled: false") {
				t.Fatalf("pipelines disable printed:\n%s", out)
			}
			if _, err := c.LoginByEmail(ctx, "cli@example.com", "passw0rd!", nil); err != nil {
				t.Fatalf("login with the pipeline disabled: %v", err)
			}
			if _, err := cli(t, url, "pipelines", "create", "-stage", "during-login", "-name", "x", "-script-file", script); err == nil || !strings.Contains(err.Error(), "1003") {
				t.Fatalf("create with a bad stage: %v", err)
			}

			// webhooks create / list
			out = mustCLI(t, url, "webhooks", "create", "-endpoint", "https://hooks.example.com/in", "-events", "user.registered,user.login")
			secret := regexp.MustCompile(`(?m)^secret\s+(whsec_\S+)`).FindStringSubmatch(out)
			wid := regexp.MustCompile(`(?m)^id\s+(\S+)`).FindStringSubmatch(out)
			if secret == nil || wid == nil || !regexp.MustCompile(`(?m)^events\s+user.login, user.registered$`).MatchString(out) {
				t.Fatalf("webhooks create printed:\n%s", out)
			}
			out = mustCLI(t, url, "webhooks", "list")
			if !regexp.MustCompile(`ID\s+ENABLED\s+EVENTS\s+URL\s+CREATED\n`+wid[1]+`\s+true\s+user.login,user.registered\s+https://hooks.example.com/in\s`).MatchString(out) || strings.Contains(out, "whsec_") {
				t.Fatalf("webhooks list printed:\n%s", out)
			}
			var subs []client.WebhookSubscription
			if err := json.Unmarshal([]byte(mustCLI(t, url, "--json", "webhooks", "list")), &subs); err != nil || len(subs) != 1 || subs[0].Secret != "" {
				t.Fatalf("webhooks list --json: %v %+v", err, subs)
			}
			// Its events are queued for delivery.
			if _, err := c.RegisterByEmail(ctx, "hooked@example.com", "passw0rd!", nil, nil); err != nil {
				t.Fatal(err)
			}
			out = mustCLI(t, url, "webhooks", "deliveries", "-webhook", wid[1])
			if !regexp.MustCompile(`\smsg_[0-9a-f]+:` + wid[1] + `\s+user.registered\s`).MatchString(out) {
				t.Fatalf("webhooks deliveries printed:\n%s", out)
			}
			if _, err := cli(t, url, "webhooks", "create", "-endpoint", "https://hooks.example.com/in", "-events", "user.exploded"); err == nil || !strings.Contains(err.Error(), "1003") {
				t.Fatalf("create with an unknown event: %v", err)
			}
			mustCLI(t, url, "webhooks", "delete", wid[1])
			if out := mustCLI(t, url, "webhooks", "list"); strings.Contains(out, wid[1]) {
				t.Fatalf("deleted webhook listed:\n%s", out)
			}
		})
	}
}
