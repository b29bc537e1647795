package userpool

import (
	"context"
	"time"
)

// ConsoleSession is a signed-in browser of the admin console. The cookie
// carries a random token; the store keeps only its keyed hash (IDHash), so
// a reader of the database cannot sign in with what it reads.
type ConsoleSession struct {
	IDHash []byte
	// KeyID and KeyName name the administrator key that signed in: ""
	// and "admin" for the administrator key, a named key's id and name.
	KeyID, KeyName string
	ReadOnly       bool
	CreatedAt      time.Time
	// SeenAt is the last request's time (written at most once a minute),
	// for the idle timeout; ExpiresAt is the absolute end.
	SeenAt, ExpiresAt time.Time
}

// NamedAdminKey is an administrator key made for one operator: revocable,
// optionally read-only, and named in the audit log of what it does. Only
// its SHA-256 is stored.
type NamedAdminKey struct {
	ID        string
	Name      string
	Hash      []byte
	ReadOnly  bool
	CreatedAt time.Time
	RevokedAt time.Time // zero while it works
}

// UserPage selects one page of a pool's users for the console: newest
// first, continuing after (AfterCreated, AfterID) when set (keyset
// paging), or, with Search, the users whose email, username or phone
// starts with it (case-insensitively) or whose id is it: of each, the
// first Limit in the order of the matched text, shown newest first (no
// paging: a longer prefix narrows).
type UserPage struct {
	PoolID string
	// Search is a prefix; "" lists everyone.
	Search string
	// Filters.
	Blocked, Unverified, HasMFA bool
	AfterCreated                time.Time
	AfterID                     string
	// Limit is capped at 100 (default 20).
	Limit int
}

// PoolStats are the figures of the console's overview of one pool.
type PoolStats struct {
	Users int
	// Per day (UTC), oldest first, Days entries ending today.
	NewUsers, SignIns, FailedLogins, CaptchaDemands []int
	WebhookBacklog, FailedDeliveries                int
	PipelineFailures                                int
}

// ConsoleStore is what the admin console keeps beyond the rest of Store.
type ConsoleStore interface {
	// CreateConsoleSession stores s.
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error
	// GetConsoleSession returns the session with idHash, or ErrNotFound.
	GetConsoleSession(ctx context.Context, idHash []byte) (*ConsoleSession, error)
	// TouchConsoleSession sets the session's SeenAt to now.
	TouchConsoleSession(ctx context.Context, idHash []byte, now time.Time) error
	// DeleteConsoleSession deletes the session (sign-out); a missing one
	// is no error.
	DeleteConsoleSession(ctx context.Context, idHash []byte) error
	// PurgeConsoleSessions deletes the sessions that ended before now or
	// were idle since before idleSince, and reports how many.
	PurgeConsoleSessions(ctx context.Context, now, idleSince time.Time) (int64, error)

	// CreateNamedAdminKey stores k; a name in use by a key not revoked
	// returns ErrExists.
	CreateNamedAdminKey(ctx context.Context, k *NamedAdminKey, recs ...Record) error
	// NamedAdminKeys returns every named key, revoked ones too, oldest first.
	NamedAdminKeys(ctx context.Context) ([]*NamedAdminKey, error)
	// RevokeNamedAdminKey marks the key revoked at now and deletes its
	// console sessions, in one transaction with recs; an unknown or
	// revoked key returns ErrNotFound.
	RevokeNamedAdminKey(ctx context.Context, id string, now time.Time, recs ...Record) error

	// ListUserPage returns one page of users (see UserPage).
	ListUserPage(ctx context.Context, q UserPage) ([]*User, error)
	// PoolStats counts the pool's figures over the days days ending with
	// now's day (UTC).
	PoolStats(ctx context.Context, poolID string, now time.Time, days int) (*PoolStats, error)
}
