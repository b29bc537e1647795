package userpool

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of the branding settings.
const (
	MaxBrandDisplayName = 64
	MaxBrandLogoURL     = 1000
)

// CheckBranding says what is wrong with the branding settings ("" when
// nothing): a display name of at most 64 characters without control or
// format characters, a logo that is an absolute https URL of at most 1000
// bytes without user information or fragment, and a colour in #rrggbb
// form. The hosted pages put them in HTML and CSS, so only these shapes are
// accepted (html/template escapes them too).
func CheckBranding(name, logo, color string) string {
	var probs []string
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxBrandDisplayName || strings.IndexFunc(name, isControlOrFormat) >= 0 {
		probs = append(probs, "brandDisplayName must be at most 64 characters without control characters")
	}
	if logo != "" {
		u, err := url.Parse(logo)
		if len(logo) > MaxBrandLogoURL || err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
			!uriChars(logo) {
			probs = append(probs, "brandLogoURL must be an https URL of at most 1000 bytes")
		}
	}
	if color != "" && !isHexColor(color) {
		probs = append(probs, "brandPrimaryColor must be a colour such as #1a73e8")
	}
	return strings.Join(probs, "; ")
}

func isHexColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// MaxFrameAncestors bounds the frameAncestors setting: its sources and
// bytes.
const (
	MaxFrameAncestors      = 8
	MaxFrameAncestorsBytes = 512
)

// CheckFrameAncestors says what is wrong with a frameAncestors setting
// ("" when nothing): at most 8 space-separated sources, each 'self' or an
// origin https://host[:port] whose host may start with "*." (http only for
// localhost and 127.0.0.1, for development). The list goes verbatim into
// the pages' Content-Security-Policy header, so nothing else (no ';', no
// path, no other keyword) is accepted.
func CheckFrameAncestors(v string) string {
	const msg = "frameAncestors must be at most 8 space-separated sources, each 'self' or an origin such as https://app.example.com or https://*.example.com"
	if v == "" {
		return ""
	}
	srcs := strings.Fields(v)
	if len(v) > MaxFrameAncestorsBytes || len(srcs) == 0 || len(srcs) > MaxFrameAncestors || strings.Join(srcs, " ") != v {
		return msg
	}
	for _, src := range srcs {
		if src == "'self'" {
			continue
		}
		if !frameOrigin(src) {
			return msg
		}
	}
	return ""
}

func frameOrigin(src string) bool {
	scheme, rest, ok := strings.Cut(src, "://")
	if !ok || rest == "" {
		return false
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if hasPort && (port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return false
	}
	switch scheme {
	case "https":
	case "http":
		if host != "localhost" && host != "127.0.0.1" {
			return false
		}
	default:
		return false
	}
	host = strings.TrimPrefix(host, "*.")
	if host == "" || len(host) > 253 || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
