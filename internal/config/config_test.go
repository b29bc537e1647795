package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DatabaseURL != "sqlite:authpool.db" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "authpool.json")
	if err := os.WriteFile(file, []byte(`{"addr": "0.0.0.0:9000", "tokenTtl": "2h", "passwordMinLength": 10}`), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "db-url")
	if err := os.WriteFile(secret, []byte("postgres://u:p@db/authpool\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{
		"AUTHPOOL_CONFIG":            file,
		"AUTHPOOL_ADDR":              "127.0.0.1:7000", // env wins over the file
		"AUTHPOOL_DATABASE_URL_FILE": secret,
		"AUTHPOOL_WEBHOOK_BACKOFF":   "250ms",
		"AUTHPOOL_WEBHOOK_WORKERS":   "0",
		"AUTHPOOL_MESSAGE_WORKERS":   "2",
		"AUTHPOOL_MESSAGE_BACKOFF":   "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || time.Duration(c.TokenTTL) != 2*time.Hour || c.PasswordMinLength != 10 ||
		c.DatabaseURL != "postgres://u:p@db/authpool" || time.Duration(c.WebhookBackoff) != 250*time.Millisecond || c.WebhookWorkers != 0 ||
		c.MessageWorkers != 2 || time.Duration(c.MessageBackoff) != 3*time.Second || c.MessageMaxAttempts != 5 {
		t.Fatalf("loaded: %+v", c)
	}
	if s := c.InitialPoolSettings(); s.TokenTTL != 2*time.Hour || s.PasswordMinLength != 10 {
		t.Fatalf("initial pool settings: %+v", s)
	}
}

func TestLoadRejectsUnknownFileKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	_ = os.WriteFile(file, []byte(`{"adress": "x"}`), 0o600)
	if _, err := Load(env(map[string]string{"AUTHPOOL_CONFIG": file})); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestValidateReportsEverything: one call names every bad setting.
func TestValidateReportsEverything(t *testing.T) {
	c, err := Load(env(map[string]string{
		"AUTHPOOL_TOKEN_TTL": "soon",
	}))
	if err == nil || !strings.Contains(err.Error(), "AUTHPOOL_TOKEN_TTL") {
		t.Fatalf("bad duration: %v", err)
	}
	c = Default()
	c.Addr = ""
	c.DatabaseURL = "mysql://x"
	c.TokenTTL = Duration(time.Second)
	c.PasswordTime = 0
	c.LogLevel = "loud"
	c.LogFormat = "xml"
	c.TrustedProxies = []string{"10.0.0.0/8", "not-a-cidr"}
	c.PipelineTimeout = Duration(time.Minute)
	c.WebhookWorkers = -1
	c.WebhookMaxAttempts = 0
	c.WebhookBackoff = Duration(2 * time.Hour)
	c.WebhookTimeout = 0
	c.WebhookPollInterval = 0
	c.MessageWorkers = 300
	c.MessageMaxAttempts = 0
	c.MessageBackoff = Duration(2 * time.Minute)
	c.MessageTimeout = 0
	c.MessagePollInterval = 0
	err = c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"AUTHPOOL_ADDR", "AUTHPOOL_DATABASE_URL", "AUTHPOOL_TOKEN_TTL", "AUTHPOOL_PASSWORD_MEMORY_KIB", "AUTHPOOL_LOG_LEVEL", "AUTHPOOL_LOG_FORMAT", "not-a-cidr",
		"AUTHPOOL_PIPELINE_TIMEOUT", "AUTHPOOL_WEBHOOK_WORKERS", "AUTHPOOL_WEBHOOK_MAX_ATTEMPTS", "AUTHPOOL_WEBHOOK_BACKOFF", "AUTHPOOL_WEBHOOK_TIMEOUT", "AUTHPOOL_WEBHOOK_POLL_INTERVAL",
		"AUTHPOOL_MESSAGE_WORKERS", "AUTHPOOL_MESSAGE_MAX_ATTEMPTS", "AUTHPOOL_MESSAGE_BACKOFF", "AUTHPOOL_MESSAGE_TIMEOUT", "AUTHPOOL_MESSAGE_POLL_INTERVAL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestSessionCacheValues(t *testing.T) {
	for _, tc := range []struct {
		db, mode string
		ok       bool
	}{
		{"sqlite:a.db", "off", true},
		{"postgres://u@db/a", "off", true},
		{"postgres://u@db/a", "listen", true},
		{"postgresql://u@db/a", "listen", true},
		{"sqlite:a.db", "listen", false},
		{"postgres://u@db/a", "", false},
		{"postgres://u@db/a", "LISTEN", false},
		{"postgres://u@db/a", "listen\x00", false},
	} {
		c := Default()
		c.DatabaseURL, c.SessionCache = tc.db, tc.mode
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s with sessionCache %q: %v, want ok=%v", tc.db, tc.mode, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "AUTHPOOL_SESSION_CACHE") {
			t.Errorf("%s with sessionCache %q: %v does not name the variable", tc.db, tc.mode, err)
		}
	}
}
