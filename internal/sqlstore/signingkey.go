package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

// signingKeyLockKey is the PostgreSQL advisory lock that makes "insert when
// the table is empty" atomic across replicas; READ COMMITTED alone would let
// two transactions both see an empty table. The value is arbitrary but
// fixed ("authpkey").
const signingKeyLockKey int64 = 0x61757468706b6579

// SigningKeys returns every stored signing key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]*userpool.SigningKey, error) {
	keys, err := s.signingKeys(ctx, s.read)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	return keys, nil
}

func (s *Store) signingKeys(ctx context.Context, q queryer) ([]*userpool.SigningKey, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, algorithm, private_pem, created_at FROM signing_keys ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*userpool.SigningKey
	for rows.Next() {
		k := new(userpool.SigningKey)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivatePEM, timeDest{&k.CreatedAt}); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// AddSigningKeyIfNone stores k, filling in ID (a random UUID) and CreatedAt
// when empty, only when no key exists yet, and returns the keys that exist
// afterwards. The check and the insert run under a lock (an advisory lock
// on PostgreSQL, the write lock taken by BEGIN IMMEDIATE on SQLite), so
// replicas starting together store exactly one key and all return it.
func (s *Store) AddSigningKeyIfNone(ctx context.Context, k *userpool.SigningKey) ([]*userpool.SigningKey, error) {
	var keys []*userpool.SigningKey
	err := s.insertIfEmpty(ctx, "add signing key", "signing_keys", signingKeyLockKey,
		func(tx *sql.Tx) error {
			nk := *k
			if nk.ID == "" {
				nk.ID = uuid.NewString()
			}
			if nk.CreatedAt.IsZero() {
				nk.CreatedAt = s.now()
			}
			_, err := tx.ExecContext(ctx, s.d.q("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES (?, ?, ?, ?)"),
				nk.ID, nk.Algorithm, nk.PrivatePEM, s.d.timeArg(nk.CreatedAt))
			return err
		},
		func(tx *sql.Tx) (err error) {
			keys, err = s.signingKeys(ctx, tx)
			return err
		})
	return keys, err
}

// insertIfEmpty runs insert only when table has no row, then read, in one
// transaction under a lock (the advisory lock lockKey on PostgreSQL, the
// write lock BEGIN IMMEDIATE takes on SQLite), so that replicas starting
// together store exactly one row and all read it.
func (s *Store) insertIfEmpty(ctx context.Context, op, table string, lockKey int64, insert, read func(*sql.Tx) error) error {
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		if s.d.name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
				return fmt.Errorf("sqlstore: %s: lock: %w", op, err)
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		if n == 0 {
			if err := insert(tx); err != nil {
				return fmt.Errorf("sqlstore: %s: %w", op, err)
			}
		}
		if err := read(tx); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		return nil
	})
}
