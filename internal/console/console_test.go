package console

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/internal/web"
)

// TestEveryKeyHasTexts: every catalogue key a template or a handler uses
// has an English and a Chinese text (its own, or internal/web's), and the
// two differ from the key itself.
func TestEveryKeyHasTexts(t *testing.T) {
	used := map[string]bool{}
	tmplKey := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	goKey := regexp.MustCompile(`T\(c\.lang, "([a-z0-9_.]+)"\)|"((?:nav|overview|done)\.[a-z0-9_]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") || f == "i18n.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = true
		}
	}
	for k := range done {
		used["done."+k] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys: the scan is broken", len(used))
	}
	for k := range used {
		en, zh := T(web.LangEN, k), T(web.LangZH, k)
		if en == k || zh == k || en == zh && !strings.Contains(en, "ID") {
			t.Errorf("key %q: en %q, zh-CN %q", k, en, zh)
		}
	}
}

// TestForeign: which requests count as coming from another origin.
func TestForeign(t *testing.T) {
	for _, tc := range []struct {
		origin, site string
		want         bool
	}{
		{"", "", false},            // not a browser page
		{"", "same-origin", false}, // the console's own form
		{"http://console.test", "same-origin", false},
		{"http://CONSOLE.test", "", false}, // host compared without case
		{"http://evil.test", "", true},
		{"http://console.test.evil.test", "", true},
		{"null", "", true}, // sandboxed frame, data: URL
		{"", "cross-site", true},
		{"", "same-site", true},                     // another subdomain
		{"", "none", true},                          // typed into the address bar: never a change
		{"http://console.test", "cross-site", true}, // Sec-Fetch-Site wins
	} {
		r, _ := newRequest("POST", "http://console.test/console/signin")
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if got := foreign(r); got != tc.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: foreign = %v, want %v", tc.origin, tc.site, got, tc.want)
		}
	}
}

func newRequest(method, target string) (*http.Request, error) {
	return http.NewRequest(method, target, nil)
}
