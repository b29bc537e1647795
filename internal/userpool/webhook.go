package userpool

import (
	"context"
	"time"
)

// Record is written in the same transaction as the change it accompanies:
// a webhook Event (delivered later from the outbox), an AuditEvent, a
// ValueChange to the user's user-defined values, a new Session (a login's,
// which must exist only if its user update commits), a CounterReset, or a
// VerificationCode with the MessageJob that sends it (see message.go). The
// store methods that change users and sessions take records as their last,
// variadic argument, so that a change and what goes with it are stored
// together or not at all. The set is closed: only this package's types are
// records.
type Record interface{ record() }

func (*Event) record()           {}
func (*AuditEvent) record()      {}
func (*ValueChange) record()     {}
func (*Session) record()         {}
func (*CounterReset) record()    {}
func (*CounterGiveBack) record() {}

// CounterReset deletes a counter (ResetCounter) as part of a change: a
// successful login clears its account's failure count in the login's own
// transaction.
type CounterReset struct{ Key string }

// CounterGiveBack takes one back from a live counter (DecrCounter) as part
// of a change: a successful password login gives its place in the
// account's budget of checks in flight back in the login's own
// transaction, instead of in a write of its own after it.
//
// The store sets Sent once the give-back's statement has run and its
// transaction has gone on to COMMIT (whatever COMMIT answered): the caller
// must then not give the place back again. When Sent is false the
// transaction was rolled back or never got that far, and the place is
// still held. A COMMIT whose answer was lost leaves Sent set: the place
// is then, at worst, held until the counter ends, as when any give-back
// is lost, never given back twice.
type CounterGiveBack struct {
	Key  string
	At   time.Time // counters that ended before At are left alone
	Sent bool
}

// ValueChange sets and removes user-defined values of one user, as a
// record: it rides with the change of the user it belongs to (the login a
// post-authentication pipeline shaped, say) and with the user.udv_changed
// event that reports it, all in one transaction. Set is checked like
// SetUserValues (each value's DataType must still be its field's; an
// undefined key is ErrFieldNotFound, a missing user ErrUserNotFound), and
// a failure aborts the whole transaction. Removing a value that does not
// exist is no error.
type ValueChange struct {
	PoolID string
	UserID string
	Set    []*UserValue
	Remove []string
}

// Event is something that happened in a pool that webhook subscribers may
// be told about. Writing it fans it out into one Delivery per enabled
// subscription of the pool that listens to its Type, in the same
// transaction; with no such subscription nothing is stored.
type Event struct {
	// ID is the Standard Webhooks webhook-id, the same for every delivery
	// and every attempt of the event, so receivers can de-duplicate. The
	// store fills it ("msg_" and 32 hex digits) when empty.
	ID     string
	PoolID string
	Type   string // e.g. "user.login"; see api.WebhookEvent
	// Payload is the JSON body delivered (an api.WebhookEvent).
	Payload   []byte
	CreatedAt time.Time
}

// WebhookSubscription is where a pool's events go.
type WebhookSubscription struct {
	ID     string
	PoolID string
	URL    string
	// Events are the event types delivered; "*" means every type.
	Events []string
	// Secret is the Standard Webhooks signing secret ("whsec_" and base64),
	// kept as given: the server needs it to sign.
	Secret    string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	// DeliveryPending waits for its (next) attempt.
	DeliveryPending DeliveryStatus = "pending"
	// DeliveryDelivered: an attempt got a 2xx answer.
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: every allowed attempt failed; a redelivery revives it.
	DeliveryFailed DeliveryStatus = "failed"
)

// DeliveryRetention is how long finished deliveries (and their attempts)
// are kept before PurgeExpired deletes them.
const DeliveryRetention = 30 * 24 * time.Hour

// Delivery is one event on its way to one subscription: a row of the
// outbox. Its ID is EventID + ":" + SubscriptionID.
type Delivery struct {
	ID             string
	EventID        string
	PoolID         string
	SubscriptionID string
	Type           string
	Payload        []byte
	Status         DeliveryStatus
	// Attempts counts the attempts since the delivery was created or last
	// redelivered.
	Attempts      int
	NextAttemptAt time.Time
	// ClaimedBy and ClaimedUntil are the worker delivering it and when its
	// claim lapses (then another worker may take it over).
	ClaimedBy    string
	ClaimedUntil time.Time
	LastError    string
	CreatedAt    time.Time
	FinishedAt   time.Time // zero while pending
}

// DeliveryAttempt is one try to deliver.
type DeliveryAttempt struct {
	ID         int64 // assigned by the store, increasing
	DeliveryID string
	PoolID     string
	Number     int    // 1 for the first attempt of a round
	Worker     string // the worker that made it
	StatusCode int    // 0 when no HTTP answer came
	Error      string // "" on success
	Duration   time.Duration
	CreatedAt  time.Time
}

// AttemptResult is an attempt made and the state it moves its delivery
// to: pending with NextAttemptAt for a retry, delivered or failed.
type AttemptResult struct {
	Attempt       *DeliveryAttempt
	Status        DeliveryStatus
	NextAttemptAt time.Time
}

// DeliveryFilter selects deliveries of one pool, newest first. Zero fields
// do not filter; Limit defaults to 100 and is capped at 1000.
type DeliveryFilter struct {
	PoolID         string
	SubscriptionID string
	EventID        string
	Status         DeliveryStatus
	Limit          int
}

// WebhookStore keeps subscriptions and the outbox.
type WebhookStore interface {
	// CreateSubscription inserts w, filling ID, CreatedAt and UpdatedAt
	// when empty. An unknown pool gets ErrPoolNotFound.
	CreateSubscription(ctx context.Context, w *WebhookSubscription) error
	// GetSubscription returns the pool's subscription, or ErrNotFound.
	GetSubscription(ctx context.Context, poolID, id string) (*WebhookSubscription, error)
	// ListSubscriptions returns the pool's subscriptions, oldest first.
	ListSubscriptions(ctx context.Context, poolID string) ([]*WebhookSubscription, error)
	// UpdateSubscription reads, calls fn and writes back in one
	// transaction; fn's error aborts the write and is returned as is.
	UpdateSubscription(ctx context.Context, poolID, id string, fn func(*WebhookSubscription) error) (*WebhookSubscription, error)
	// DeleteSubscription deletes the subscription with its deliveries and
	// attempts, or returns ErrNotFound.
	DeleteSubscription(ctx context.Context, poolID, id string) error

	// WriteRecords stores records that accompany no other change (a failed
	// login, for example) in one transaction.
	WriteRecords(ctx context.Context, recs ...Record) error

	// ClaimDeliveries claims up to limit pending deliveries that are due at
	// now, unclaimed (or whose claim lapsed) and whose subscription is
	// enabled, for worker until now+lease, and returns them oldest due
	// first. Concurrent claimers, on any replica, never get the same
	// delivery while its claim holds.
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// ReleaseDeliveries gives up worker's claims on the pending
	// deliveries ids, which it claimed but will not attempt (at shutdown),
	// so that any worker may claim them at once.
	ReleaseDeliveries(ctx context.Context, worker string, ids []string) error
	// NewDeliveries returns a channel closed once this store (this
	// process) next commits deliveries due at once: an event that fanned
	// out, a redelivery, released claims. Take it before claiming, wait on
	// it when the claim found nothing. Other processes' writes do not
	// close it; dispatchers poll for those.
	NewDeliveries() <-chan struct{}
	// RecordAttempt stores a (ID and CreatedAt filled) and, when the
	// delivery is still claimed by a.Worker, moves it to status (pending
	// with nextAttemptAt for a retry, delivered or failed) and releases the
	// claim, in one transaction. A delivery that is gone gets ErrNotFound.
	RecordAttempt(ctx context.Context, a *DeliveryAttempt, status DeliveryStatus, nextAttemptAt time.Time) error
	// RecordAttempts records several results as RecordAttempt does, in
	// one transaction; a result whose delivery is gone is skipped (its
	// attempt keeps ID 0).
	RecordAttempts(ctx context.Context, rs []AttemptResult) error
	// GetDelivery returns the pool's delivery, or ErrNotFound.
	GetDelivery(ctx context.Context, poolID, id string) (*Delivery, error)
	// ListDeliveries returns the deliveries matching f, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// ListDeliveryAttempts returns the delivery's attempts, oldest first.
	ListDeliveryAttempts(ctx context.Context, poolID, deliveryID string) ([]*DeliveryAttempt, error)
	// Redeliver makes the delivery pending again, due at now, with a fresh
	// round of attempts (earlier attempts stay recorded); ErrNotFound when
	// it does not exist.
	Redeliver(ctx context.Context, poolID, id string, now time.Time) (*Delivery, error)
}
