package userpool

import (
	"context"
	"time"
)

// Store is everything authpool keeps. Implementations must be safe for
// concurrent use by many goroutines and by many server replicas sharing one
// database: uniqueness and read-modify-write are enforced by the database,
// never by process memory. Lookups of a missing row return the matching
// sentinel (ErrUserNotFound, ErrSessionNotFound, ErrPoolNotFound, ErrNotFound).
type Store interface {
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	Close() error

	// EnsureDefaultPool returns the default pool, creating it with the given
	// id when no default exists yet. Safe to call concurrently from replicas.
	EnsureDefaultPool(ctx context.Context, p *Pool) (*Pool, error)
	GetPool(ctx context.Context, id string) (*Pool, error)
	CreatePool(ctx context.Context, p *Pool) error
	ListPools(ctx context.Context) ([]*Pool, error)

	// CreateUser inserts u. A duplicate email (case-insensitive), username or
	// phone within the pool returns ErrEmailTaken, ErrUsernameTaken or
	// ErrPhoneTaken.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, poolID, id string) (*User, error)
	// GetUserByEmail matches case-insensitively.
	GetUserByEmail(ctx context.Context, poolID, email string) (*User, error)
	GetUserByUsername(ctx context.Context, poolID, username string) (*User, error)
	GetUserByPhone(ctx context.Context, poolID, phone string) (*User, error)
	// UpdateUser reads the user, calls fn and writes the result in one
	// transaction (compare-and-swap); fn's error aborts the write and is
	// returned as is. Uniqueness violations return the sentinels above.
	UpdateUser(ctx context.Context, poolID, id string, fn func(*User) error) (*User, error)
	DeleteUser(ctx context.Context, poolID, id string) error

	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns ErrSessionNotFound for unknown ids.
	GetSession(ctx context.Context, id string) (*Session, error)
	// ExtendSession moves an alive session's expiry to expiresAt; it returns
	// ErrSessionNotFound when the session is missing, revoked or expired at now.
	ExtendSession(ctx context.Context, id string, now, expiresAt time.Time) (*Session, error)
	// RevokeSession marks the session revoked at now. Revoking a revoked or
	// missing session returns ErrSessionNotFound.
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// RevokeUserSessions revokes every alive session of the user and reports
	// how many it revoked.
	RevokeUserSessions(ctx context.Context, poolID, userID string, now time.Time) (int, error)

	// SigningKeys returns every stored signing key, oldest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// AddSigningKeyIfNone stores k only when no key exists yet and returns
	// the keys that exist afterwards, so that replicas starting together
	// agree on one key.
	AddSigningKeyIfNone(ctx context.Context, k *SigningKey) ([]*SigningKey, error)
}
