package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestAdminCLIApps drives `authpool admin apps ...` against a real
// server; the SDK checks that what the CLI made is real.
func TestAdminCLIApps(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})

			out := mustCLI(t, url, "apps", "create", "-name", "Shop", "-type", "web", "-redirect-uris", "https://shop.example.com/cb, https://shop.example.com/cb2",
				"-scopes", "openid,email,orders:read", "-access-ttl", "15m", "-first-party")
			id := regexp.MustCompile(`(?m)^id\s+([0-9a-f]{32})$`).FindStringSubmatch(out)
			secret := regexp.MustCompile(`(?m)^client secret\s+(apcs_\S+)  \(shown this once: keep it\)$`).FindStringSubmatch(out)
			if id == nil || secret == nil || !regexp.MustCompile(`(?m)^scopes\s+email openid orders:read$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^token lifetimes\s+access 15m, id 1h, refresh 720h$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^first party\s+true$`).MatchString(out) {
				t.Fatalf("apps create printed:\n%s", out)
			}
			a, err := mc.GetApp(ctx, "default", id[1])
			if err != nil || a.Name != "Shop" || len(a.RedirectURIs) != 2 || a.RedirectURIs[1] != "https://shop.example.com/cb2" || !a.FirstParty || a.AccessTokenTTL != "15m" {
				t.Fatalf("the CLI's app: %+v %v", a, err)
			}

			out = mustCLI(t, url, "apps", "list")
			if !regexp.MustCompile(`ID\s+TYPE\s+NAME\s+FIRST PARTY\s+REDIRECT URIS\s+CREATED\n` + id[1] + `\s+web\s+Shop\s+true\s+https://shop.example.com/cb,https://shop.example.com/cb2\s`).MatchString(out) {
				t.Fatalf("apps list printed:\n%s", out)
			}
			var list []client.App
			if err := json.Unmarshal([]byte(mustCLI(t, url, "apps", "list", "--json")), &list); err != nil || len(list) != 1 || list[0].ID != id[1] || list[0].ClientSecret != "" {
				t.Fatalf("apps list --json: %v %+v", err, list)
			}
			if out := mustCLI(t, url, "apps", "get", id[1]); strings.Contains(out, "apcs_") || !strings.Contains(out, "Shop") {
				t.Fatalf("apps get printed:\n%s", out)
			}

			out = mustCLI(t, url, "apps", "update", id[1], "-name", "Shop 2", "-logout-uris", "https://shop.example.com/bye", "-first-party=false", "-redirect-uris", "https://shop.example.com/only")
			if !regexp.MustCompile(`(?m)^name\s+Shop 2$`).MatchString(out) || !regexp.MustCompile(`(?m)^logout uris\s+https://shop.example.com/bye$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^first party\s+false$`).MatchString(out) || strings.Contains(out, "client secret") {
				t.Fatalf("apps update printed:\n%s", out)
			}
			if a, _ := mc.GetApp(ctx, "default", id[1]); a.Name != "Shop 2" || a.FirstParty || len(a.RedirectURIs) != 1 || a.AccessTokenTTL != "15m" {
				t.Fatalf("after update: %+v", a)
			}

			var rot client.App
			if err := json.Unmarshal([]byte(mustCLI(t, url, "apps", "rotate-secret", id[1], "--json")), &rot); err != nil ||
				!strings.HasPrefix(rot.ClientSecret, "apcs_") || rot.ClientSecret == secret[1] {
				t.Fatalf("apps rotate-secret --json: %v %+v", err, rot)
			}

			// Refusals carry the server's code and message.
			if _, err := cli(t, url, "apps", "create", "-name", "X", "-type", "web", "-redirect-uris", "javascript:alert(1)"); err == nil || !strings.Contains(err.Error(), "1003") || !strings.Contains(err.Error(), "invalid_redirect_uri") {
				t.Fatalf("create with a javascript: URI: %v", err)
			}
			if _, err := cli(t, url, "apps", "create", "-name", "X", "-type", "server"); err == nil || !strings.Contains(err.Error(), "invalid_app_type") {
				t.Fatalf("create with a bad type: %v", err)
			}
			if _, err := cli(t, url, "apps", "update", id[1], "-type", "spa"); err == nil || !strings.Contains(err.Error(), "-type does not apply") {
				t.Fatalf("update -type: %v", err)
			}
			if _, err := cli(t, url, "apps", "get", "0123456789abcdef0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "1004") {
				t.Fatalf("get a missing app: %v", err)
			}

			if out := mustCLI(t, url, "apps", "delete", id[1]); !strings.Contains(out, "application "+id[1]+" deleted") {
				t.Fatalf("apps delete printed:\n%s", out)
			}
			if l, err := mc.ListApps(ctx, "default"); err != nil || len(l) != 0 {
				t.Fatalf("after delete: %+v %v", l, err)
			}
			if out := mustCLI(t, url, "help"); !strings.Contains(out, "apps rotate-secret <appId>") {
				t.Fatalf("help lacks the apps commands:\n%s", out)
			}
		})
	}
}
