package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// IncrCounter is one upsert: a live window counts up, an ended one starts
// again at 1. The database serialises concurrent increments of one key, so
// replicas sharing it never lose a hit.
func (s *Store) IncrCounter(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	return s.AddCounter(ctx, key, 1, window, now)
}

// AddCounter adds n in the same one upsert: a live window counts up by n,
// an ended one starts again at n.
func (s *Store) AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, errors.New("sqlstore: incr counter: window must be positive")
	}
	if n < 1 {
		return 0, time.Time{}, errors.New("sqlstore: incr counter: n must be at least 1")
	}
	nowArg, endArg := s.d.timeArg(s.d.norm(now)), s.d.timeArg(s.d.norm(now.Add(window)))
	var (
		count int64
		end   time.Time
	)
	err := s.write.QueryRowContext(ctx, s.d.q(`INSERT INTO counters (key, count, window_end) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN counters.window_end <= ? THEN excluded.count ELSE counters.count + excluded.count END,
			window_end = CASE WHEN counters.window_end <= ? THEN excluded.window_end ELSE counters.window_end END
		RETURNING count, window_end`), key, n, endArg, nowArg, nowArg).Scan(&count, timeDest{&end})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: incr counter: %w", err)
	}
	return count, end, nil
}

// GetCounter reads a counter without changing it.
func (s *Store) GetCounter(ctx context.Context, key string, now time.Time) (int64, time.Time, error) {
	var (
		count int64
		end   time.Time
	)
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT count, window_end FROM counters WHERE key = ? AND window_end > ?"),
		key, s.d.timeArg(s.d.norm(now))).Scan(&count, timeDest{&end})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: get counter: %w", err)
	}
	return count, end, nil
}

// GetCounters reads several counters in one statement.
func (s *Store) GetCounters(ctx context.Context, keys []string, now time.Time) ([]int64, error) {
	counts := make([]int64, len(keys))
	if len(keys) == 0 {
		return counts, nil
	}
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, s.d.timeArg(s.d.norm(now)))
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT key, count FROM counters WHERE key IN (?"+
		strings.Repeat(", ?", len(keys)-1)+") AND window_end > ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key   string
			count int64
		)
		if err := rows.Scan(&key, &count); err != nil {
			return nil, fmt.Errorf("sqlstore: get counters: %w", err)
		}
		for i, k := range keys {
			if k == key {
				counts[i] = count
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: get counters: %w", err)
	}
	return counts, nil
}

// ResetCounter deletes a counter.
func (s *Store) ResetCounter(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM counters WHERE key = ?"), key); err != nil {
		return fmt.Errorf("sqlstore: reset counter: %w", err)
	}
	return nil
}

// DecrCounter takes one back from a live counter: a send that a later
// limit refused, or that failed, must not count against the sender.
func (s *Store) DecrCounter(ctx context.Context, key string, now time.Time) error {
	return s.decrCounter(ctx, s.write, key, now)
}

// decrCounter is DecrCounter through q: the writer, or the transaction of
// the change a CounterGiveBack goes with.
func (s *Store) decrCounter(ctx context.Context, q queryer, key string, now time.Time) error {
	if _, err := q.ExecContext(ctx, s.d.q("UPDATE counters SET count = count - 1 WHERE key = ? AND window_end > ? AND count > 0"),
		key, s.d.timeArg(s.d.norm(now))); err != nil {
		return fmt.Errorf("sqlstore: decr counter: %w", err)
	}
	return nil
}

// PurgeExpired deletes ended counters, expired verification codes and
// CAPTCHAs, and webhook deliveries finished more than
// userpool.DeliveryRetention ago (their attempts go with them through the
// foreign key); a new short-lived table adds its DELETE here.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, p := range []struct {
		query string
		at    time.Time
	}{
		{"DELETE FROM counters WHERE window_end <= ?", now},
		{"DELETE FROM verification_codes WHERE expires_at <= ?", now},
		{"DELETE FROM captchas WHERE expires_at <= ?", now},
		{"DELETE FROM mfa_challenges WHERE expires_at <= ?", now},
		{"DELETE FROM webauthn_ceremonies WHERE expires_at <= ?", now},
		{"DELETE FROM social_states WHERE expires_at <= ?", now},
		// Kept ten minutes past their expiry, so that a code replayed late is
		// still recognised and revokes what it issued.
		{"DELETE FROM oidc_auth_requests WHERE expires_at <= ?", now.Add(-10 * time.Minute)},
		{"DELETE FROM oidc_grants WHERE expires_at <= ?", now},
		{"DELETE FROM oidc_browser_sessions WHERE expires_at <= ?", now},
		{"DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at <= ?", now.Add(-userpool.DeliveryRetention)},
	} {
		res, err := s.write.ExecContext(ctx, s.d.q(p.query), s.d.timeArg(s.d.norm(p.at)))
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge expired: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge expired: %w", err)
		}
		total += n
	}
	return total, nil
}
