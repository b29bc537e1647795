package config

import (
	"strings"
	"testing"
)

func TestCORSOrigins(t *testing.T) {
	env := map[string]string{"AUTHPOOL_CORS_ORIGINS": " https://app.example.com, http://localhost:3000 "}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid origins refused: %v", err)
	}
	if len(c.CORSOrigins) != 2 || c.CORSOrigins[0] != "https://app.example.com" || c.CORSOrigins[1] != "http://localhost:3000" {
		t.Fatalf("origins %q", c.CORSOrigins)
	}
	for _, bad := range []string{"*", "https://*.example.com", "app.example.com", "https://app.example.com/", "https://App.example.com", "ftp://x", "https://", "https://a.com/path"} {
		c := Default()
		c.CORSOrigins = []string{bad}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "AUTHPOOL_CORS_ORIGINS") {
			t.Errorf("origin %q: want a validation error naming AUTHPOOL_CORS_ORIGINS, got %v", bad, err)
		}
	}
}
