package userpool

import "testing"

func TestIdentifierKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		key   func(string) string
		in    []string
		equal bool
	}{
		{"username case and width", UsernameKey, []string{"Admin", "admin", "ADMIN", "ａｄｍｉｎ", "Ａｄｍｉｎ"}, true},
		{"username NFC and NFD", UsernameKey, []string{"café", "cafe\u0301", "CAFE\u0301"}, true},
		{"username Cyrillic а is another letter", UsernameKey, []string{"admin", "\u0430dmin"}, false},
		{"username zero-width space is not dropped", UsernameKey, []string{"admin", "ad\u200bmin"}, false},
		{"email case, width and IDNA", EmailKey, []string{"Bob@Bücher.Example", "bob@xn--bcher-kva.example", "ＢＯＢ@BÜCHER.example"}, true},
		{"email NFD local part", EmailKey, []string{"josé@example.com", "jose\u0301@example.com"}, true},
	} {
		first := tc.key(tc.in[0])
		for _, s := range tc.in[1:] {
			if got := tc.key(s) == first; got != tc.equal {
				t.Errorf("%s: key(%+q) = %+q, key(%+q) = %+q; equal %v, want %v", tc.name, tc.in[0], first, s, tc.key(s), got, tc.equal)
			}
		}
		// A key is its own key: the store may be handed either.
		for _, s := range tc.in {
			if k := tc.key(s); tc.key(k) != k {
				t.Errorf("%s: key(key(%+q)) = %+q, want %+q", tc.name, s, tc.key(k), k)
			}
		}
	}
	if UsernameKey("") != "" || EmailKey("") != "" {
		t.Error(`the key of "" must be "" (stored as NULL)`)
	}
}
