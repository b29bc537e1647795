package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestAdminCLINamedKeys drives `authpool admin admin-keys create|list|revoke`;
// the SDK checks that the printed key works, read-only, until revoked.
func TestAdminCLINamedKeys(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			out := mustCLI(t, url, "admin-keys", "create", "auditor", "-read-only")
			id := regexp.MustCompile(`(?m)^id\s+(\S+)$`).FindStringSubmatch(out)
			key := regexp.MustCompile(`(?m)^key\s+(apk_\S+)`).FindStringSubmatch(out)
			if id == nil || key == nil || !regexp.MustCompile(`(?m)^role\s+read-only$`).MatchString(out) {
				t.Fatalf("admin-keys create printed:\n%s", out)
			}
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: key[1]})
			if _, err := mc.ListPools(ctx); err != nil {
				t.Fatalf("the read-only key cannot read: %v", err)
			}
			if _, err := mc.CreatePool(ctx, client.CreatePoolRequest{Name: "nope"}); err == nil || !strings.Contains(err.Error(), "2018") {
				t.Fatalf("the read-only key changed something: %v", err)
			}
			out = mustCLI(t, url, "admin-keys", "list")
			if !strings.HasPrefix(out, "ID") || !regexp.MustCompile(`(?m)^`+id[1]+`\s+auditor\s+read-only\s+\S+\s+-$`).MatchString(out) || strings.Contains(out, key[1]) {
				t.Fatalf("admin-keys list printed:\n%s", out)
			}
			mustCLI(t, url, "admin-keys", "revoke", id[1])
			if _, err := mc.ListPools(ctx); err == nil {
				t.Fatal("a revoked key still reads")
			}
			if _, err := cli(t, url, "admin-keys", "revoke", id[1]); err == nil || !strings.Contains(err.Error(), "2004") && !strings.Contains(err.Error(), "not_found") {
				t.Fatalf("revoking twice: %v", err)
			}
		})
	}
}
