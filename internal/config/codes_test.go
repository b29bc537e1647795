package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCodeSettingsLoad(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "twilio-token")
	if err := os.WriteFile(tokenFile, []byte("file-t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(map[string]string{
		"AUTHPOOL_CODE_SECRET":            strings.Repeat("s", 40),
		"AUTHPOOL_PHONE_DEFAULT_REGION":   "US",
		"AUTHPOOL_PUBLIC_URL":             "https://auth.example.com/",
		"AUTHPOOL_SMS":                    "twilio",
		"AUTHPOOL_TWILIO_ACCOUNT_SID":     "AC1",
		"AUTHPOOL_TWILIO_AUTH_TOKEN_FILE": tokenFile,
		"AUTHPOOL_TWILIO_FROM":            "+15005550006",
		"AUTHPOOL_MAILER":                 "smtp",
		"AUTHPOOL_SMTP_URL":               "smtps://u:p@mail.example.com",
		"AUTHPOOL_MAIL_FROM":              "Example <no-reply@example.com>",
		"AUTHPOOL_SMS_CODE_TTL":           "2m",
		"AUTHPOOL_CODE_MAX_ATTEMPTS":      "3",
		"AUTHPOOL_SMS_COUNTRY_PER_DAY":    "0",
		"AUTHPOOL_VERIFY_OLD_EMAIL":       "false",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.TwilioAuthToken != "file-t0ken" || c.PhoneDefaultRegion != "US" || c.PublicBase() != "https://auth.example.com" {
		t.Fatalf("loaded %+v", c.Codes)
	}
	s := c.InitialPoolSettings()
	if s.SMSCodeTTL != 2*time.Minute || s.CodeMaxAttempts != 3 || s.SMSCountryPerDay != 0 || s.VerifyOldEmail || !s.VerifyOldPhone || s.EmailCodeTTL != 10*time.Minute {
		t.Fatalf("initial pool settings %+v", s)
	}
}

func TestCodeSettingsDefaults(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Mailer != "console" || c.SMS != "console" || c.PhoneDefaultRegion != "CN" || c.PublicBase() != "http://127.0.0.1:8080" {
		t.Fatalf("defaults %+v", c.Codes)
	}
	c.Addr = "0.0.0.0:9000"
	if got := c.PublicBase(); got != "http://localhost:9000" {
		t.Fatalf("PublicBase for a wildcard address: %s", got)
	}
}

func TestCodeSettingsValidate(t *testing.T) {
	c := Default()
	c.CodeSecret = "short"
	c.PhoneDefaultRegion = "XX"
	c.PublicURL = "ftp://x"
	c.Mailer = "smtp"
	c.SMS = "http"
	c.SMSHTTPURL = "http://gw.example.com"
	c.SMSHTTPSecret = "tiny"
	c.CodeMaxAttempts = 0
	c.SMSIPPerHour = -1
	c.TemplateDir = filepath.Join(t.TempDir(), "missing")
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid settings accepted")
	}
	for _, want := range []string{"AUTHPOOL_CODE_SECRET", "AUTHPOOL_PHONE_DEFAULT_REGION", "AUTHPOOL_PUBLIC_URL", "AUTHPOOL_SMTP_URL",
		"AUTHPOOL_SMS_HTTP_SECRET", "AUTHPOOL_CODE_MAX_ATTEMPTS", "must not be negative", "AUTHPOOL_TEMPLATE_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report does not mention %s:\n%v", want, err)
		}
	}
	if _, err := Load(envOf(map[string]string{"AUTHPOOL_VERIFY_OLD_PHONE": "maybe", "AUTHPOOL_SMS_PHONE_PER_DAY": "ten"})); err == nil ||
		!strings.Contains(err.Error(), "AUTHPOOL_VERIFY_OLD_PHONE") || !strings.Contains(err.Error(), "AUTHPOOL_SMS_PHONE_PER_DAY") {
		t.Fatalf("malformed values: %v", err)
	}
	c = Default()
	c.SMS, c.Mailer = "pigeon", "fax"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "AUTHPOOL_SMS)") || !strings.Contains(err.Error(), "AUTHPOOL_MAILER") {
		t.Fatalf("unknown senders: %v", err)
	}
}
