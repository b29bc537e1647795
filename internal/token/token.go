// Package token issues and verifies the signed JWTs that authenticate users,
// and publishes the public keys that verify them (JWKS).
//
// Keys live in the store so that every replica signs and verifies with the
// same ones; the first replica to start generates a key and the others adopt
// it. A key has a lifecycle by time (lifecycle.go, docs/OIDC.md "Signing
// keys"): a rotated-in key is published at once and signs only after a lead
// time; the key before it then stops signing and stays published until the
// tokens it signed have expired, then is retired. Every replica reads the
// keys again at least every RefreshInterval and derives the same states
// from the stored times, so all agree on the signing key. Verification
// works on the keys in memory and touches the store only for that reread.
//
// A valid token only proves that authpool issued it for a session; whether
// that session is still alive (not logged out) is the caller's check.
package token

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// not signed by one of its published keys with RS256, for another
	// issuer, or missing a required claim.
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
	RotateSigningKey(ctx context.Context, k *userpool.SigningKey, latest time.Time) ([]*userpool.SigningKey, bool, error)
	NoteSigningKeyExpiry(ctx context.Context, id string, exp time.Time) error
	RetireSigningKey(ctx context.Context, id string, at, lastExpiryBy time.Time) (bool, error)
	DeleteRetiredSigningKeys(ctx context.Context, before time.Time) (int, error)
}

// Manager issues and verifies tokens and keeps the signing keys current.
// It is safe for concurrent use.
type Manager struct {
	issuer string
	now    func() time.Time
	parser *jwt.Parser
	ks     KeyStore
	lc     Lifecycle

	cur       atomic.Pointer[keyState]
	refreshMu sync.Mutex
	lastTry   atomic.Pointer[time.Time]
	marks     expiryMarks

	// verified remembers tokens whose signature and shape were checked, so
	// that the same token checked again (every request of a session) costs
	// a map lookup instead of an RSA verification. Only expiry depends on
	// time and is checked on every hit; the bytes of a token cannot change
	// their signature's validity, and the cache is emptied when a key
	// leaves the published set.
	verified verifiedCache
}

// NewManager loads the signing keys from ks, generating and storing an
// RSA-2048 key when there is none (it signs at once: nobody can have
// cached an older one). It uses the keys the store returns rather than the
// one it generated, so replicas starting at once agree on one key. now is
// the clock for issuing, for expiry and for the key lifecycle (time.Now
// when nil); lc configures rotation (zero: the defaults).
func NewManager(ctx context.Context, ks KeyStore, issuer string, now func() time.Time, lc Lifecycle) (*Manager, error) {
	if issuer == "" {
		return nil, errors.New("token: empty issuer")
	}
	if now == nil {
		now = time.Now
	}
	if lc.LeadTime == 0 {
		lc.LeadTime = DefaultLeadTime
	}
	if lc.LeadTime < MinLeadTime {
		return nil, fmt.Errorf("token: lead time %v is shorter than %v", lc.LeadTime, MinLeadTime)
	}
	if lc.RotateEvery < 0 {
		return nil, fmt.Errorf("token: negative rotation interval %v", lc.RotateEvery)
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
		k.SignsFrom = k.CreatedAt
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
		ks:     ks,
		lc:     lc,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{alg}),
			jwt.WithStrictDecoding(),
			// Claims are checked by Verify itself, after the signature, so
			// that it can tell expired from invalid unambiguously.
			jwt.WithoutClaimsValidation(),
		),
	}
	t := now()
	st, err := parseState(stored, t)
	if err != nil {
		return nil, err
	}
	v, err := st.at(t, m.marks.get)
	if err != nil {
		return nil, err
	}
	m.cur.Store(v)
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

// Issue signs c with the current key. Subject, SessionID and ExpiresAt
// are required; Issuer defaults to the manager's and may not differ from
// it; IssuedAt defaults to now. A token Verify would reject is an error
// here. The store is written when the token expires after the key's
// recorded last expiry (about once per ten minutes per replica).
func (m *Manager) Issue(ctx context.Context, c Claims) (string, error) {
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
	st, err := m.signingKey(ctx, c.ExpiresAt)
	if err != nil {
		return "", err
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
	t.Header["kid"] = st.current.ID
	s, err := t.SignedString(st.signKey)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return s, nil
}

// Verify checks tokenString and returns its claims. Errors match exactly one
// of ErrInvalid and ErrExpired with errors.Is. On ErrExpired the claims are
// returned too, for messages only: the token proves nothing any more. A
// token is expired from the second of its "exp" on (RFC 7519), by the
// manager's clock. Any published key verifies (the token's kid names it).
func (m *Manager) Verify(ctx context.Context, tokenString string) (Claims, error) {
	if len(tokenString) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxTokenLen)
	}
	st := m.state(ctx)
	if c, ok := m.verified.get(tokenString); ok {
		if !m.now().Before(c.ExpiresAt) {
			return c, ErrExpired
		}
		return c, nil
	}
	var p payload
	if _, err := m.parser.ParseWithClaims(tokenString, &p, st.verificationKey); err != nil {
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
func (st *keyState) verificationKey(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodRS256 {
		return nil, fmt.Errorf("algorithm %v not accepted", t.Header["alg"])
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: unknown critical extensions must be rejected.
		return nil, errors.New("critical header extensions not supported")
	}
	kid, _ := t.Header["kid"].(string)
	pub, ok := st.published[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return pub, nil
}

// JWKS returns the published verification keys as a JWK Set document
// ({"keys":[...]}), signing key first. The caller may keep or change the
// returned slice.
func (m *Manager) JWKS(ctx context.Context) []byte { return bytes.Clone(m.state(ctx).jwks) }

// PublicKeyPEM returns the signing key's public half as an SPKI PEM block.
func (m *Manager) PublicKeyPEM(ctx context.Context) string { return m.state(ctx).publicPEM }
