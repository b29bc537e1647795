package userpool

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Usernames and email addresses are compared by a key, not as spelled: two
// users of a pool never share a username key or an email key (the store's
// unique indexes), every lookup goes by the key, and the spelling a user
// gave is kept for display. The key is RFC 8265's UsernameCaseMapped
// profile (PRECIS): fullwidth and halfwidth forms mapped to their ordinary
// ones, lower-cased, NFC. So "Admin", "admin" and "ａｄｍｉｎ" are one
// name, and so are "café" written with a precomposed é (NFC) and with e
// followed by a combining acute accent (NFD).
//
// The keys are total: an identifier that PRECIS refuses (one stored before
// these rules, or a lookup with characters no account may have) gets the
// same mappings without the refusal, so that an old account can still be
// found and a refused spelling simply finds nobody. Which identifiers a new
// account may have is policy, in package auth.

// UsernameKey returns the key by which usernames are compared; "" for "".
func UsernameKey(name string) string {
	if name == "" {
		return ""
	}
	if k, err := precis.UsernameCaseMapped.String(name); err == nil {
		return k
	}
	return lenientKey(name)
}

// EmailKey returns the key by which email addresses are compared: the
// local part as UsernameKey, "@", and the domain in its lower-case ASCII
// (IDNA) form, so that "bücher.example" and "xn--bcher-kva.example" are one
// domain. "" for "".
func EmailKey(email string) string {
	if email == "" {
		return ""
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return lenientKey(email)
	}
	return UsernameKey(email[:at]) + "@" + DomainKey(email[at+1:])
}

// DomainKey returns the key of an email domain: lower-case ASCII, with
// Unicode labels in their IDNA (punycode) form.
func DomainKey(domain string) string {
	if a, err := idna.Lookup.ToASCII(domain); err == nil && a != "" {
		return strings.ToLower(a)
	}
	return lenientKey(domain)
}

// lenientKey applies the mappings of UsernameCaseMapped without its
// refusals.
func lenientKey(s string) string {
	t := transform.Chain(width.Fold, cases.Lower(language.Und, cases.HandleFinalSigma(false)), norm.NFC)
	k, _, err := transform.String(t, s)
	if err != nil {
		return strings.ToLower(s) // invalid UTF-8: nothing a user typed
	}
	return k
}
