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
