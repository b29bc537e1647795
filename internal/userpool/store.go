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
	FieldStore
	AdminStore
	// The admin console's sessions, named administrator keys, user pages
	// and overview figures; see console.go.
	ConsoleStore

	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	Close() error

	// EnsureDefaultPool returns the default pool, creating it with the given
	// id when no default exists yet. Safe to call concurrently from replicas.
	EnsureDefaultPool(ctx context.Context, p *Pool) (*Pool, error)
	GetPool(ctx context.Context, id string) (*Pool, error)
	CreatePool(ctx context.Context, p *Pool) error
	ListPools(ctx context.Context) ([]*Pool, error)
	// UpdatePool reads the pool, calls fn and writes name and settings back
	// in one transaction; fn's error aborts the write and is returned as is.
	UpdatePool(ctx context.Context, id string, fn func(*Pool) error) (*Pool, error)

	// CreateUser inserts u. A duplicate email (case-insensitive), username or
	// phone within the pool returns ErrEmailTaken, ErrUsernameTaken or
	// ErrPhoneTaken. The records, if any, are written in the same
	// transaction: the change and its records are stored together or not at
	// all (the same holds for every method below that takes records).
	CreateUser(ctx context.Context, u *User, recs ...Record) error
	GetUser(ctx context.Context, poolID, id string) (*User, error)
	// GetUserByEmail matches case-insensitively.
	GetUserByEmail(ctx context.Context, poolID, email string) (*User, error)
	GetUserByUsername(ctx context.Context, poolID, username string) (*User, error)
	GetUserByPhone(ctx context.Context, poolID, phone string) (*User, error)
	// UpdateUser reads the user, calls fn and writes the result in one
	// transaction (compare-and-swap); fn's error aborts the write and is
	// returned as is. Uniqueness violations return the sentinels above.
	// The records are written after fn returns, so fn may still complete
	// them (an Event's payload showing the user as written, for example).
	UpdateUser(ctx context.Context, poolID, id string, fn func(*User) error, recs ...Record) (*User, error)
	DeleteUser(ctx context.Context, poolID, id string, recs ...Record) error

	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns ErrSessionNotFound for unknown ids.
	GetSession(ctx context.Context, id string) (*Session, error)
	// GetSessionUser returns the session with its user and, when values is
	// set, the user's values as ListUserValues returns them, in one read
	// (the read of an authenticated request). It returns
	// ErrSessionNotFound for unknown ids, and the session with
	// ErrUserNotFound when its user is gone.
	GetSessionUser(ctx context.Context, id string, values bool) (*Session, *User, []*UserValue, error)
	// ExtendSession moves an alive session's expiry to expiresAt; it returns
	// ErrSessionNotFound when the session is missing, revoked or expired at now.
	ExtendSession(ctx context.Context, id string, now, expiresAt time.Time, recs ...Record) (*Session, error)
	// RevokeSession marks the session revoked at now. Revoking a revoked or
	// missing session returns ErrSessionNotFound.
	RevokeSession(ctx context.Context, id string, now time.Time, recs ...Record) error
	// RevokeUserSessions revokes every alive session of the user and reports
	// how many it revoked.
	RevokeUserSessions(ctx context.Context, poolID, userID string, now time.Time) (int, error)
	// RevokeOtherSessions revokes every alive session of the user except
	// the one with id keep, and reports how many it revoked.
	RevokeOtherSessions(ctx context.Context, poolID, userID, keep string, now time.Time) (int, error)

	// SigningKeys returns every stored signing key, oldest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// AddSigningKeyIfNone stores k only when no key exists yet and returns
	// the keys that exist afterwards, so that replicas starting together
	// agree on one key.
	AddSigningKeyIfNone(ctx context.Context, k *SigningKey) ([]*SigningKey, error)
	// RotateSigningKey stores k only when no key that is not retired has
	// SignsFrom after latest, and returns the keys that exist afterwards and
	// whether k was stored. The check and the insert are atomic across
	// replicas, so replicas rotating together store exactly one key.
	RotateSigningKey(ctx context.Context, k *SigningKey, latest time.Time) ([]*SigningKey, bool, error)
	// NoteSigningKeyExpiry raises the LastExpiry of key id to exp unless it
	// is already later. It returns ErrNotFound when the key is missing or
	// retired: it must not sign any more.
	NoteSigningKeyExpiry(ctx context.Context, id string, exp time.Time) error
	// RetireSigningKey marks key id retired at at and erases its private
	// key, only when it is not retired yet and its LastExpiry is not after
	// lastExpiryBy; it says whether it did.
	RetireSigningKey(ctx context.Context, id string, at, lastExpiryBy time.Time) (bool, error)
	// DeleteRetiredSigningKeys deletes the keys retired before before and
	// reports how many.
	DeleteRetiredSigningKeys(ctx context.Context, before time.Time) (int, error)

	// GetTransportKey returns the key stored for purpose, or ErrNotFound.
	GetTransportKey(ctx context.Context, purpose string) (*TransportKey, error)
	// EnsureTransportKey stores k unless a key for k.Purpose exists, and
	// returns the stored key either way, so that replicas starting together
	// agree on one key.
	EnsureTransportKey(ctx context.Context, k *TransportKey) (*TransportKey, error)

	// IncrCounter adds one to the fixed-window counter key and returns the
	// new count and when its window ends. A counter whose window has ended
	// at now starts again at 1 with a window of the given length. Counters
	// are shared by every replica (rate limits, failure detection).
	IncrCounter(ctx context.Context, key string, window time.Duration, now time.Time) (count int64, windowEnd time.Time, err error)
	// AddCounter is IncrCounter adding n (at least 1) at once: a replica
	// that counted hits locally flushes them in one write.
	AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (count int64, windowEnd time.Time, err error)
	// GetCounter returns the counter's count and window end, or 0 and the
	// zero time when it does not exist or its window has ended at now.
	GetCounter(ctx context.Context, key string, now time.Time) (count int64, windowEnd time.Time, err error)
	// GetCounters is GetCounter for several keys in one read: counts[i]
	// is keys[i]'s count, 0 when it does not exist or has ended at now.
	GetCounters(ctx context.Context, keys []string, now time.Time) (counts []int64, err error)
	// ResetCounter deletes the counter; deleting a missing one is no error.
	ResetCounter(ctx context.Context, key string) error
	// PurgeExpired deletes counters and other short-lived rows (expired
	// codes and CAPTCHAs, webhook deliveries finished more than
	// DeliveryRetention ago) whose time has passed at now, and reports how
	// many rows it deleted.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)

	// CreateCaptcha stores a CAPTCHA challenge.
	CreateCaptcha(ctx context.Context, c *Captcha) error
	// TakeCaptcha removes the pool's CAPTCHA and returns it, in one atomic
	// step, so that of several concurrent takes exactly one gets it. A
	// missing, taken or expired (at now) CAPTCHA returns ErrNotFound.
	TakeCaptcha(ctx context.Context, poolID, id string, now time.Time) (*Captcha, error)

	// AppendAudit adds an event to the audit log (ID and CreatedAt are
	// filled when empty).
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns a pool's events matching f, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// Verification codes and server secrets; see code.go.
	CodeStore
	// PurgeAudit deletes events created before before, in every pool, and
	// reports how many it deleted (audit retention).
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)
	// Pipelines and webhooks; see pipeline.go and webhook.go.
	PipelineStore
	WebhookStore
	// The queue of messages to send; see message.go.
	MessageStore
	// Applications (OAuth clients); see app.go.
	AppStore
	// Second factors; see mfa.go.
	MFAStore
	// Passkeys and WebAuthn ceremonies; see passkey.go.
	PasskeyStore
	// Bulk import and export; see import.go.
	ImportStore
	// The OpenID provider's requests, grants, consents and browser
	// sessions; see oidc.go.
	OIDCStore
	// Upstream identity providers, their sign-ins' states and the
	// identities they link; see connector.go.
	ConnectorStore
}
