package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminKey(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := Load(env(map[string]string{"AUTHPOOL_ADMIN_KEY": "short"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "AUTHPOOL_ADMIN_KEY") {
		t.Fatalf("short key: %v", err)
	}

	path := filepath.Join(t.TempDir(), "key")
	key := strings.Repeat("k", 40)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(env(map[string]string{"AUTHPOOL_ADMIN_KEY_FILE": path}))
	if err != nil || c.AdminKey != key || c.Validate() != nil {
		t.Fatalf("key from file: %v %q %v", err, c.AdminKey, c.Validate())
	}

	cfgPath := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgPath, []byte(`{"adminKey": "`+key+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(env(map[string]string{"AUTHPOOL_CONFIG": cfgPath}))
	if err != nil || c.AdminKey != key {
		t.Fatalf("key from config file: %v %q", err, c.AdminKey)
	}
	if c := Default(); c.AdminKey != "" || c.Validate() != nil {
		t.Fatal("the default must generate a key (empty AdminKey) and be valid")
	}
}
