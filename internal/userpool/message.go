package userpool

import (
	"context"
	"time"
)

// MessageJob is a message (a verification code by mail or SMS) waiting in
// the store's queue to be sent. The request that asks for a code writes
// the code's hash and the job in one transaction (both are Records) and
// answers; workers on every replica claim due jobs, send them and delete
// them. Payload is sealed by the caller (AES-GCM with the job's ID as
// associated data): it holds the recipient and the text with the code, so
// the store never sees them in plain text.
type MessageJob struct {
	ID      string
	PoolID  string
	Channel string // "email" or "sms"
	Payload []byte // sealed
	// Attempts counts the attempts made so far.
	Attempts      int
	NextAttemptAt time.Time
	// ClaimedBy and ClaimedUntil are the worker sending it and when its
	// claim lapses (then another worker may take it over).
	ClaimedBy    string
	ClaimedUntil time.Time
	LastError    string
	CreatedAt    time.Time
}

func (*MessageJob) record()       {}
func (*VerificationCode) record() {}

// MessageStore keeps the message queue. It is part of Store; jobs are
// added as records (WriteRecords with the code they carry).
type MessageStore interface {
	// ClaimMessages claims up to limit jobs that are due at now and
	// unclaimed (or whose claim lapsed) for worker until now+lease, and
	// returns them oldest due first. Concurrent claimers, on any replica,
	// never get the same job while its claim holds.
	ClaimMessages(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*MessageJob, error)
	// RetryMessage records a failed attempt of a job worker holds: its
	// attempt count, the error, when it is due again, and releases the
	// claim. A job that is gone or claimed by another worker gets
	// ErrNotFound.
	RetryMessage(ctx context.Context, id, worker string, attempts int, next time.Time, lastErr string) error
	// DeleteMessage deletes a job worker holds (sent, dropped or given up)
	// and writes recs in the same transaction. A job that is gone or
	// claimed by another worker gets ErrNotFound and recs are not written.
	DeleteMessage(ctx context.Context, id, worker string, recs ...Record) error
	// CountDueMessages reports how many jobs are due at now, claimed or
	// not: the backlog the workers have to send.
	CountDueMessages(ctx context.Context, now time.Time) (int, error)
}
