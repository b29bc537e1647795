package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// Migration 0009 added the comparison keys of usernames and email
// addresses (username_key, email_key); SQL cannot compute them, so Migrate
// fills them here for rows that have none: the rows that existed before,
// and rows an older version wrote during a rolling upgrade. Rows are taken
// oldest first, so of two accounts whose identifiers now compare equal
// ("Admin" and "admin") the older keeps the identifier; the newer keeps its
// spelling with a NULL key. Nothing is merged or deleted: the newer
// account still works by its other identifiers and its id, and
// KeyCollisions lists it for the operator (docs/SECURITY.md says what to do).

// keyBatch is how many unkeyed rows one read of the fill takes.
const keyBatch = 500

// unkeyedWhere selects the rows with an identifier but no key; spelled as
// in the partial index users_unkeyed, which serves it.
const unkeyedWhere = "((username IS NOT NULL AND username_key IS NULL) OR (email IS NOT NULL AND email_key IS NULL))"

type unkeyedRow struct {
	poolID, id      string
	createdAt       time.Time
	username, email string // "" when the row has it keyed, or has none
}

// unkeyed reads up to keyBatch rows without a key, after the (created_at,
// id) cursor when after is not nil.
func (s *Store) unkeyed(ctx context.Context, after *unkeyedRow) ([]unkeyedRow, error) {
	q := "SELECT pool_id, id, created_at, CASE WHEN username_key IS NULL THEN username END, CASE WHEN email_key IS NULL THEN email END FROM users WHERE " + unkeyedWhere
	var args []any
	if after != nil {
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		at := s.d.timeArg(after.createdAt)
		args = append(args, at, at, after.id)
	}
	q += fmt.Sprintf(" ORDER BY created_at, id LIMIT %d", keyBatch)
	rows, err := s.write.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []unkeyedRow
	for rows.Next() {
		var r unkeyedRow
		if err := rows.Scan(&r.poolID, &r.id, timeDest{&r.createdAt}, stringDest{&r.username}, stringDest{&r.email}); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// keyColumns names, per identifier kind, the column and its key column.
var keyColumns = map[string][2]string{
	"username": {"username", "username_key"},
	"email":    {"email", "email_key"},
}

// fillKeys gives every row without a key its key, unless another row of
// the pool holds it. A batch is one transaction (one commit per batch, not
// per row, on a large first fill); should a key be taken meanwhile (a
// registration on a running replica), which aborts a PostgreSQL
// transaction, the batch is done again one statement per row, and the row
// whose key was taken is left as a collision.
func (s *Store) fillKeys(ctx context.Context) error {
	var after *unkeyedRow
	for {
		batch, err := s.unkeyed(ctx, after)
		if err != nil {
			return fmt.Errorf("sqlstore: key identifiers: %w", err)
		}
		err = s.inTx(ctx, "key identifiers", func(tx *sql.Tx) error { return s.keyRows(ctx, tx, batch, false) })
		if err != nil && s.d.uniqueUserViolation(err) != nil {
			err = s.keyRows(ctx, s.write, batch, true)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: key identifiers: %w", err)
		}
		if len(batch) < keyBatch {
			return nil
		}
		after = &batch[len(batch)-1]
	}
}

// keyRows keys the rows of batch; with taken, a key another row took
// meanwhile leaves the row unkeyed instead of failing.
func (s *Store) keyRows(ctx context.Context, q queryer, batch []unkeyedRow, taken bool) error {
	for _, r := range batch {
		for _, c := range []struct{ kind, spelling, key string }{
			{"username", r.username, userpool.UsernameKey(r.username)},
			{"email", r.email, userpool.EmailKey(r.email)},
		} {
			if c.spelling == "" {
				continue
			}
			col := keyColumns[c.kind]
			// The spelling is checked again: it may have changed since it
			// was read (and the update then keyed it).
			_, err := q.ExecContext(ctx, s.d.q("UPDATE users SET "+col[1]+" = ? WHERE pool_id = ? AND id = ? AND "+col[1]+" IS NULL AND "+col[0]+" = ?"+
				" AND NOT EXISTS (SELECT 1 FROM users o WHERE o.pool_id = ? AND o."+col[1]+" = ?)"),
				c.key, r.poolID, r.id, c.spelling, r.poolID, c.key)
			if err != nil && !(taken && s.d.uniqueUserViolation(err) != nil) {
				return err
			}
		}
	}
	return nil
}

// KeyCollision is an account whose username or email address compares
// equal (userpool.UsernameKey, EmailKey) to another account's of its pool,
// found when the keys were introduced: it keeps its spelling but no key,
// so it cannot be found by that identifier.
type KeyCollision struct {
	PoolID, UserID string
	// Kind is "username" or "email".
	Kind string
	// HolderID is the account that holds the key; "" when none does (a row
	// an older version wrote since the keys were filled: the next start
	// keys it).
	HolderID string
}

// KeyCollisions lists the accounts left without a key, oldest first. It
// names accounts by id only: the identifiers are personal data and stay
// in the database.
func (s *Store) KeyCollisions(ctx context.Context) ([]KeyCollision, error) {
	var out []KeyCollision
	var after *unkeyedRow
	for {
		batch, err := s.unkeyed(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: key collisions: %w", err)
		}
		for _, r := range batch {
			for _, c := range []struct{ kind, spelling, key string }{
				{"username", r.username, userpool.UsernameKey(r.username)},
				{"email", r.email, userpool.EmailKey(r.email)},
			} {
				if c.spelling == "" {
					continue
				}
				col := keyColumns[c.kind]
				var holder string
				err := s.read.QueryRowContext(ctx, s.d.q("SELECT id FROM users WHERE pool_id = ? AND "+col[1]+" = ?"), r.poolID, c.key).Scan(&holder)
				if err != nil && err != sql.ErrNoRows {
					return nil, fmt.Errorf("sqlstore: key collisions: %w", err)
				}
				out = append(out, KeyCollision{PoolID: r.poolID, UserID: r.id, Kind: c.kind, HolderID: holder})
			}
		}
		if len(batch) < keyBatch {
			return out, nil
		}
		after = &batch[len(batch)-1]
	}
}
