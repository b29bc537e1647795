package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

const messageColumns = "id, pool_id, channel, payload, attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at"

// insertMessage adds j to the queue through q (a transaction: the job
// rides with the code it sends; see insertRecords).
func (s *Store) insertMessage(ctx context.Context, q queryer, j *userpool.MessageJob) error {
	if j.ID == "" || j.PoolID == "" || j.Channel == "" || len(j.Payload) == 0 {
		return errors.New("sqlstore: enqueue message: id, pool, channel and payload are required")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now()
	}
	if j.NextAttemptAt.IsZero() {
		j.NextAttemptAt = j.CreatedAt
	}
	j.CreatedAt, j.NextAttemptAt = s.d.norm(j.CreatedAt), s.d.norm(j.NextAttemptAt)
	_, err := q.ExecContext(ctx, s.d.q(`INSERT INTO message_jobs (id, pool_id, channel, payload, attempts, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`),
		j.ID, j.PoolID, j.Channel, j.Payload, j.Attempts, s.d.timeArg(j.NextAttemptAt), s.d.timeArg(j.CreatedAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: enqueue message: %w", err)
	}
	return nil
}

// ClaimMessages claims due jobs for worker in one statement, as
// ClaimDeliveries does: on PostgreSQL the inner SELECT locks the rows it
// picks and skips rows other claimers hold; on SQLite the single writer
// runs claims one after another.
func (s *Store) ClaimMessages(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.MessageJob, error) {
	if worker == "" || lease <= 0 || limit <= 0 {
		return nil, errors.New("sqlstore: claim messages: worker, a positive lease and a positive limit are required")
	}
	nowArg := s.d.timeArg(s.d.norm(now))
	rows, err := s.write.QueryContext(ctx, s.d.q(`UPDATE message_jobs SET claimed_by = ?, claimed_until = ?
		WHERE id IN (
			SELECT d.id FROM message_jobs d
			WHERE d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until <= ?)
			ORDER BY d.next_attempt_at, d.id
			LIMIT ?`+s.d.skipLocked+`)
		RETURNING `+messageColumns),
		worker, s.d.timeArg(s.d.norm(now.Add(lease))), nowArg, nowArg, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim messages: %w", err)
	}
	defer rows.Close()
	var out []*userpool.MessageJob
	for rows.Next() {
		j := new(userpool.MessageJob)
		if err := rows.Scan(&j.ID, &j.PoolID, &j.Channel, &j.Payload, &j.Attempts, timeDest{&j.NextAttemptAt},
			&j.ClaimedBy, timeDest{&j.ClaimedUntil}, &j.LastError, timeDest{&j.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: claim messages: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: claim messages: %w", err)
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(out, func(a, b *userpool.MessageJob) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RetryMessage records a failed attempt of a job worker holds and releases
// the claim.
func (s *Store) RetryMessage(ctx context.Context, id, worker string, attempts int, next time.Time, lastErr string) error {
	res, err := s.write.ExecContext(ctx, s.d.q(`UPDATE message_jobs SET attempts = ?, next_attempt_at = ?, last_error = ?,
		claimed_by = '', claimed_until = NULL WHERE id = ? AND claimed_by = ?`),
		attempts, s.d.timeArg(s.d.norm(next)), lastErr, id, worker)
	if err != nil {
		return fmt.Errorf("sqlstore: retry message: %w", err)
	}
	return oneRow(res, "retry message")
}

// DeleteMessage deletes a job worker holds and writes recs with it.
func (s *Store) DeleteMessage(ctx context.Context, id, worker string, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "delete message", recs, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, s.d.q("DELETE FROM message_jobs WHERE id = ? AND claimed_by = ?"), id, worker)
		if err != nil {
			return fmt.Errorf("sqlstore: delete message: %w", err)
		}
		return oneRow(res, "delete message")
	})
}

// CountDueMessages counts the jobs due at now, claimed or not.
func (s *Store) CountDueMessages(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM message_jobs WHERE next_attempt_at <= ?"),
		s.d.timeArg(s.d.norm(now))).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count due messages: %w", err)
	}
	return n, nil
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result, op string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if n == 0 {
		return userpool.ErrNotFound
	}
	return nil
}
