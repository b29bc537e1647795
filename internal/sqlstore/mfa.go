package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// errNothingDone rolls back a write whose conditional update matched no
// row, so that the records that would have reported it are not stored.
var errNothingDone = errors.New("sqlstore: nothing done")

const factorColumns = "id, pool_id, user_id, kind, secret, confirmed, last_step, created_at, last_used_at"

func factorDest(f *userpool.MFAFactor) []any {
	return []any{&f.ID, &f.PoolID, &f.UserID, &f.Kind, &f.Secret, boolDest{&f.Confirmed}, &f.LastStep,
		timeDest{&f.CreatedAt}, timeDest{&f.LastUsedAt}}
}

// PutMFAFactor deletes an unconfirmed factor of f's kind and inserts f;
// the unique index on (pool, user, kind) turns the insert into a no-op
// when a confirmed one remains, even against a concurrent enrolment.
func (s *Store) PutMFAFactor(ctx context.Context, f *userpool.MFAFactor, recs ...userpool.Record) error {
	f.CreatedAt, f.LastUsedAt = s.d.norm(f.CreatedAt), s.d.norm(f.LastUsedAt)
	return s.inTxRecords(ctx, "put mfa factor", recs, func(q queryer) error {
		if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM mfa_factors WHERE pool_id = ? AND user_id = ? AND kind = ? AND confirmed = ?"),
			f.PoolID, f.UserID, f.Kind, false); err != nil {
			return fmt.Errorf("sqlstore: put mfa factor: %w", err)
		}
		res, err := q.ExecContext(ctx, s.d.q("INSERT INTO mfa_factors ("+factorColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pool_id, user_id, kind) DO NOTHING"),
			f.ID, f.PoolID, f.UserID, f.Kind, f.Secret, f.Confirmed, f.LastStep, s.d.timeArg(f.CreatedAt), s.d.timeArg(f.LastUsedAt))
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: put mfa factor: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("sqlstore: put mfa factor: %w", err)
			}
			return userpool.ErrMFAAlreadyEnrolled
		}
		return nil
	})
}

// ListMFAFactors returns the user's factors, oldest first.
func (s *Store) ListMFAFactors(ctx context.Context, poolID, userID string) ([]*userpool.MFAFactor, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+factorColumns+" FROM mfa_factors WHERE pool_id = ? AND user_id = ? ORDER BY created_at, id"), poolID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list mfa factors: %w", err)
	}
	defer rows.Close()
	var out []*userpool.MFAFactor
	for rows.Next() {
		f := new(userpool.MFAFactor)
		if err := rows.Scan(factorDest(f)...); err != nil {
			return nil, fmt.Errorf("sqlstore: list mfa factors: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// UseTOTPStep is one conditional UPDATE: of two uses of one step (or of
// an older one), on any replicas, at most one matches the row.
func (s *Store) UseTOTPStep(ctx context.Context, poolID, id string, step int64, now time.Time, recs ...userpool.Record) (bool, error) {
	err := s.inTxRecords(ctx, "use totp step", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("UPDATE mfa_factors SET last_step = ?, confirmed = ?, last_used_at = ? WHERE pool_id = ? AND id = ? AND kind = 'totp' AND last_step < ?"),
			step, true, s.d.timeArg(s.d.norm(now)), poolID, id, step)
		return affected(res, err, "use totp step")
	})
	return doneOrNot(err)
}

// DeleteMFAFactors deletes factors of kind ("" every kind and the
// recovery codes).
func (s *Store) DeleteMFAFactors(ctx context.Context, poolID, userID, kind string, recs ...userpool.Record) (int, error) {
	var n int64
	err := s.inTxRecords(ctx, "delete mfa factors", recs, func(q queryer) error {
		query, args := "DELETE FROM mfa_factors WHERE pool_id = ? AND user_id = ?", []any{poolID, userID}
		if kind != "" {
			query, args = query+" AND kind = ?", append(args, kind)
		}
		res, err := q.ExecContext(ctx, s.d.q(query), args...)
		if err != nil {
			return fmt.Errorf("sqlstore: delete mfa factors: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: delete mfa factors: %w", err)
		}
		if kind == "" {
			if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM mfa_recovery_codes WHERE pool_id = ? AND user_id = ?"), poolID, userID); err != nil {
				return fmt.Errorf("sqlstore: delete recovery codes: %w", err)
			}
			// Passkeys are factors too: a reset removes them.
			res, err := q.ExecContext(ctx, s.d.q("DELETE FROM passkeys WHERE pool_id = ? AND user_id = ?"), poolID, userID)
			if err != nil {
				return fmt.Errorf("sqlstore: delete passkeys: %w", err)
			}
			pk, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("sqlstore: delete passkeys: %w", err)
			}
			n += pk
		}
		return nil
	})
	return int(n), err
}

// ReplaceRecoveryCodes deletes the user's codes and inserts hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, poolID, userID string, hashes [][]byte, now time.Time, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "replace recovery codes", recs, func(q queryer) error {
		if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM mfa_recovery_codes WHERE pool_id = ? AND user_id = ?"), poolID, userID); err != nil {
			return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
		}
		for _, h := range hashes {
			_, err := q.ExecContext(ctx, s.d.q("INSERT INTO mfa_recovery_codes (pool_id, user_id, hash, created_at) VALUES (?, ?, ?, ?)"),
				poolID, userID, h, s.d.timeArg(s.d.norm(now)))
			if s.d.foreignKeyViolation(err) {
				return userpool.ErrUserNotFound
			}
			if err != nil {
				return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
			}
		}
		return nil
	})
}

// RecoveryCodeUnused looks for an unused code.
func (s *Store) RecoveryCodeUnused(ctx context.Context, poolID, userID string, hash []byte) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM mfa_recovery_codes WHERE pool_id = ? AND user_id = ? AND hash = ? AND used_at IS NULL"), poolID, userID, hash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlstore: recovery code: %w", err)
	}
	return n > 0, nil
}

// spendRecoveryCode is one conditional UPDATE inside a login's
// transaction: of two logins spending one code, on any replicas, one
// matches the row and the other's whole write fails.
func (s *Store) spendRecoveryCode(ctx context.Context, q queryer, r *userpool.RecoveryCodeSpend) error {
	res, err := q.ExecContext(ctx, s.d.q("UPDATE mfa_recovery_codes SET used_at = ? WHERE pool_id = ? AND user_id = ? AND hash = ? AND used_at IS NULL"),
		s.d.timeArg(s.d.norm(r.At)), r.PoolID, r.UserID, r.Hash)
	if err := affected(res, err, "spend recovery code"); err != nil {
		if errors.Is(err, errNothingDone) {
			return userpool.ErrRecoveryCodeUsed
		}
		return err
	}
	return nil
}

// CountRecoveryCodes counts the unused codes.
func (s *Store) CountRecoveryCodes(ctx context.Context, poolID, userID string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM mfa_recovery_codes WHERE pool_id = ? AND user_id = ? AND used_at IS NULL"), poolID, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count recovery codes: %w", err)
	}
	return n, nil
}

const challengeColumns = "id, pool_id, user_id, method, credential, attempts, created_at, expires_at, used_at"

func challengeDest(c *userpool.MFAChallenge) []any {
	return []any{&c.ID, &c.PoolID, &c.UserID, &c.Method, &c.Credential, &c.Attempts,
		timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt}, timeDest{&c.UsedAt}}
}

// CreateMFAChallenge stores c.
func (s *Store) CreateMFAChallenge(ctx context.Context, c *userpool.MFAChallenge, recs ...userpool.Record) error {
	c.CreatedAt, c.ExpiresAt = s.d.norm(c.CreatedAt), s.d.norm(c.ExpiresAt)
	return s.withRecords(ctx, "create mfa challenge", recs, func(q queryer) error {
		_, err := q.ExecContext(ctx, s.d.q("INSERT INTO mfa_challenges ("+challengeColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			c.ID, c.PoolID, c.UserID, c.Method, c.Credential, c.Attempts, s.d.timeArg(c.CreatedAt), s.d.timeArg(c.ExpiresAt), nil)
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create mfa challenge: %w", err)
		}
		return nil
	})
}

// TryMFAChallenge is one UPDATE ... RETURNING, so that concurrent tries
// never take more than max attempts between them.
func (s *Store) TryMFAChallenge(ctx context.Context, poolID, id string, maxAttempts int, now time.Time) (*userpool.MFAChallenge, error) {
	c := new(userpool.MFAChallenge)
	err := s.write.QueryRowContext(ctx, s.d.q("UPDATE mfa_challenges SET attempts = attempts + 1 WHERE pool_id = ? AND id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ? RETURNING "+challengeColumns),
		poolID, id, s.d.timeArg(s.d.norm(now)), maxAttempts).Scan(challengeDest(c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: try mfa challenge: %w", err)
	}
	return c, nil
}

// GetMFAChallenge reads a challenge.
func (s *Store) GetMFAChallenge(ctx context.Context, poolID, id string) (*userpool.MFAChallenge, error) {
	c := new(userpool.MFAChallenge)
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+challengeColumns+" FROM mfa_challenges WHERE pool_id = ? AND id = ?"), poolID, id).Scan(challengeDest(c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get mfa challenge: %w", err)
	}
	return c, nil
}

// spendChallenge marks a challenge used inside a login's transaction; a
// challenge used already fails the whole write.
func (s *Store) spendChallenge(ctx context.Context, q queryer, r *userpool.MFAChallengeSpend) error {
	res, err := q.ExecContext(ctx, s.d.q("UPDATE mfa_challenges SET used_at = ? WHERE pool_id = ? AND id = ? AND used_at IS NULL"),
		s.d.timeArg(s.d.norm(r.At)), r.PoolID, r.ID)
	if err := affected(res, err, "spend mfa challenge"); err != nil {
		if errors.Is(err, errNothingDone) {
			return userpool.ErrMFATokenInvalid
		}
		return err
	}
	return nil
}

// MFARequiredFor reads the administrator's flag (false when never set).
func (s *Store) MFARequiredFor(ctx context.Context, poolID, userID string) (bool, error) {
	var req bool
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT required FROM mfa_users WHERE pool_id = ? AND user_id = ?"), poolID, userID).Scan(boolDest{&req})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: mfa required: %w", err)
	}
	return req, nil
}

// AnyMFARequired says whether an administrator requires MFA of any user
// of the pool (one probe of the partial index mfa_users_required).
func (s *Store) AnyMFARequired(ctx context.Context, poolID string) (bool, error) {
	q := "SELECT EXISTS (SELECT 1 FROM mfa_users WHERE pool_id = ? AND required = 1)"
	if s.d.name == "postgres" {
		q = "SELECT EXISTS (SELECT 1 FROM mfa_users WHERE pool_id = ? AND required)"
	}
	var found bool
	if err := s.read.QueryRowContext(ctx, s.d.q(q), poolID).Scan(boolDest{&found}); err != nil {
		return false, fmt.Errorf("sqlstore: any mfa required: %w", err)
	}
	return found, nil
}

// SetMFARequired upserts the flag.
func (s *Store) SetMFARequired(ctx context.Context, poolID, userID string, required bool, recs ...userpool.Record) error {
	// The per-pool answer of AnyMFARequired that this process caches goes
	// at once (other processes hear the trigger of migration 0023).
	defer s.localPool(poolID)
	return s.withRecords(ctx, "set mfa required", recs, func(q queryer) error {
		_, err := q.ExecContext(ctx, s.d.q("INSERT INTO mfa_users (pool_id, user_id, required) VALUES (?, ?, ?) ON CONFLICT (pool_id, user_id) DO UPDATE SET required = excluded.required"),
			poolID, userID, required)
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: set mfa required: %w", err)
		}
		return nil
	})
}

// affected turns an update's result into errNothingDone when it matched
// no row.
func affected(res sql.Result, err error, op string) error {
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if n == 0 {
		return errNothingDone
	}
	return nil
}

func doneOrNot(err error) (bool, error) {
	if errors.Is(err, errNothingDone) {
		return false, nil
	}
	return err == nil, err
}
