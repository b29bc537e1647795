package password

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// firebaseHash is Firebase Authentication's modified scrypt. Firebase
// exports a user's passwordHash and salt; the project's hash config
// (Authentication > Users > Password hash parameters) holds the signer key,
// salt separator, rounds and memory cost. The hash is the signer key
// encrypted with AES-256-CTR (zero IV) under
// scrypt(password, salt‖separator, N=2^mem_cost, r=rounds, p=1, 32 bytes).
//
// authpool stores it as one string, every binary field in standard base64:
//
//	$firebase-scrypt$rounds=<r>,mem=<m>$<signer key>$<salt separator>$<salt>$<hash>
type firebaseHash struct {
	scryptHash
	signerKey, sep []byte
}

func (f firebaseHash) Algorithm() string { return "firebase-scrypt" }

func (f firebaseHash) match(plain []byte) bool {
	salt := append(append([]byte(nil), f.salt...), f.sep...)
	dk, err := scrypt.Key(plain, salt, f.n, f.r, f.p, 32)
	if err != nil {
		return false
	}
	block, err := aes.NewCipher(dk)
	if err != nil {
		return false
	}
	got := make([]byte, len(f.signerKey))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(got, f.signerKey)
	return subtle.ConstantTimeCompare(got, f.key) == 1
}

func parseFirebase(s string) (Verifier, error) {
	const format = "firebase-scrypt"
	parts := strings.Split(s, "$")
	if len(parts) != 7 || parts[0] != "" {
		return nil, malformed(format, "want $firebase-scrypt$rounds=..,mem=..$signerKey$saltSeparator$salt$hash")
	}
	ps := strings.Split(parts[2], ",")
	if len(ps) != 2 {
		return nil, malformed(format, "want rounds=..,mem=..")
	}
	rounds, ok1 := number(ps[0], "rounds=", 32)
	mem, ok2 := number(ps[1], "mem=", 32)
	if !ok1 || !ok2 {
		return nil, malformed(format, "bad rounds or mem")
	}
	if mem < 1 || mem > 31 {
		return nil, malformed(format, "mem (log2 N) %d out of range [1, 31]", mem)
	}
	// The derived hash is the encrypted signer key: check the hash's
	// length against the key's rather than against scrypt's key bounds.
	signer, err := decodeB64(parts[3])
	if err != nil || len(signer) < minKeyLen || len(signer) > 2*maxKeyLen {
		return nil, malformed(format, "signer key must be base64 of %d to %d bytes", minKeyLen, 2*maxKeyLen)
	}
	sep, err := decodeB64(parts[4])
	if err != nil || len(sep) > maxSaltLen {
		return nil, malformed(format, "salt separator must be base64 of at most %d bytes", maxSaltLen)
	}
	sc, err := newScrypt(format, 1<<mem, rounds, 1, parts[5])
	if err != nil {
		return nil, err
	}
	key, err := decodeB64(parts[6])
	if err != nil || len(key) != len(signer) {
		return nil, malformed(format, "hash must be base64 of the signer key's length")
	}
	sc.key = key
	return firebaseHash{scryptHash: sc, signerKey: signer, sep: sep}, nil
}
