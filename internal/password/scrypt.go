package password

import (
	"crypto/subtle"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// scryptHash is a scrypt hash: "$scrypt$ln=<n>,r=<r>,p=<p>$<salt>$<hash>"
// with base64 salt and hash (standard or passlib alphabet, padding
// optional). passlib writes ln as log2(N) ("ln=16"), Ory Kratos writes N
// itself ("ln=16384"); a value below 64 is read as log2(N), anything else
// must be N, a power of two.
type scryptHash struct {
	n, r, p   int
	salt, key []byte
}

func (s scryptHash) Algorithm() string { return "scrypt" }

func (s scryptHash) match(plain []byte) bool {
	got, err := scrypt.Key(plain, s.salt, s.n, s.r, s.p, len(s.key))
	return err == nil && subtle.ConstantTimeCompare(got, s.key) == 1
}

func parseScrypt(s string) (Verifier, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return nil, malformed("scrypt", "want $scrypt$ln=..,r=..,p=..$salt$hash")
	}
	var ln, r, p uint64
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[2], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || seen[k] {
			return nil, malformed("scrypt", "bad parameter list")
		}
		seen[k] = true
		switch k {
		case "ln":
			ln = n
		case "r":
			r = n
		case "p":
			p = n
		default:
			return nil, malformed("scrypt", "unknown parameter")
		}
	}
	if !seen["ln"] || !seen["r"] || !seen["p"] {
		return nil, malformed("scrypt", "ln, r and p are required")
	}
	nn := ln
	if ln < 64 {
		if ln < 1 || ln > 31 {
			return nil, malformed("scrypt", "log2(N) %d out of range [1, 31]", ln)
		}
		nn = 1 << ln
	} else if bits.OnesCount64(ln) != 1 {
		return nil, malformed("scrypt", "N must be a power of two")
	}
	v, err := newScrypt("scrypt", nn, r, p, parts[3])
	if err != nil {
		return nil, err
	}
	if v.key, err = decodeB64(parts[4]); err != nil || len(v.key) < minKeyLen || len(v.key) > maxKeyLen {
		return nil, malformed("scrypt", "hash must be base64 of %d to %d bytes", minKeyLen, maxKeyLen)
	}
	return v, nil
}

// newScrypt checks scrypt's parameters against the limits and decodes the
// salt.
func newScrypt(format string, n, r, p uint64, salt string) (scryptHash, error) {
	if r < 1 || p < 1 {
		return scryptHash{}, malformed(format, "r and p must be at least 1")
	}
	// Each factor is at most 2^32, so compare step by step without
	// overflowing.
	if n > maxScryptWork || r > maxScryptWork || p > maxScryptWork || n*r > maxScryptWork || n*r*p > maxScryptWork {
		return scryptHash{}, tooCostly(format, "N·r·p above the limit %d", maxScryptWork)
	}
	sb, err := decodeB64(salt)
	if err != nil || len(sb) > maxSaltLen {
		return scryptHash{}, malformed(format, "salt must be base64 of at most %d bytes", maxSaltLen)
	}
	return scryptHash{n: int(n), r: int(r), p: int(p), salt: sb}, nil
}
