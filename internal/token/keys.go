package token

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

const (
	// alg is the only signature algorithm issued and accepted.
	alg = "RS256"
	// keyBits is the size of generated keys; stored keys may be larger but
	// not smaller.
	keyBits = 2048
)

// generateKey makes a new RSA signing key in the stored form. Its kid is
// the key's RFC 7638 thumbprint.
func generateKey(now time.Time) (*userpool.SigningKey, error) {
	priv, pemBytes, err := NewRSAKeyPEM()
	if err != nil {
		return nil, fmt.Errorf("token: signing key: %w", err)
	}
	return &userpool.SigningKey{
		ID:         thumbprint(&priv.PublicKey),
		Algorithm:  alg,
		PrivatePEM: pemBytes,
		CreatedAt:  now.UTC(),
		SignsFrom:  now.UTC(),
	}, nil
}

// parseKey turns a stored key into an RSA private key, refusing anything
// this package would not have generated itself: a weak or foreign key in
// the store must stop startup rather than sign tokens.
func parseKey(k *userpool.SigningKey) (*rsa.PrivateKey, error) {
	if k.ID == "" {
		return nil, errors.New("empty kid")
	}
	if k.Algorithm != alg {
		return nil, fmt.Errorf("algorithm %q, want %s", k.Algorithm, alg)
	}
	return ParseRSAKeyPEM(k.PrivatePEM)
}

// NewRSAKeyPEM generates an RSA key of 2048 bits and returns it with its
// PKCS#8 PEM encoding, the form authpool stores keys in (signing keys
// here, the Authing transport's password key elsewhere).
func NewRSAKeyPEM() (*rsa.PrivateKey, []byte, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate RSA key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode RSA key: %w", err)
	}
	return priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseRSAKeyPEM reads a key NewRSAKeyPEM made, strictly: one PKCS#8 PEM
// block, nothing after it, an RSA key of at least 2048 bits. A weak or
// foreign key in the store must stop startup rather than be used.
func ParseRSAKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PKCS#8 PEM block")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("trailing data after the PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", key)
	}
	if n := priv.N.BitLen(); n < keyBits {
		return nil, fmt.Errorf("RSA key of %d bits, want at least %d", n, keyBits)
	}
	return priv, nil
}

// b64url is the JOSE encoding of binary values.
var b64url = base64.RawURLEncoding

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256) of pub. The member
// order and the absence of whitespace are part of the definition.
func thumbprint(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(fmt.Appendf(nil, `{"e":"%s","kty":"RSA","n":"%s"}`,
		b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		b64url.EncodeToString(pub.N.Bytes())))
	return b64url.EncodeToString(sum[:])
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// jwks renders the public halves of keys as a JWK Set (RFC 7517).
func jwks(ids []string, keys map[string]*rsa.PublicKey) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(ids))}
	for _, id := range ids {
		pub := keys[id]
		set.Keys = append(set.Keys, jwk{
			Kty: "RSA", Kid: id, Use: "sig", Alg: alg,
			N: b64url.EncodeToString(pub.N.Bytes()),
			E: b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	return json.Marshal(set)
}

// publicPEM renders pub as an SPKI ("PUBLIC KEY") PEM block.
func publicPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
