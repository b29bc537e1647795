package web

import (
	"os"
	"regexp"
	"testing"
)

// TestAccountKeysTranslated: every account.* key the account page's
// template names, and every notice the page may announce, has both
// languages (T would show the key itself).
func TestAccountKeysTranslated(t *testing.T) {
	b, err := os.ReadFile("templates/account.html")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"((?:account|signin|mfa|consent|error|common)\.[A-Za-z_.]+)"`)
	keys := re.FindAllStringSubmatch(string(b), -1)
	if len(keys) < 50 {
		t.Fatalf("found only %d keys: is the pattern still right?", len(keys))
	}
	for _, k := range keys {
		m, ok := texts[k[1]]
		if !ok || m[0] == "" || m[1] == "" {
			t.Errorf("key %q has no English and Chinese text", k[1])
		}
	}
	for k, m := range accountTexts {
		if m[0] == "" || m[1] == "" {
			t.Errorf("key %q lacks a language", k)
		}
	}
}
