package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A Verifier checks passwords against one stored hash in a format other
// than the pool's own argon2id: a hash imported from another system. Parse
// makes one; Hasher.Verify uses it under the hashing semaphore and always
// asks for a rehash, so a foreign hash is replaced by argon2id at the first
// successful login.
type Verifier interface {
	// Algorithm names the format ("bcrypt", "scrypt", "firebase-scrypt",
	// "pbkdf2-sha256", "argon2i", "legacy-md5", ...), for reports.
	Algorithm() string
	// match derives plain's hash with the stored parameters and compares
	// it with the stored one in constant time. It is the expensive part.
	match(plain []byte) bool
}

// Errors Parse returns (wrapped, with the reason). Both wrap ErrMalformed:
// a stored string in an unknown format or beyond the cost limits is as
// unusable as a broken one.
var (
	ErrUnknownFormat = fmt.Errorf("%w: unknown format", ErrMalformed)
	ErrCostLimit     = fmt.Errorf("%w: over the cost limits", ErrMalformed)
)

// MaxHashLen bounds a stored hash of any format; Keycloak's credential JSON
// is the longest accepted form, a few hundred bytes.
const MaxHashLen = 2048

// Cost limits on foreign hashes. Each keeps one verification under about
// half a second on a current server core (measured: bcrypt cost 13 0.5 s,
// 14 1.2 s; scrypt N·r = 2^20 0.8 s; PBKDF2-SHA256 2,000,000 iterations
// 0.35 s), so a planted hash cannot make a login attempt cost seconds.
const (
	minBcryptCost = 4 // bcrypt's own minimum
	maxBcryptCost = 13
	// scrypt: N·r·p blocks of 128·r bytes work; N·r·128 bytes memory.
	maxScryptWork = 1 << 20
	// PBKDF2: iterations × output blocks (a 64-byte SHA-256 key is two
	// PBKDF2 blocks, each the full iteration count).
	maxPBKDF2Work = 3_000_000
	// argon2 (foreign): memory × passes, in KiB·passes (512 MiB·pass),
	// within the bounds of Params.Validate.
	maxArgon2Work = 512 * 1024
)

// Parse recognises a stored password hash, checks its parameters against
// the cost limits, and returns a Verifier for it. It accepts:
//
//   - the pool's own argon2id and foreign argon2id/argon2i PHC strings
//     ("$argon2id$v=19$m=..,t=..,p=..$salt$hash", "$argon2i$...");
//   - bcrypt ("$2a$", "$2b$", "$2y$");
//   - scrypt PHC ("$scrypt$ln=..,r=..,p=..$salt$hash") and Firebase's
//     scrypt variant ("$firebase-scrypt$..."), see firebase.go;
//   - PBKDF2 PHC ("$pbkdf2-sha256$i=..,l=..$salt$hash", also sha1/sha512
//     and passlib's "$pbkdf2-sha256$29000$..."), Django
//     ("pbkdf2_sha256$iterations$salt$hash", "pbkdf2_sha1$"), and
//     Keycloak's password credential JSON;
//   - legacy digests (MD5, SHA-1, SHA-256, SHA-512, salted or not) in the
//     JSON form of legacy.go.
//
// Errors wrap ErrUnknownFormat, ErrCostLimit or ErrMalformed and say why,
// without quoting the hash.
func Parse(hash string) (Verifier, error) {
	if len(hash) > MaxHashLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxHashLen)
	}
	// A stored hash is text: no NUL (PostgreSQL's text refuses it), no
	// other control character, valid UTF-8. Only the JSON forms may hold
	// the whitespace of pretty-printing.
	if !utf8.ValidString(hash) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	isJSON := strings.HasPrefix(hash, "{")
	for _, r := range hash {
		if (r < 0x20 || r == 0x7f) && !(isJSON && (r == '\n' || r == '\r' || r == '\t')) {
			return nil, fmt.Errorf("%w: control character", ErrMalformed)
		}
	}
	switch {
	case strings.HasPrefix(hash, "$argon2id$"), strings.HasPrefix(hash, "$argon2i$"):
		return parseArgon2(hash)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return parseBcrypt(hash)
	case strings.HasPrefix(hash, "$scrypt$"):
		return parseScrypt(hash)
	case strings.HasPrefix(hash, "$firebase-scrypt$"):
		return parseFirebase(hash)
	case strings.HasPrefix(hash, "$pbkdf2"):
		return parsePBKDF2PHC(hash)
	case strings.HasPrefix(hash, "pbkdf2_"):
		return parseDjango(hash)
	case strings.HasPrefix(hash, "{"):
		return parseJSON(hash)
	}
	return nil, fmt.Errorf("%w (expected argon2, bcrypt, scrypt, firebase-scrypt, pbkdf2, Django, Keycloak or legacy JSON)", ErrUnknownFormat)
}

// Check reports whether hash is a stored hash Parse accepts: what an
// import calls before storing one.
func Check(hash string) error {
	_, err := Parse(hash)
	return err
}

func malformed(format, why string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, format, fmt.Sprintf(why, args...))
}

func tooCostly(format, why string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCostLimit, format, fmt.Sprintf(why, args...))
}

// decodeB64 reads the base64 spellings foreign systems write: standard
// alphabet with or without padding, and passlib's "adapted" alphabet ('.'
// for '+'). Whitespace and line breaks are refused.
func decodeB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n \t") {
		return nil, errors.New("whitespace in base64")
	}
	s = strings.ReplaceAll(strings.TrimRight(s, "="), ".", "+")
	return base64.RawStdEncoding.DecodeString(s)
}

// jsonHash is the union of the JSON forms Parse accepts: Keycloak's
// credential (secretData, credentialData) and legacy digests.
func parseJSON(s string) (Verifier, error) {
	if strings.Contains(s, `"secretData"`) {
		return parseKeycloak(s)
	}
	return parseLegacy(s)
}
