package userpool

import (
	"context"
	"time"
)

// Codes of the administration API (authpool's own 1400 block).
const (
	CodeAdminUnauthorized Code = 1401
	CodePoolExists        Code = 1409
	// CodeKeyRotationPending: a new signing key waits for its lead time,
	// so another rotation is refused until it signs.
	CodeKeyRotationPending Code = 1410
)

// UserQuery selects users of one pool for the administrator.
type UserQuery struct {
	PoolID string
	// Search matches, case-insensitively, a substring of the email,
	// username or phone; "" matches everyone.
	Search string
	Offset int
	// Limit defaults to 20 and is capped at 100.
	Limit int
}

// AdminKey is the stored hash of a generated administrator key. The key
// itself is shown once to the operator and never stored.
type AdminKey struct {
	ID        string
	Hash      []byte // SHA-256 of the key
	CreatedAt time.Time
}

// AdminStore is what the administration API needs beyond the rest of Store.
type AdminStore interface {
	// ListUsers returns one page of the pool's users matching q, newest
	// first, and how many users match in all.
	ListUsers(ctx context.Context, q UserQuery) (users []*User, total int, err error)
	// ListUserSessions returns the user's sessions alive at now, newest
	// first (at most 1000).
	ListUserSessions(ctx context.Context, poolID, userID string, now time.Time) ([]*Session, error)

	// AdminKeys returns the stored administrator key hashes, oldest first.
	AdminKeys(ctx context.Context) ([]*AdminKey, error)
	// AddAdminKeyIfNone stores k only when no key is stored yet and returns
	// the keys that exist afterwards, so that replicas starting together
	// agree on one key (and only the one that stored it shows it).
	AddAdminKeyIfNone(ctx context.Context, k *AdminKey) ([]*AdminKey, error)
	// ReplaceAdminKeys deletes every stored key and stores k, with recs
	// (an audit event) in the same transaction: the old keys stop working
	// when the new one starts to.
	ReplaceAdminKeys(ctx context.Context, k *AdminKey, recs ...Record) error
}
