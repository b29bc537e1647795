package password

import (
	"strconv"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash is a bcrypt hash ("$2a$", "$2b$" or "$2y$", cost, 22
// characters of salt and 31 of hash in bcrypt's base64), as OpenBSD,
// Auth0, Supabase, Ory and most PHP and Node systems write it. The three
// prefixes compute the same function for every password without 8-bit
// bugs; like OpenBSD, bcrypt uses the first 72 bytes of a password.
type bcryptHash struct{ hash []byte }

func (b bcryptHash) Algorithm() string { return "bcrypt" }

// match: bcrypt's comparison is constant time.
func (b bcryptHash) match(plain []byte) bool {
	return bcrypt.CompareHashAndPassword(b.hash, plain) == nil
}

func parseBcrypt(s string) (Verifier, error) {
	if len(s) != 60 {
		return nil, malformed("bcrypt", "a hash is 60 characters, not %d", len(s))
	}
	if s[6] != '$' || !isDigit(s[4]) || !isDigit(s[5]) {
		return nil, malformed("bcrypt", "the cost must be two digits")
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '/' || isDigit(c) || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')) {
			return nil, malformed("bcrypt", "character outside bcrypt's base64 alphabet")
		}
	}
	cost, _ := strconv.Atoi(s[4:6])
	if cost < minBcryptCost {
		return nil, malformed("bcrypt", "cost %d below the minimum %d", cost, minBcryptCost)
	}
	if cost > maxBcryptCost {
		return nil, tooCostly("bcrypt", "cost %d above the limit %d", cost, maxBcryptCost)
	}
	// The library's own parser has the last word on the salt and hash.
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return nil, malformed("bcrypt", "unreadable hash")
	}
	return bcryptHash{hash: []byte(s)}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
