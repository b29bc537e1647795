package config

import (
	"strings"
	"testing"
	"time"
)

func TestSigningKeySettings(t *testing.T) {
	if d := Default(); d.SigningKeyLeadTime != Duration(time.Hour) || d.SigningKeyRotation != 0 {
		t.Fatalf("defaults: lead %v, rotation %v; want 1h and off", d.SigningKeyLeadTime, d.SigningKeyRotation)
	}
	c, err := Load(env(map[string]string{
		"AUTHPOOL_SIGNING_KEY_LEAD_TIME": "10m",
		"AUTHPOOL_SIGNING_KEY_ROTATION":  "720h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SigningKeyLeadTime != Duration(10*time.Minute) || c.SigningKeyRotation != Duration(720*time.Hour) {
		t.Fatalf("loaded lead %v, rotation %v", c.SigningKeyLeadTime, c.SigningKeyRotation)
	}
	for _, tc := range []struct {
		lead, rotation time.Duration
		want           string
	}{
		{0, 0, "AUTHPOOL_SIGNING_KEY_LEAD_TIME"},
		{-time.Hour, 0, "AUTHPOOL_SIGNING_KEY_LEAD_TIME"},
		{5*time.Minute - time.Second, 0, "AUTHPOOL_SIGNING_KEY_LEAD_TIME"},
		{time.Hour, time.Minute, "AUTHPOOL_SIGNING_KEY_ROTATION"},
		{time.Hour, -time.Hour, "AUTHPOOL_SIGNING_KEY_ROTATION"},
		{3 * time.Hour, 2 * time.Hour, "AUTHPOOL_SIGNING_KEY_ROTATION"},
	} {
		c := Default()
		c.SigningKeyLeadTime, c.SigningKeyRotation = Duration(tc.lead), Duration(tc.rotation)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("lead %v, rotation %v: %v; want an error naming %s", tc.lead, tc.rotation, err, tc.want)
		}
	}
}
