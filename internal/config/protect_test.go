package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"300/1m": {300, time.Minute}, " 5/10s ": {5, 10 * time.Second}, "0": {}, "off": {},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "300", "x/1m", "0/1m", "-1/1m", "5/0s", "5/100ms", "5/forever"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

func TestLoadProtectionSettings(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(strings.Repeat("k", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte("second-app-secret-value"))
	c, err := Load(env(map[string]string{
		"AUTHPOOL_SECRET_FILE":            secretFile,
		"AUTHPOOL_APP_SECRETS":            "web:first-app-secret-value, api:sha256:" + hex.EncodeToString(hash[:]),
		"AUTHPOOL_RATE_LIMIT_LOGIN":       "10/30s",
		"AUTHPOOL_RATE_LIMIT_TOKEN_CHECK": "off",
		"AUTHPOOL_RATE_LIMIT_GRAPHQL":     "100/1m",
		"AUTHPOOL_AUDIT_RETENTION":        "720h",
		"AUTHPOOL_FORWARDED_HEADER":       "forwarded",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if string(c.Secret) != strings.Repeat("k", 40) || c.RateLimitLogin != (Rate{10, 30 * time.Second}) ||
		c.RateLimitTokenCheck != (Rate{}) || c.RateLimitRegister != Default().RateLimitRegister ||
		c.RateLimitGraphQL != (Rate{100, time.Minute}) ||
		c.AuditRetention != Duration(720*time.Hour) || c.ForwardedHeaderName() != "Forwarded" {
		t.Fatalf("loaded %+v", c)
	}
	apps, err := c.AppSecretHashes()
	if err != nil || len(apps) != 2 || apps["web"] != sha256.Sum256([]byte("first-app-secret-value")) || apps["api"] != hash {
		t.Fatalf("app secrets: %v %v", apps, err)
	}
	// Secrets never print.
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", c, c, c), slog.AnyValue(c.Secret).Resolve().String()} {
		if strings.Contains(s, "kkkk") || strings.Contains(s, "first-app-secret") {
			t.Fatalf("a secret printed: %s", s)
		}
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), "kkkk") || strings.Contains(string(b), "first-app-secret") {
		t.Fatalf("a secret marshalled: %s", b)
	}
}

func TestValidateProtectionSettings(t *testing.T) {
	c := Default()
	c.Secret = "short"
	c.AppSecrets = []Secret{"noseparator", ":empty-id-secret-123", "a:short", "b:sha256:abcd", "c:long-enough-secret-1", "c:long-enough-secret-2"}
	c.RateLimitLogin = Rate{Max: 5, Window: time.Millisecond}
	c.AuditRetention = -1
	c.ForwardedHeader = "X-Real-IP"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted bad settings")
	}
	for _, want := range []string{
		"AUTHPOOL_SECRET", "entry 1", "entry 2", `app "a"`, `app "b"`, `app "c" appears twice`,
		"AUTHPOOL_RATE_LIMIT_LOGIN", "AUTHPOOL_AUDIT_RETENTION", "AUTHPOOL_FORWARDED_HEADER",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "long-enough-secret") || strings.Contains(err.Error(), "empty-id-secret") {
		t.Fatalf("Validate error shows a secret: %v", err)
	}
	if _, err := Load(env(map[string]string{"AUTHPOOL_RATE_LIMIT_CAPTCHA": "lots"})); err == nil || !strings.Contains(err.Error(), "AUTHPOOL_RATE_LIMIT_CAPTCHA") {
		t.Fatalf("Load with a bad rate: %v", err)
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
