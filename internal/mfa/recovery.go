package mfa

import (
	"crypto/rand"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a user holds at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet has no letters easily mistaken for others (0/o, 1/l/i).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// recoveryLen is the characters of a code, about 50 bits: out of reach of
// guessing within the few attempts an MFA token allows.
const recoveryLen = 10

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, written
// "xxxxx-xxxxx".
func NewRecoveryCodes() []string {
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		b := make([]byte, recoveryLen)
		for j := range b {
			b[j] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		out[i] = string(b[:5]) + "-" + string(b[5:])
	}
	return out
}

// randIndex is uniform in [0, n) for n <= 256 (rejection sampling).
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// NormalizeRecoveryCode is the form a code is hashed in: lower case,
// without the dash and spaces a user may type. It says false for what
// cannot be a code.
func NormalizeRecoveryCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	c := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
	if len(c) != recoveryLen {
		return "", false
	}
	for _, r := range c {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
	}
	return c, true
}
