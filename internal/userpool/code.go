package userpool

import (
	"context"
	"time"
)

// VerificationCode is a one-time code sent by SMS or email. Only a keyed
// hash of the code is kept (HMAC-SHA256 with the server's code secret, over
// pool, purpose, target and code), so a copy of the database does not reveal
// codes that are still usable. One code waits per (PoolID, Purpose, Target):
// a new one replaces the old.
type VerificationCode struct {
	PoolID string
	// Purpose says what the code may be used for: "sms" (every phone flow)
	// or "email:<SCENE>".
	Purpose string
	// Target is the E.164 phone number or the normalised email address.
	Target string
	Hash   []byte
	// Attempts counts wrong tries; the use case kills the code at its limit.
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CodeStore keeps verification codes, the server's own secrets and the
// decrement that lets a refused or failed send leave the counters as they
// were. It is part of Store.
type CodeStore interface {
	// PutCode stores c, replacing any code of the same pool, purpose and
	// target (the attempt count starts again). A pool that does not exist
	// gives ErrPoolNotFound.
	PutCode(ctx context.Context, c *VerificationCode) error
	// UseCode reads the code of (poolID, purpose, target) and calls fn on it
	// inside one transaction, the row locked from read to write: when fn
	// returns true the code is deleted (spent), otherwise its Attempts, as
	// fn left them, are written back. Two callers, on any replicas, never
	// both see a code fn spends. No code: ErrCodeNotFound, fn not called.
	UseCode(ctx context.Context, poolID, purpose, target string, fn func(*VerificationCode) (spend bool)) error

	// DecrCounter takes one back from a live counter (never below zero); a
	// missing or ended counter is left alone.
	DecrCounter(ctx context.Context, key string, now time.Time) error

	// EnsureServerSecret stores value under name unless a secret of that
	// name exists, and returns the stored one, so replicas starting together
	// agree on one secret.
	EnsureServerSecret(ctx context.Context, name string, value []byte) ([]byte, error)
}
