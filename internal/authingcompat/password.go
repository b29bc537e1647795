package authingcompat

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// keyPurpose names the password key in the store's transport keys.
const keyPurpose = "authing-password"

// loadKey returns the stored password key, generating and storing one on
// the first start. It uses the key the store returns rather than the one it
// generated, so replicas starting at once agree on one key. The key is
// separate from the token signing keys: a key that decrypts PKCS#1 v1.5 for
// anyone must never also sign.
func loadKey(ctx context.Context, ks KeyStore, now func() time.Time) (*rsa.PrivateKey, error) {
	k, err := ks.GetTransportKey(ctx, keyPurpose)
	if errors.Is(err, userpool.ErrNotFound) {
		// 2048 bits take passwords of up to 245 bytes, near the use
		// cases' own limit of 256.
		_, pemBytes, gerr := token.NewRSAKeyPEM()
		if gerr != nil {
			return nil, fmt.Errorf("authingcompat: password key: %w", gerr)
		}
		k, err = ks.EnsureTransportKey(ctx, &userpool.TransportKey{
			Purpose:    keyPurpose,
			PrivatePEM: pemBytes,
			CreatedAt:  now().UTC(),
		})
	}
	if err != nil {
		return nil, fmt.Errorf("authingcompat: load password key: %w", err)
	}
	priv, err := token.ParseRSAKeyPEM(k.PrivatePEM)
	if err != nil {
		return nil, fmt.Errorf("authingcompat: stored password key: %w", err)
	}
	return priv, nil
}

// publicPEM renders pub as the SDKs want it: SPKI ("PUBLIC KEY") PEM; the
// JS SDK's jsencrypt rejects the PKCS#1 form.
func publicPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("authingcompat: encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// password decodes a password field as the SDKs send it: RSA, PKCS#1 v1.5,
// standard base64, with the key of /api/v2/.well-known. A value that does
// not decrypt is taken as plaintext only when the pool allows it
// (PoolSettings.AllowPlaintextPassword); otherwise it is refused with 2016.
// "" stays "" (the use cases answer a missing password).
//
// Telling 2016 from the use cases' answers makes this a padding oracle for
// anyone with many requests; it is defence in depth behind TLS, as on
// Authing's service; request rate limits are what bound it.
func (s *Server) password(ctx context.Context, m auth.Meta, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if strings.HasPrefix(v, "sm2:") {
		// The JS SDK's SM2 mode; never a plaintext password by accident.
		return "", errSM2
	}
	if pw, ok := s.decrypt(v); ok {
		return pw, nil
	}
	pool, err := s.Auth.CurrentPool(ctx, m)
	if err != nil {
		return "", err
	}
	if pool.Settings.AllowPlaintextPassword {
		return v, nil
	}
	return "", errDecrypt
}

// maxShortBy is how many leading zero bytes a ciphertext may lack. The JS
// SDK's bundled jsencrypt writes the ciphertext as a big number, so one
// that starts with a zero byte (about 1 in 200) arrives a byte short, one
// in 50,000 or so two bytes short; it is padded back. More is not a
// ciphertext of ours.
const maxShortBy = 8

// decrypt reverses the SDKs' encryption; ok is false for anything else.
func (s *Server) decrypt(v string) (string, bool) {
	size := s.key.Size()
	if base64.StdEncoding.DecodedLen(len(v)) > size+3 {
		return "", false
	}
	ct, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(ct) > size || len(ct) < size-maxShortBy {
		return "", false
	}
	if len(ct) < size {
		ct = append(make([]byte, size-len(ct), size), ct...)
	}
	pt, err := rsa.DecryptPKCS1v15(nil, s.key, ct)
	if err != nil || !utf8.Valid(pt) {
		return "", false
	}
	return string(pt), true
}
