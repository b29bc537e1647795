package httpapi

import (
	"crypto/sha256"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"

	"github.com/authpool/authpool/api"
)

func TestForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   []string
	}{
		{[]string{`for=192.0.2.60;proto=http;by=203.0.113.43`}, []string{"192.0.2.60"}},
		{[]string{`For="[2001:db8:cafe::17]:4711"`}, []string{"[2001:db8:cafe::17]:4711"}},
		{[]string{`for=192.0.2.43, for=198.51.100.17`}, []string{"192.0.2.43", "198.51.100.17"}},
		{[]string{`for=192.0.2.43`, `for=198.51.100.17;by="x,y"`}, []string{"192.0.2.43", "198.51.100.17"}},
		{[]string{`for="_gazonk"`, `proto=https`}, []string{"_gazonk", ""}},
		{[]string{`for="a\"b,c";host=x`}, []string{`a"b,c`}},
		{[]string{``, ` , `}, nil},
	} {
		if got := forwardedFor(tc.values); !slices.Equal(got, tc.want) {
			t.Errorf("forwardedFor(%q) = %q, want %q", tc.values, got, tc.want)
		}
	}
}

func TestParseNode(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", " 192.0.2.1 ": "192.0.2.1", "192.0.2.1:80": "192.0.2.1",
		"[2001:db8::1]": "2001:db8::1", "[2001:db8::1]:443": "2001:db8::1", "2001:db8::1": "2001:db8::1",
		"::ffff:192.0.2.1": "192.0.2.1",
		"unknown":          "", "_hidden": "", "": "", "[2001:db8::1]x": "", "fe80::1%eth0": "", "300.1.1.1": "",
	} {
		a, ok := parseNode(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("parseNode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppSecret(t *testing.T) {
	s := &Server{Deps: Deps{
		Log:            slog.New(slog.DiscardHandler),
		AppSecrets:     map[string][sha256.Size]byte{"app": sha256.Sum256([]byte("right-secret-0123"))},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}}
	for _, tc := range []struct {
		name, id, secret, remote, claim, want string
	}{
		{"right secret", "app", "right-secret-0123", "192.0.2.1:5", "198.51.100.1", "198.51.100.1"},
		{"wrong secret", "app", "wrong-secret-0123", "192.0.2.1:5", "198.51.100.1", "192.0.2.1"},
		{"unknown app", "other", "right-secret-0123", "192.0.2.1:5", "198.51.100.1", "192.0.2.1"},
		{"no secret", "app", "", "192.0.2.1:5", "198.51.100.1", "192.0.2.1"},
		{"trusted CIDR", "", "", "10.1.1.1:5", "198.51.100.1", "198.51.100.1"},
		{"claim is not an address", "app", "right-secret-0123", "192.0.2.1:5", "me", "192.0.2.1"},
		{"claim with a zone", "app", "right-secret-0123", "192.0.2.1:5", "fe80::1%eth0", "fe80::1"},
		{"mapped claim", "", "", "10.1.1.1:5", "::ffff:198.51.100.2", "198.51.100.2"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.id != "" {
			r.Header.Set(api.HeaderAppID, tc.id)
		}
		if tc.secret != "" {
			r.Header.Set(api.HeaderAppSecret, tc.secret)
		}
		if got := s.meta(r, tc.claim).ClientIP; got != tc.want {
			t.Errorf("%s: client IP %s, want %s", tc.name, got, tc.want)
		}
	}
}
