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
	err := s.inTx(ctx, "add signing key", func(tx *sql.Tx) error {
		if s.d.name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", signingKeyLockKey); err != nil {
				return fmt.Errorf("sqlstore: add signing key: lock: %w", err)
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM signing_keys").Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: add signing key: %w", err)
		}
		if n == 0 {
			nk := *k
			if nk.ID == "" {
				nk.ID = uuid.NewString()
			}
			if nk.CreatedAt.IsZero() {
				nk.CreatedAt = s.now()
			}
			if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES (?, ?, ?, ?)"),
				nk.ID, nk.Algorithm, nk.PrivatePEM, s.d.timeArg(nk.CreatedAt)); err != nil {
				return fmt.Errorf("sqlstore: add signing key: %w", err)
			}
		}
		var err error
		keys, err = s.signingKeys(ctx, tx)
		if err != nil {
			return fmt.Errorf("sqlstore: add signing key: %w", err)
		}
		return nil
	})
	return keys, err
}
