package password

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
)

// legacyHash is a single unsalted or salted digest (MD5, SHA-1, SHA-256,
// SHA-512), as older applications stored passwords. It is only ever read,
// to let such users in once; the first successful login replaces it.
// authpool takes it as a JSON object (after Logto's "legacy" form):
//
//	{"algorithm":"sha256","hash":"<hex or base64 digest>","salt":"<text>","pattern":"@salt@password"}
//
// algorithm is md5, sha1, sha256 or sha512. The digest is computed over
// pattern with "@salt" replaced by salt and "@password" by the password
// (both as UTF-8 text; every other character is literal). pattern must
// hold "@password" exactly once and "@salt" at most once; it defaults to
// "@password" without a salt and "@salt@password" with one. No other
// member is accepted.
type legacyHash struct {
	name   string
	newH   func() hash.Hash
	pieces []string // literal text, "\x00salt", "\x00password"
	salt   []byte
	digest []byte
}

func (l legacyHash) Algorithm() string { return "legacy-" + l.name }

func (l legacyHash) match(plain []byte) bool {
	h := l.newH()
	for _, p := range l.pieces {
		switch p {
		case "\x00salt":
			h.Write(l.salt)
		case "\x00password":
			h.Write(plain)
		default:
			h.Write([]byte(p))
		}
	}
	return subtle.ConstantTimeCompare(h.Sum(nil), l.digest) == 1
}

var legacyDigests = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
}

const (
	maxLegacySalt    = 256
	maxLegacyPattern = 128
)

func parseLegacy(s string) (Verifier, error) {
	const format = "legacy"
	var in struct {
		Algorithm string  `json:"algorithm"`
		Hash      string  `json:"hash"`
		Salt      string  `json:"salt"`
		Pattern   *string `json:"pattern"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return nil, malformed(format, `want {"algorithm","hash","salt","pattern"} and nothing else`)
	}
	newH, ok := legacyDigests[in.Algorithm]
	if !ok {
		return nil, malformed(format, "algorithm must be md5, sha1, sha256 or sha512")
	}
	if len(in.Salt) > maxLegacySalt {
		return nil, malformed(format, "salt longer than %d bytes", maxLegacySalt)
	}
	pattern := "@password"
	if in.Salt != "" {
		pattern = "@salt@password"
	}
	if in.Pattern != nil {
		pattern = *in.Pattern
	}
	if len(pattern) > maxLegacyPattern || strings.ContainsRune(pattern, 0) {
		return nil, malformed(format, "pattern longer than %d bytes or holding NUL", maxLegacyPattern)
	}
	pieces, nPw, nSalt := splitPattern(pattern)
	if nPw != 1 || nSalt > 1 {
		return nil, malformed(format, `pattern must hold "@password" once and "@salt" at most once`)
	}
	if nSalt == 0 && in.Salt != "" {
		return nil, malformed(format, `a salt needs "@salt" in the pattern`)
	}
	size := newH().Size()
	var digest []byte
	if len(in.Hash) == 2*size {
		if b, err := hex.DecodeString(in.Hash); err == nil {
			digest = b
		}
	}
	if digest == nil {
		if b, err := decodeB64(in.Hash); err == nil && len(b) == size {
			digest = b
		}
	}
	if digest == nil {
		return nil, malformed(format, "hash must be the %d-byte %s digest in hex or base64", size, in.Algorithm)
	}
	return legacyHash{name: in.Algorithm, newH: newH, pieces: pieces, salt: []byte(in.Salt), digest: digest}, nil
}

// splitPattern cuts pattern into literal text and the two placeholders.
func splitPattern(pattern string) (pieces []string, nPw, nSalt int) {
	var lit bytes.Buffer
	flush := func() {
		if lit.Len() > 0 {
			pieces = append(pieces, lit.String())
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		switch {
		case strings.HasPrefix(pattern[i:], "@password"):
			flush()
			pieces = append(pieces, "\x00password")
			nPw++
			i += len("@password")
		case strings.HasPrefix(pattern[i:], "@salt"):
			flush()
			pieces = append(pieces, "\x00salt")
			nSalt++
			i += len("@salt")
		default:
			lit.WriteByte(pattern[i])
			i++
		}
	}
	flush()
	return pieces, nPw, nSalt
}
