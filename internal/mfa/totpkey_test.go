package mfa

import (
	"testing"
	"time"
)

// TestTOTPKeyOf: the key drawn again from a secret is the same key (same
// secret, URI and codes); a secret that is not base32 is refused.
func TestTOTPKeyOf(t *testing.T) {
	k, err := NewTOTPKey("authpool", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	again, err := TOTPKeyOf("authpool", "ann@example.com", k.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret != k.Secret || again.URI != k.URI || len(again.QRPNG) == 0 {
		t.Fatalf("drawn again: %+v, want secret %s uri %s", again, k.Secret, k.URI)
	}
	code, err := Code(again.Secret, Step(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Match(k.Secret, code, time.Now()); !ok {
		t.Fatal("the code of the key drawn again does not match the original secret")
	}
	for _, bad := range []string{"", "not base32!", "1"} {
		if _, err := TOTPKeyOf("authpool", "x", bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}
