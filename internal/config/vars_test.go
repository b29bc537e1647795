package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryVariableHasAMeaning: the help lists every variable Load reads,
// each with a meaning, and no meaning is left for a variable that is gone.
func TestEveryVariableHasAMeaning(t *testing.T) {
	vars := Variables()
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
		if v.Meaning == "" {
			t.Errorf("%s has no meaning: add a line to meanings (meanings.go)", v.Name)
		}
		if v.Name != "AUTHPOOL_CONFIG" && v.FileKey == "" {
			t.Errorf("%s matches no json key of Config", v.Name)
		}
	}
	for n := range meanings {
		if !slices.Contains(names, n) {
			t.Errorf("meanings has %s, which Load does not read", n)
		}
	}
	// Every name written in Load's source is among them (the list comes
	// from running Load; this checks the recording sees them all).
	for _, file := range []string{"config.go", "codes.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\("(AUTHPOOL_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(names, m[1]) {
				t.Errorf("%s (read in %s) is not listed", m[1], file)
			}
		}
	}
	byName := map[string]Variable{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	for name, want := range map[string]string{
		"AUTHPOOL_ADDR": "127.0.0.1:8080", "AUTHPOOL_TOKEN_TTL": "360h", "AUTHPOOL_RATE_LIMIT_LOGIN": "300/1m",
		"AUTHPOOL_EMAIL_CODE_TTL": "10m", "AUTHPOOL_VERIFY_OLD_EMAIL": "true", "AUTHPOOL_PASSWORD_MEMORY_KIB": "19456",
		"AUTHPOOL_ADMIN_KEY": "", "AUTHPOOL_WEBHOOK_POLL_INTERVAL": "1s",
	} {
		if got := byName[name].Default; got != want {
			t.Errorf("default of %s = %q, want %q", name, got, want)
		}
	}
}

func TestUnknownVariables(t *testing.T) {
	got := Unknown([]string{
		"PATH", "AUTHPOOL_ADDR", "AUTHPOOL_ADMIN_KEY_FILE", "AUTHPOOL_ADMIN_URL",
		"AUTHPOOL_TOKN_TTL", "AUTHPOOL_DATABASE_URL_FLIE", "AUTHPOOL_LOGLEVEL",
	}, "AUTHPOOL_ADMIN_URL")
	want := []string{
		"AUTHPOOL_TOKN_TTL is not a setting and is ignored; did you mean AUTHPOOL_TOKEN_TTL?",
		"AUTHPOOL_DATABASE_URL_FLIE is not a setting and is ignored; did you mean AUTHPOOL_DATABASE_URL_FILE?",
		"AUTHPOOL_LOGLEVEL is not a setting and is ignored; did you mean AUTHPOOL_LOG_LEVEL?",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadReportsEveryProblem: every bad key and value of the file and
// every unparsable variable, in one error.
func TestLoadReportsEveryProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(file, []byte(`{"adress": "x", "tokenTtl": 5, "passwordMinLength": "ten", "issuer": "me"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"AUTHPOOL_CONFIG": file, "AUTHPOOL_PASSWORD_TIME": "two", "AUTHPOOL_LOG_LEVEL": "debug"}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{`unknown key "adress"; did you mean "addr"?`, "tokenTtl", "passwordMinLength", "AUTHPOOL_PASSWORD_TIME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if c.Issuer != "me" || c.LogLevel != "debug" {
		t.Errorf("the good values were not read: issuer %q, log level %q", c.Issuer, c.LogLevel)
	}
}

// TestReadReportsParseAndRangeErrors: a value that does not parse and a
// value out of range are reported together.
func TestReadReportsParseAndRangeErrors(t *testing.T) {
	_, err := Read(env(map[string]string{"AUTHPOOL_TOKEN_TTL": "soon", "AUTHPOOL_LOG_LEVEL": "loud", "AUTHPOOL_WEBHOOK_WORKERS": "-1"}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"AUTHPOOL_TOKEN_TTL", "AUTHPOOL_LOG_LEVEL", "AUTHPOOL_WEBHOOK_WORKERS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if _, err := Read(env(nil)); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
