package auth

import (
	"testing"

	"github.com/authpool/authpool/internal/userpool"
)

func TestPasswordPolicy(t *testing.T) {
	s := &Service{}
	set := userpool.DefaultPoolSettings()
	ids := identitiesOf(&userpool.User{Email: "Ada.Lovelace@example.com", Phone: "+15555550100", Profile: userpool.Profile{Username: "ada"}})
	for pw, want := range map[string]string{
		"short":                 "password_too_short",
		"xx-ADA-xx-1815":        "password_contains_identity",
		"ada.lovelace1815":      "password_contains_identity",
		"my15555550100pw":       "password_contains_identity",
		"PASSWORD1":             "password_too_common",
		"sunshine":              "password_too_common",
		"\xff\xfe-invalid-utf8": "password_invalid",
		"correct horse battery": "",
		"passw0rd!":             "",
	} {
		got := ""
		if err := s.checkPassword(set, pw, ids...); err != nil {
			e := userpool.AsError(err)
			if e.Code != userpool.CodePasswordTooWeak {
				t.Fatalf("%q: code %d", pw, e.Code)
			}
			got = e.Reason
		}
		if got != want {
			t.Errorf("checkPassword(%q) = %q, want %q", pw, got, want)
		}
	}
	set.PasswordRejectCommon = false
	if err := s.checkPassword(set, "sunshine"); err != nil {
		t.Errorf("common password refused with the rule off: %v", err)
	}
	// Identifiers shorter than 3 characters do not count.
	if containsIdentity("albatross", []string{"al", "", "b"}) {
		t.Error("a two-letter identifier blocked a password")
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", "::ffff:192.0.2.1": "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2::9": "2001:db8:1:2::/64",
		"not-an-ip": "not-an-ip",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}
