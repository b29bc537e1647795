package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
)

// pbkdf2Hash is PBKDF2 with HMAC-SHA1, -SHA256 or -SHA512, read from any
// of three spellings:
//
//   - PHC, as Ory Kratos writes it: "$pbkdf2-sha256$i=<iter>,l=<keylen>$<salt>$<hash>"
//     (also "$pbkdf2-sha1$", "$pbkdf2-sha512$"), or as passlib writes it:
//     "$pbkdf2-sha256$<iter>$<salt>$<hash>" ("$pbkdf2$" is SHA-1), base64
//     in the standard or passlib alphabet;
//   - Django: "pbkdf2_sha256$<iter>$<salt>$<hash>" ("pbkdf2_sha1$"), where
//     the salt is used as the text it is and the hash is standard base64;
//   - Keycloak's password credential as a realm export holds it (see
//     parseKeycloak).
type pbkdf2Hash struct {
	name      string
	newHash   func() hash.Hash
	iter      int
	salt, key []byte
}

func (p pbkdf2Hash) Algorithm() string { return p.name }

func (p pbkdf2Hash) match(plain []byte) bool {
	got, err := pbkdf2.Key(p.newHash, string(plain), p.salt, p.iter, len(p.key))
	return err == nil && subtle.ConstantTimeCompare(got, p.key) == 1
}

// pbkdf2Digests maps the digest names the three spellings use.
var pbkdf2Digests = map[string]struct {
	fn   func() hash.Hash
	size int
}{
	"sha1":   {sha1.New, sha1.Size},
	"sha256": {sha256.New, sha256.Size},
	"sha512": {sha512.New, sha512.Size},
}

// newPBKDF2 checks the work (iterations × output blocks) and lengths.
func newPBKDF2(format, digest string, iter uint64, salt, key []byte) (Verifier, error) {
	d, ok := pbkdf2Digests[digest]
	if !ok {
		return nil, malformed(format, "unsupported digest (sha1, sha256 or sha512)")
	}
	if iter < 1 {
		return nil, malformed(format, "iterations must be at least 1")
	}
	if len(salt) > maxSaltLen {
		return nil, malformed(format, "salt longer than %d bytes", maxSaltLen)
	}
	if len(key) < minKeyLen || len(key) > 2*maxKeyLen {
		return nil, malformed(format, "hash must be %d to %d bytes", minKeyLen, 2*maxKeyLen)
	}
	blocks := uint64((len(key) + d.size - 1) / d.size)
	if iter > maxPBKDF2Work || iter*blocks > maxPBKDF2Work {
		return nil, tooCostly(format, "iterations × blocks above the limit %d", maxPBKDF2Work)
	}
	return pbkdf2Hash{name: "pbkdf2-" + digest, newHash: d.fn, iter: int(iter), salt: salt, key: key}, nil
}

func parsePBKDF2PHC(s string) (Verifier, error) {
	const format = "pbkdf2"
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return nil, malformed(format, "want $pbkdf2-<digest>$i=..,l=..$salt$hash")
	}
	digest := "sha1"
	if parts[1] != "pbkdf2" {
		var ok bool
		if digest, ok = strings.CutPrefix(parts[1], "pbkdf2-"); !ok {
			return nil, malformed(format, "unknown variant")
		}
	}
	var iter, keyLen uint64
	if n, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
		iter = n // passlib: the bare iteration count
	} else {
		seen := map[string]bool{}
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || seen[k] || (k != "i" && k != "l") {
				return nil, malformed(format, "bad parameter list")
			}
			seen[k] = true
			if k == "i" {
				iter = n
			} else {
				keyLen = n
			}
		}
		if !seen["i"] {
			return nil, malformed(format, "i (iterations) is required")
		}
	}
	salt, err := decodeB64(parts[3])
	if err != nil {
		return nil, malformed(format, "salt is not base64")
	}
	key, err := decodeB64(parts[4])
	if err != nil {
		return nil, malformed(format, "hash is not base64")
	}
	if keyLen != 0 && keyLen != uint64(len(key)) {
		return nil, malformed(format, "l=%d does not match the hash's %d bytes", keyLen, len(key))
	}
	return newPBKDF2(format, digest, iter, salt, key)
}

func parseDjango(s string) (Verifier, error) {
	const format = "django"
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return nil, malformed(format, "want pbkdf2_<digest>$iterations$salt$hash")
	}
	digest, _ := strings.CutPrefix(parts[0], "pbkdf2_")
	iter, ok := number(parts[1], "", 32)
	if !ok {
		return nil, malformed(format, "bad iteration count")
	}
	if parts[2] == "" {
		return nil, malformed(format, "empty salt")
	}
	key, err := decodeB64(parts[3])
	if err != nil {
		return nil, malformed(format, "hash is not base64")
	}
	return newPBKDF2(format, digest, iter, []byte(parts[2]), key)
}

// parseKeycloak reads a password credential of a Keycloak realm export or
// of its admin API: an object whose secretData and credentialData are
// themselves JSON in strings,
//
//	{"type":"password",
//	 "secretData":"{\"value\":\"<base64 hash>\",\"salt\":\"<base64 salt>\",\"additionalParameters\":{}}",
//	 "credentialData":"{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}
//
// Other members (id, createdDate, userLabel, priority) are ignored. The
// algorithms are "pbkdf2" (SHA-1), "pbkdf2-sha256" and "pbkdf2-sha512";
// Keycloak's argon2 credentials are refused.
func parseKeycloak(s string) (Verifier, error) {
	const format = "keycloak"
	var cred struct {
		Type           string `json:"type"`
		SecretData     string `json:"secretData"`
		CredentialData string `json:"credentialData"`
	}
	if err := json.Unmarshal([]byte(s), &cred); err != nil {
		return nil, malformed(format, "not a credential object")
	}
	if cred.Type != "" && cred.Type != "password" {
		return nil, malformed(format, "credential type is not password")
	}
	var secret struct {
		Value string `json:"value"`
		Salt  string `json:"salt"`
	}
	var data struct {
		HashIterations uint64 `json:"hashIterations"`
		Algorithm      string `json:"algorithm"`
	}
	if err := json.Unmarshal([]byte(cred.SecretData), &secret); err != nil {
		return nil, malformed(format, "secretData is not JSON with value and salt")
	}
	if err := json.Unmarshal([]byte(cred.CredentialData), &data); err != nil {
		return nil, malformed(format, "credentialData is not JSON with hashIterations and algorithm")
	}
	var digest string
	switch data.Algorithm {
	case "pbkdf2":
		digest = "sha1"
	case "pbkdf2-sha256":
		digest = "sha256"
	case "pbkdf2-sha512":
		digest = "sha512"
	default:
		return nil, malformed(format, "algorithm must be pbkdf2, pbkdf2-sha256 or pbkdf2-sha512")
	}
	salt, err := decodeB64(secret.Salt)
	if err != nil || len(salt) == 0 {
		return nil, malformed(format, "salt is not base64")
	}
	key, err := decodeB64(secret.Value)
	if err != nil {
		return nil, malformed(format, "value is not base64")
	}
	return newPBKDF2(format, digest, data.HashIterations, salt, key)
}
