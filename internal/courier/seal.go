package courier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// Sealer encrypts job payloads with AES-256-GCM. The job's ID is the
// associated data, so a sealed payload copied onto another job does not
// open. Every replica derives the same key (see server.serverKey).
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer under a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("courier: the payload key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns a random nonce followed by the ciphertext of plain.
func (s *Sealer) Seal(id string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(id))
}

// errOpen hides why a payload did not open (wrong key, changed bytes,
// another job's payload).
var errOpen = errors.New("courier: the payload does not open under this server's key")

// Open returns the plain payload of job id.
func (s *Sealer) Open(id string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errOpen
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}
