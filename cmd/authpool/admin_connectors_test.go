package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestAdminCLIConnectors drives `authpool admin connectors ...` against a
// real server: the secret comes from a file and is never printed; the
// SDK checks what the CLI made.
func TestAdminCLIConnectors(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})
			secretFile := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(secretFile, []byte("s3cr3t-value\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out := mustCLI(t, url, "connectors", "create", "corp", "-type", "oauth2", "-label", "Corp SSO", "-client-id", "cid",
				"-client-secret-file", secretFile, "-auth-url", "https://corp.example/auth", "-token-url", "https://corp.example/token",
				"-userinfo-url", "https://corp.example/me", "-claim", "subject=data.id", "-claim", "email=data.mail", "-scopes", "read,profile")
			if strings.Contains(out, "s3cr3t") || !regexp.MustCompile(`(?m)^client secret\s+stored \(never shown\)$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^callback url\s+http://127\.0\.0\.1:\d+/api/v1/social/callback  \(register it at the upstream\)$`).MatchString(out) {
				t.Fatalf("connectors create printed:\n%s", out)
			}
			c, err := mc.GetConnector(ctx, "default", "corp")
			if err != nil || c.Label != "Corp SSO" || !c.HasSecret || c.ClaimMap["email"] != "data.mail" || len(c.Scopes) != 2 || !c.Enabled {
				t.Fatalf("the CLI's connector: %+v %v", c, err)
			}
			if out := mustCLI(t, url, "connectors", "list"); !regexp.MustCompile(`corp\s+oauth2\s+Corp SSO\s+true`).MatchString(out) {
				t.Fatalf("connectors list printed:\n%s", out)
			}
			out = mustCLI(t, url, "connectors", "update", "corp", "-disabled", "-label", "Corp")
			if !regexp.MustCompile(`(?m)^enabled\s+false$`).MatchString(out) {
				t.Fatalf("connectors update printed:\n%s", out)
			}
			var got client.Connector
			if err := json.Unmarshal([]byte(mustCLI(t, url, "connectors", "get", "corp", "--json")), &got); err != nil || got.Enabled || got.Label != "Corp" || !got.HasSecret {
				t.Fatalf("connectors get --json: %v %+v", err, got)
			}
			if _, err := cli(t, url, "connectors", "create", "bad", "-type", "oidc", "-client-id", "x", "-issuer", "http://corp.example"); err == nil || !strings.Contains(err.Error(), "https") {
				t.Fatalf("an http issuer off loopback was accepted: %v", err)
			}
			mustCLI(t, url, "connectors", "delete", "corp")
			if _, err := mc.GetConnector(ctx, "default", "corp"); err == nil {
				t.Fatal("still there after delete")
			}
		})
	}
}
