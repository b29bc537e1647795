package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// The rules below decide which usernames and email addresses a new
// account may have (registration, administrators' creation, a changed
// username, a bound or changed address). Comparison is by key
// (userpool.UsernameKey, EmailKey), which already makes case, width and
// normalisation variants one identifier; these rules refuse what a key
// cannot make harmless:
//
//   - characters RFC 8264's IdentifierClass disallows: spaces, controls,
//     invisible (default-ignorable) ones such as the zero-width space and
//     joiner and the bidi controls, symbols and punctuation outside ASCII,
//     unassigned code points; and strings that break the Bidi Rule;
//   - a combining mark with no letter before it;
//   - a mix of scripts beyond UTS #39's "highly restrictive" level: one
//     script, or Latin with the Han, Kana, Bopomofo or Hangul a Chinese,
//     Japanese or Korean name uses (Common and Inherited characters, such as
//     digits and "._-+", go with any). A Latin name with a Cyrillic "а" in
//     it is refused; a name written wholly in Cyrillic is not. docs/SECURITY.md
//     says why.
//
// Lookups (logins, code sends, resets) do not apply them, so that an
// account created before them still logs in; a refused spelling just
// finds no account.

// identifierProblem returns why s may not be (the local part of) a new
// identifier, or "" when it may.
func identifierProblem(s string) string {
	key, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "must not contain spaces, control or invisible characters, or symbols outside ASCII"
	}
	if r, _ := utf8.DecodeRuneInString(key); unicode.Is(unicode.M, r) {
		return "must not start with a combining mark"
	}
	if !singleScript(key) {
		return "must not mix letters of different scripts (such as a Cyrillic letter in a Latin name)"
	}
	return ""
}

// domainProblem is identifierProblem for an email address's domain
// (lower-cased): an internationalised one must be valid IDNA for
// registration (which refuses invisible and unmapped characters), and each
// label must keep to the script rule. A label in punycode ("xn--") is one
// the key (userpool.EmailKey) treats as its Unicode form, so it is decoded
// and held to the same rules; one that does not decode, or that is not
// the canonical encoding of what it decodes to, is refused.
func domainProblem(domain string) string {
	const invalid = "domain is not a valid internationalised domain name"
	labels := strings.Split(domain, ".")
	for i, label := range labels {
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		u, err := idna.Registration.ToUnicode(label)
		if err != nil {
			return invalid
		}
		if back, err := idna.Registration.ToASCII(u); err != nil || back != label {
			return invalid
		}
		labels[i] = u
	}
	domain = strings.Join(labels, ".")
	if isASCII(domain) {
		return ""
	}
	if _, err := idna.Registration.ToASCII(domain); err != nil {
		return invalid
	}
	for _, label := range labels {
		if !singleScript(label) {
			return "domain must not mix letters of different scripts within a label"
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// The script sets UTS #39 (section 5.2, "highly restrictive") lets a
// single identifier combine.
var cjkScriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// singleScript reports whether s keeps to one script, or to one of the
// sets above, ignoring Common and Inherited characters. Scripts are the
// Unicode Script property of Go's unicode tables (not Script_Extensions,
// which only widens what Common characters may join).
func singleScript(s string) bool {
	var scripts []string
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				scripts = addScript(scripts, "Latin")
			}
			continue
		}
		if unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		scripts = addScript(scripts, scriptOf(r))
	}
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range cjkScriptSets {
		if subset(scripts, set) {
			return true
		}
	}
	return false
}

func addScript(scripts []string, name string) []string {
	for _, s := range scripts {
		if s == name {
			return scripts
		}
	}
	return append(scripts, name)
}

func subset(a, b []string) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// scriptOf names r's script; a code point of no script (unassigned, which
// PRECIS refuses anyway) is one of its own.
func scriptOf(r rune) string {
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return "Unknown"
}
