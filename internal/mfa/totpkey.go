package mfa

import (
	"encoding/base32"
	"errors"
	"strings"
)

// TOTPKeyOf draws again what an authenticator app reads (URI, QR code) of
// an existing secret (base32, as TOTPKey.Secret): a page that asks an
// enrolment's first code again shows the same QR code.
func TOTPKeyOf(issuer, account, secret string) (*TOTPKey, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil || len(raw) == 0 {
		return nil, errors.New("mfa: not a base32 TOTP secret")
	}
	return totpKey(issuer, account, raw)
}
