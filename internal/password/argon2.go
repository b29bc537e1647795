package password

import (
	"crypto/subtle"

	"golang.org/x/crypto/argon2"
)

// argon2Hash is an argon2id or argon2i PHC string (version 19, the only
// one x/crypto implements, and the reference CLI's default) made by another
// system, as Ory Kratos, Logto or the reference argon2 CLI write it.
type argon2Hash struct {
	variant   string
	p         Params
	salt, key []byte
}

func (a argon2Hash) Algorithm() string { return a.variant }

func (a argon2Hash) match(plain []byte) bool {
	kdf := argon2.IDKey
	if a.variant == "argon2i" {
		kdf = argon2.Key
	}
	got := kdf(plain, a.salt, a.p.Time, a.p.Memory, a.p.Threads, a.p.KeyLen)
	return subtle.ConstantTimeCompare(got, a.key) == 1
}

// parseArgon2 reads the PHC grammar decode accepts for the pool's own
// hashes (and its bounds), and also holds memory × passes within
// maxArgon2Work: the pool's own parameters are the operator's choice,
// imported ones are not.
func parseArgon2(s string) (Verifier, error) {
	variant := "argon2id"
	if s[:len("$argon2i$")] == "$argon2i$" {
		variant = "argon2i"
	}
	p, salt, key, err := decodeVariant(s, variant)
	if err != nil {
		return nil, err
	}
	if uint64(p.Memory)*uint64(p.Time) > maxArgon2Work {
		return nil, tooCostly(variant, "memory × passes %d KiB above the limit %d", uint64(p.Memory)*uint64(p.Time), maxArgon2Work)
	}
	return argon2Hash{variant: variant, p: p, salt: salt, key: key}, nil
}
