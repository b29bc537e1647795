package userpool

import (
	"strings"
	"testing"
)

func TestCheckFrameAncestors(t *testing.T) {
	// At the byte limit: 8 sources, 512 bytes; one byte more is refused.
	src := func(n int) string { return "https://" + strings.Repeat("a", n-len("https://.com")) + ".com" }
	list := strings.TrimSpace(strings.Repeat(src(63)+" ", 7)) + " " + src(64)
	if len(list) != MaxFrameAncestorsBytes || CheckFrameAncestors(list) != "" {
		t.Errorf("%d bytes refused", len(list))
	}
	longer := strings.TrimSpace(strings.Repeat(src(63)+" ", 7)) + " " + src(65)
	if len(longer) != MaxFrameAncestorsBytes+1 || CheckFrameAncestors(longer) == "" {
		t.Errorf("%d bytes accepted", len(longer))
	}
	for _, ok := range []string{"", "'self'", "https://app.example.com", "https://*.example.com:8443 'self'", "http://localhost:3000",
		"http://127.0.0.1", strings.TrimSpace(strings.Repeat("https://a.example.com ", 8))} {
		if p := CheckFrameAncestors(ok); p != "" {
			t.Errorf("%q refused: %s", ok, p)
		}
	}
	for _, bad := range []string{"*", "'none' https://a.example.com", "'unsafe-inline'", "https://a.example.com;script-src *", "https://a.example.com,https://b.example.com",
		"http://evil.example.com", "https://a.example.com/path", "https://", "https://a.example.com:", "https://a.example.com:123456", "https://A.example.com",
		"https://a..example.com", "https://*.", "data:", "javascript:alert(1)", " https://a.example.com", "https://a.example.com  'self'",
		"https://a.example.com\t'self'", strings.Repeat("https://a.example.com ", 9), "https://" + strings.Repeat("a", 600) + ".com"} {
		if p := CheckFrameAncestors(bad); p == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}
