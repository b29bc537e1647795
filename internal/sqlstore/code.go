package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authpool/authpool/internal/userpool"
)

// PutCode stores c, replacing the code waiting for the same pool, purpose
// and target: one upsert, so two senders racing leave exactly one code (the
// later one) and never two.
func (s *Store) PutCode(ctx context.Context, c *userpool.VerificationCode) error {
	return s.putCode(ctx, s.write, c)
}

// putCode is PutCode through q (the writer, or a transaction when the
// code is a record written with the job that sends it).
func (s *Store) putCode(ctx context.Context, q queryer, c *userpool.VerificationCode) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.CreatedAt, c.ExpiresAt = s.d.norm(c.CreatedAt), s.d.norm(c.ExpiresAt)
	_, err := q.ExecContext(ctx, s.d.q(`INSERT INTO verification_codes
		(pool_id, purpose, target, hash, attempts, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pool_id, purpose, target) DO UPDATE SET
			hash = excluded.hash, attempts = excluded.attempts,
			created_at = excluded.created_at, expires_at = excluded.expires_at`),
		c.PoolID, c.Purpose, c.Target, c.Hash, c.Attempts, s.d.timeArg(c.CreatedAt), s.d.timeArg(c.ExpiresAt))
	if err != nil {
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrPoolNotFound
		}
		return fmt.Errorf("sqlstore: put code: %w", err)
	}
	return nil
}

// UseCode reads the code with its row locked (FOR UPDATE on PostgreSQL; the
// write lock of BEGIN IMMEDIATE on SQLite), lets fn judge it, and deletes it
// or writes its attempt count back before the lock is released. This is the
// compare-and-swap that lets only one of several concurrent users, on any
// replicas, spend a code.
func (s *Store) UseCode(ctx context.Context, poolID, purpose, target string, fn func(*userpool.VerificationCode) bool) error {
	return s.inTx(ctx, "use code", func(tx *sql.Tx) error {
		c := &userpool.VerificationCode{PoolID: poolID, Purpose: purpose, Target: target}
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT hash, attempts, created_at, expires_at FROM verification_codes
			WHERE pool_id = ? AND purpose = ? AND target = ?`+s.d.forUpdate), poolID, purpose, target).
			Scan(&c.Hash, &c.Attempts, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt})
		if errors.Is(err, sql.ErrNoRows) {
			return userpool.ErrCodeNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: use code: %w", err)
		}
		attempts := c.Attempts
		if fn(c) {
			_, err = tx.ExecContext(ctx, s.d.q("DELETE FROM verification_codes WHERE pool_id = ? AND purpose = ? AND target = ?"),
				poolID, purpose, target)
		} else if c.Attempts != attempts {
			_, err = tx.ExecContext(ctx, s.d.q("UPDATE verification_codes SET attempts = ? WHERE pool_id = ? AND purpose = ? AND target = ?"),
				c.Attempts, poolID, purpose, target)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: use code: %w", err)
		}
		return nil
	})
}

// EnsureServerSecret inserts the secret unless one of that name exists
// (ON CONFLICT DO NOTHING decides races between replicas) and returns the
// stored value, read from the writer, which has seen the winner.
func (s *Store) EnsureServerSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	if len(value) == 0 {
		return nil, errors.New("sqlstore: ensure server secret: empty value")
	}
	if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING"),
		name, value, s.d.timeArg(s.d.norm(s.now()))); err != nil {
		return nil, fmt.Errorf("sqlstore: ensure server secret: %w", err)
	}
	var got []byte
	if err := s.write.QueryRowContext(ctx, s.d.q("SELECT value FROM server_secrets WHERE name = ?"), name).Scan(&got); err != nil {
		return nil, fmt.Errorf("sqlstore: ensure server secret: %w", err)
	}
	return got, nil
}
