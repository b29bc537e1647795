package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestAdminCLISigningKeys drives `authpool admin keys list|rotate`; the
// SDK and the JWKS check that the rotation is real.
func TestAdminCLISigningKeys(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			url := startServer(t, dbURL)
			row := regexp.MustCompile(`(?m)^(\S+)\s+RS256\s+(next|current|previous|retired)\s+(\S+)\s+(\S+)\s+(\S+)$`)
			out := mustCLI(t, url, "keys", "list")
			rows := row.FindAllStringSubmatch(out, -1)
			if !strings.HasPrefix(out, "KID") || len(rows) != 1 || rows[0][2] != "current" || rows[0][5] != "-" {
				t.Fatalf("keys list printed:\n%s", out)
			}
			current := rows[0][1]

			out = mustCLI(t, url, "keys", "rotate")
			kid := regexp.MustCompile(`(?m)^kid\s+(\S+)$`).FindStringSubmatch(out)
			if kid == nil || kid[1] == current || !regexp.MustCompile(`(?m)^state\s+next$`).MatchString(out) ||
				strings.Contains(out, "PRIVATE") {
				t.Fatalf("keys rotate printed:\n%s", out)
			}
			// It is real: the server publishes the new key beside the old.
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})
			keys, err := mc.ListSigningKeys(context.Background())
			if err != nil || len(keys) != 2 || keys[0].Kid != current || keys[1].Kid != kid[1] || keys[1].State != client.KeyNext {
				t.Fatalf("ListSigningKeys after the CLI rotated: %v %+v", err, keys)
			}
			resp, err := http.Get(url + "/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			jwks := string(body)
			if !strings.Contains(jwks, `"kid":"`+current+`"`) || !strings.Contains(jwks, `"kid":"`+kid[1]+`"`) {
				t.Fatalf("JWKS after rotating: %s", jwks)
			}

			out = mustCLI(t, url, "keys", "list")
			rows = row.FindAllStringSubmatch(out, -1)
			if len(rows) != 2 || rows[0][2] != "current" || rows[1][1] != kid[1] || rows[1][2] != "next" {
				t.Fatalf("keys list after rotating printed:\n%s", out)
			}
			var list []client.SigningKey
			if err := json.Unmarshal([]byte(mustCLI(t, url, "keys", "list", "--json")), &list); err != nil || len(list) != 2 || list[1].Kid != kid[1] {
				t.Fatalf("keys list --json: %v %+v", err, list)
			}
			// A second rotation while the new key waits is refused.
			if _, err := cli(t, url, "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "1410") {
				t.Fatalf("second keys rotate: %v; want code 1410", err)
			}
			if _, err := cli(t, url, "keys", "list", "extra"); err == nil {
				t.Fatal("keys list with an argument: no error")
			}
		})
	}
}
