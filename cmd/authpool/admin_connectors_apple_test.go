package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// TestCLIConnectorApple: an apple connector from the CLI, its .p8 key from
// a file (never printed), team and key ids from flags; a file that is not
// a P-256 key is refused.
func TestCLIConnectorApple(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			url := startServer(t, dbURL)
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			der, _ := x509.MarshalPKCS8PrivateKey(k)
			keyFile, badFile := filepath.Join(t.TempDir(), "AuthKey.p8"), filepath.Join(t.TempDir(), "bad.p8")
			if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(badFile, []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := cli(t, url, "connectors", "create", "apple", "-type", "apple", "-client-id", "com.example.signin",
				"-team-id", "TEAM123ABC", "-key-id", "KEY456DEF", "-client-secret-file", badFile); err == nil || !strings.Contains(err.Error(), ".p8") {
				t.Fatalf("a bad key: %v", err)
			}
			out := mustCLI(t, url, "connectors", "create", "apple", "-type", "apple", "-client-id", "com.example.signin",
				"-team-id", "TEAM123ABC", "-key-id", "KEY456DEF", "-client-secret-file", keyFile)
			if strings.Contains(out, "PRIVATE") || !strings.Contains(out, "TEAM123ABC / KEY456DEF / -") {
				t.Fatalf("connectors create printed:\n%s", out)
			}
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})
			c, err := mc.GetConnector(context.Background(), "default", "apple")
			if err != nil || c.TeamID != "TEAM123ABC" || c.KeyID != "KEY456DEF" || !c.HasSecret {
				t.Fatalf("the CLI's apple connector: %+v %v", c, err)
			}
			mustCLI(t, url, "connectors", "update", "apple", "-key-id", "KEY789")
			if c, _ := mc.GetConnector(context.Background(), "default", "apple"); c.KeyID != "KEY789" || c.TeamID != "TEAM123ABC" {
				t.Fatalf("after -key-id: %+v", c)
			}
		})
	}
}
