// Package token issues and verifies the signed JWTs that authenticate users,
// and publishes the public keys that verify them (JWKS).
//
// Keys live in the store so that every replica signs and verifies with the
// same ones; the first replica to start generates a key and the others adopt
// it. Keys are parsed once, at construction: verification runs on every
// authenticated request and never touches the store.
//
// A valid token only proves that authpool issued it for a session; whether
// that session is still alive (not logged out) is the caller's check.
package token

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authpool/authpool/internal/userpool"
)

// Errors of Verify. Every failure is exactly one of them, so callers can map
// them to "token expired" and "token invalid" answers with errors.Is.
var (
	// ErrExpired means a token authpool signed, that is otherwise valid, has
	// passed its expiry.
	ErrExpired = errors.New("token: expired")
	// ErrInvalid means the token is not one authpool would accept: malformed,
	// not signed by one of its keys with RS256, for another issuer, or
	// missing a required claim.
	ErrInvalid = errors.New("token: invalid")
)

// maxTokenLen bounds the work spent on a hostile Authorization header; our
// tokens are well under 1 KiB.
const maxTokenLen = 8 << 10

// Claims is what a token says. Times have one-second precision on the wire.
type Claims struct {
	Subject   string // user id ("sub")
	SessionID string // "sid"
	PoolID    string // "pool", also sent as "userPoolId"
	Issuer    string // "iss"
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// KeyStore is the part of userpool.Store that holds signing keys.
type KeyStore interface {
	SigningKeys(ctx context.Context) ([]*userpool.SigningKey, error)
	AddSigningKeyIfNone(ctx context.Context, k *userpool.SigningKey) ([]*userpool.SigningKey, error)
}

// Manager issues and verifies tokens. It is immutable after NewManager and
// safe for concurrent use.
type Manager struct {
	issuer string
	now    func() time.Time
	parser *jwt.Parser

	signKID string
	signKey *rsa.PrivateKey
	keys    map[string]*rsa.PublicKey // by kid; every stored key verifies

	jwks      []byte
	publicPEM string

	// verified remembers tokens whose signature and shape were checked, so
	// that the same token checked again (every request of a session) costs
	// a map lookup instead of an RSA verification. Only expiry depends on
	// time and is checked on every hit; the bytes of a token cannot change
	// their signature's validity, and keys are never removed while the
	// process runs.
	verified verifiedCache
}

// NewManager loads the signing keys from ks, generating and storing an
// RSA-2048 key when there is none. It uses the keys the store returns rather
// than the one it generated, so replicas starting at once agree on one key.
// The newest key signs; all keys verify. now is the clock for issuing and
// for expiry (time.Now when nil).
func NewManager(ctx context.Context, ks KeyStore, issuer string, now func() time.Time) (*Manager, error) {
	if issuer == "" {
		return nil, errors.New("token: empty issuer")
	}
	if now == nil {
		now = time.Now
	}
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: load signing keys: %w", err)
	}
	if len(stored) == 0 {
		k, err := generateKey(now())
		if err != nil {
			return nil, err
		}
		if stored, err = ks.AddSigningKeyIfNone(ctx, k); err != nil {
			return nil, fmt.Errorf("token: store signing key: %w", err)
		}
		if len(stored) == 0 {
			return nil, errors.New("token: store returned no signing key after adding one")
		}
	}

	m := &Manager{
		issuer: issuer,
		now:    now,
		keys:   make(map[string]*rsa.PublicKey, len(stored)),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{alg}),
			jwt.WithStrictDecoding(),
			// Claims are checked by Verify itself, after the signature, so
			// that it can tell expired from invalid unambiguously.
			jwt.WithoutClaimsValidation(),
		),
	}
	var newest *userpool.SigningKey
	ids := make([]string, 0, len(stored))
	for _, k := range stored {
		priv, err := parseKey(k)
		if err != nil {
			return nil, fmt.Errorf("token: signing key %q: %w", k.ID, err)
		}
		if _, dup := m.keys[k.ID]; dup {
			return nil, fmt.Errorf("token: two signing keys with kid %q", k.ID)
		}
		m.keys[k.ID] = &priv.PublicKey
		// The store lists oldest first; on equal times the later one wins.
		if newest == nil || !k.CreatedAt.Before(newest.CreatedAt) {
			newest, m.signKey = k, priv
		}
		ids = append(ids, k.ID)
	}
	m.signKID = newest.ID

	// The signing key goes first in the JWKS: clients that naively take the
	// first key then pick the one in use.
	order := []string{m.signKID}
	for _, id := range ids {
		if id != m.signKID {
			order = append(order, id)
		}
	}
	if m.jwks, err = jwks(order, m.keys); err != nil {
		return nil, fmt.Errorf("token: render JWKS: %w", err)
	}
	if m.publicPEM, err = publicPEM(&m.signKey.PublicKey); err != nil {
		return nil, fmt.Errorf("token: render public key: %w", err)
	}
	return m, nil
}

// payload is the JWT claims set on the wire. "userPoolId" and "data" repeat
// the pool and user for Authing compatibility: its JS SDK reads data.id from
// the decoded token without asking the server.
type payload struct {
	jwt.RegisteredClaims
	SessionID  string       `json:"sid"`
	PoolID     string       `json:"pool"`
	UserPoolID string       `json:"userPoolId"`
	Data       *payloadData `json:"data,omitempty"`
}

type payloadData struct {
	ID         string `json:"id"`
	UserPoolID string `json:"userPoolId"`
}

// Issue signs c with the newest key. Subject, SessionID and ExpiresAt are
// required; Issuer defaults to the manager's and may not differ from it;
// IssuedAt defaults to now. A token Verify would reject is an error here.
func (m *Manager) Issue(c Claims) (string, error) {
	if c.Subject == "" || c.SessionID == "" {
		return "", errors.New("token: issue: subject and session id are required")
	}
	if c.Issuer == "" {
		c.Issuer = m.issuer
	} else if c.Issuer != m.issuer {
		return "", fmt.Errorf("token: issue: issuer %q, this manager verifies only %q", c.Issuer, m.issuer)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = m.now()
	}
	if !c.ExpiresAt.After(c.IssuedAt) {
		return "", errors.New("token: issue: expiry must be after issue time")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, payload{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			Issuer:    c.Issuer,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
		SessionID:  c.SessionID,
		PoolID:     c.PoolID,
		UserPoolID: c.PoolID,
		Data:       &payloadData{ID: c.Subject, UserPoolID: c.PoolID},
	})
	t.Header["kid"] = m.signKID
	s, err := t.SignedString(m.signKey)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return s, nil
}

// Verify checks tokenString and returns its claims. Errors match exactly one
// of ErrInvalid and ErrExpired with errors.Is. On ErrExpired the claims are
// returned too, for messages only: the token proves nothing any more. A
// token is expired from the second of its "exp" on (RFC 7519), by the
// manager's clock.
func (m *Manager) Verify(tokenString string) (Claims, error) {
	if len(tokenString) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxTokenLen)
	}
	if c, ok := m.verified.get(tokenString); ok {
		if !m.now().Before(c.ExpiresAt) {
			return c, ErrExpired
		}
		return c, nil
	}
	var p payload
	if _, err := m.parser.ParseWithClaims(tokenString, &p, m.verificationKey); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// The signature is ours from here on; the checks below refuse tokens
	// that are ours but not of the shape Issue makes, so that a future
	// change of shape cannot be confused with an old one.
	now := m.now()
	switch {
	case p.Issuer != m.issuer:
		return Claims{}, fmt.Errorf("%w: issuer %q", ErrInvalid, p.Issuer)
	case p.Subject == "" || p.SessionID == "":
		return Claims{}, fmt.Errorf("%w: missing sub or sid", ErrInvalid)
	case p.ExpiresAt == nil || p.IssuedAt == nil:
		return Claims{}, fmt.Errorf("%w: missing exp or iat", ErrInvalid)
	case p.NotBefore != nil && now.Before(p.NotBefore.Time):
		return Claims{}, fmt.Errorf("%w: not valid yet", ErrInvalid)
	case p.UserPoolID != p.PoolID ||
		p.Data != nil && (p.Data.ID != p.Subject || p.Data.UserPoolID != p.PoolID):
		return Claims{}, fmt.Errorf("%w: inconsistent user or pool claims", ErrInvalid)
	}
	c := Claims{
		Subject:   p.Subject,
		SessionID: p.SessionID,
		PoolID:    p.PoolID,
		Issuer:    p.Issuer,
		IssuedAt:  p.IssuedAt.UTC(),
		ExpiresAt: p.ExpiresAt.UTC(),
	}
	if !now.Before(c.ExpiresAt) {
		return c, ErrExpired
	}
	m.verified.put(tokenString, c)
	return c, nil
}

// verificationKey is the jwt.Keyfunc: the public key named by the token's
// kid, and only for RS256, whatever the parser's own method check says.
// Returning an *rsa.PublicKey also defeats HS256 key confusion, as the HMAC
// verifier accepts only []byte keys.
func (m *Manager) verificationKey(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodRS256 {
		return nil, fmt.Errorf("algorithm %v not accepted", t.Header["alg"])
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: unknown critical extensions must be rejected.
		return nil, errors.New("critical header extensions not supported")
	}
	kid, _ := t.Header["kid"].(string)
	pub, ok := m.keys[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return pub, nil
}

// JWKS returns the public verification keys as a JWK Set document
// ({"keys":[...]}), signing key first. The caller may keep or change the
// returned slice.
func (m *Manager) JWKS() []byte { return bytes.Clone(m.jwks) }

// PublicKeyPEM returns the signing key's public half as an SPKI PEM block.
func (m *Manager) PublicKeyPEM() string { return m.publicPEM }
