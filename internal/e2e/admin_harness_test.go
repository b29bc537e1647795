package e2e

import (
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

// testAdminKey is the administrator key of adminConfig servers.
const testAdminKey = "test-admin-key-0123456789abcdef-0123456789"

// adminConfig is testConfig with a configured administrator key.
func adminConfig(dbURL string) config.Config {
	cfg := testConfig(dbURL)
	cfg.AdminKey = testAdminKey
	return cfg
}

// codeAdminConfig is codeConfig (sending limits a test lives with) with
// the administrator key.
func codeAdminConfig(dbURL string) config.Config {
	cfg := codeConfig(dbURL)
	cfg.AdminKey = testAdminKey
	return cfg
}

// admin returns a management client with the test administrator key.
func (in *instance) admin() *client.ManagementClient {
	return client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: testAdminKey, Timeout: 30 * time.Second})
}
