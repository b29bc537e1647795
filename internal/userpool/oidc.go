package userpool

import (
	"context"
	"errors"
	"time"
)

// ErrCodeUsed is returned by ClaimOIDCCode for a code that was exchanged
// before: the request comes back with it, so that the provider can revoke
// what the first exchange issued (RFC 6749 §4.1.2).
var ErrCodeUsed = errors.New("userpool: authorization code already used")

// OIDCAuthRequest is an OpenID Connect authorization request in flight:
// from /oidc/auth through the sign-in page to the code's exchange. Data is
// the provider's own JSON (the request's parameters and the sign-in's
// result); the store keeps it opaque and manages the code's single use.
type OIDCAuthRequest struct {
	ID       string
	PoolID   string
	ClientID string
	Data     []byte
	// CodeHash is the keyed hash of the issued code (nil before one is).
	CodeHash []byte
	// CodeUsedAt is when the code was exchanged (zero while unused).
	CodeUsedAt time.Time
	// GrantID is the grant the code's exchange created.
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OIDCGrant is what one code exchange (or one client-credentials request)
// granted: every access token carries its id, and its refresh tokens are
// one family numbered by RefreshSeq. Revoking the grant makes its access
// and refresh tokens inactive at once.
type OIDCGrant struct {
	ID        string
	PoolID    string
	ClientID  string
	UserID    string // "" for client credentials
	SessionID string // the authpool session the grant is bound to ("" for client credentials)
	Scopes    []string
	AMR       []string
	AuthTime  time.Time
	// RefreshSeq is the number of the refresh token currently valid; an
	// older number presented again is a reuse.
	RefreshSeq int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
}

// OIDCConsent is a user's consent to an application's scopes.
type OIDCConsent struct {
	PoolID    string
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OIDCBrowserSession is what the hosted sign-in page knows about an
// authpool session it created: how and when the user proved who they are.
type OIDCBrowserSession struct {
	SessionID string
	PoolID    string
	UserID    string
	AMR       []string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// OIDCStore keeps the OpenID provider's state.
type OIDCStore interface {
	CreateOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error
	// GetOIDCAuthRequest returns ErrNotFound for a missing or expired (at
	// now) request.
	GetOIDCAuthRequest(ctx context.Context, poolID, id string, now time.Time) (*OIDCAuthRequest, error)
	// UpdateOIDCAuthRequest reads the request, calls fn and writes Data,
	// CodeHash, GrantID and ExpiresAt back in one transaction.
	UpdateOIDCAuthRequest(ctx context.Context, poolID, id string, fn func(*OIDCAuthRequest) error) (*OIDCAuthRequest, error)
	DeleteOIDCAuthRequest(ctx context.Context, poolID, id string) error
	// GetOIDCAuthRequestByCode returns the request whose code hash is
	// codeHash, used or not, expired or not (ErrNotFound when none).
	GetOIDCAuthRequestByCode(ctx context.Context, poolID string, codeHash []byte) (*OIDCAuthRequest, error)
	// ClaimOIDCCode marks the request whose code hash is codeHash used at
	// now and returns it, atomically: of two concurrent claims exactly one
	// succeeds. A code used before returns the request with ErrCodeUsed; a
	// missing or expired one ErrNotFound.
	ClaimOIDCCode(ctx context.Context, poolID string, codeHash []byte, now time.Time) (*OIDCAuthRequest, error)

	CreateOIDCGrant(ctx context.Context, g *OIDCGrant) error
	// GetOIDCGrant returns the grant (revoked or expired ones too) or ErrNotFound.
	GetOIDCGrant(ctx context.Context, poolID, id string) (*OIDCGrant, error)
	// AdvanceOIDCRefresh moves the grant's RefreshSeq from seq to seq+1 and
	// its expiry to expiresAt, only when it is still seq, not revoked and
	// not expired at now; it says whether it did (one of two concurrent
	// advances of one seq wins).
	AdvanceOIDCRefresh(ctx context.Context, poolID, id string, seq int64, now, expiresAt time.Time, scopes []string) (bool, error)
	// RevokeOIDCGrant marks the grant revoked at now; it says whether it
	// was alive.
	RevokeOIDCGrant(ctx context.Context, poolID, id string, now time.Time) (bool, error)
	// RevokeOIDCClientGrants revokes every grant of the user to the client
	// and reports how many.
	RevokeOIDCClientGrants(ctx context.Context, poolID, userID, clientID string, now time.Time) (int, error)

	// PutOIDCConsent stores the consent, replacing the user's consent to
	// that client.
	PutOIDCConsent(ctx context.Context, c *OIDCConsent) error
	// GetOIDCConsent returns ErrNotFound when none is stored.
	GetOIDCConsent(ctx context.Context, poolID, userID, clientID string) (*OIDCConsent, error)
	// ListOIDCConsents returns the user's consents, oldest first.
	ListOIDCConsents(ctx context.Context, poolID, userID string) ([]*OIDCConsent, error)
	// DeleteOIDCConsent returns ErrNotFound when none is stored.
	DeleteOIDCConsent(ctx context.Context, poolID, userID, clientID string) error

	CreateOIDCBrowserSession(ctx context.Context, b *OIDCBrowserSession) error
	// GetOIDCBrowserSession returns ErrNotFound when none is stored.
	GetOIDCBrowserSession(ctx context.Context, sessionID string) (*OIDCBrowserSession, error)
}
