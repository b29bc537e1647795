package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	rows, err := q.QueryContext(ctx, "SELECT id, algorithm, private_pem, created_at, signs_from, last_expiry, retired_at FROM signing_keys ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*userpool.SigningKey
	for rows.Next() {
		k := new(userpool.SigningKey)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivatePEM, timeDest{&k.CreatedAt}, timeDest{&k.SignsFrom},
			timeDest{&k.LastExpiry}, timeDest{&k.RetiredAt}); err != nil {
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
			return s.insertSigningKey(ctx, tx, k)
		},
		func(tx *sql.Tx) (err error) {
			keys, err = s.signingKeys(ctx, tx)
			return err
		})
	return keys, err
}

// insertSigningKey inserts k, filling in ID (a random UUID), CreatedAt
// (now) and SignsFrom (CreatedAt) when empty.
func (s *Store) insertSigningKey(ctx context.Context, q queryer, k *userpool.SigningKey) error {
	nk := *k
	if nk.ID == "" {
		nk.ID = uuid.NewString()
	}
	if nk.CreatedAt.IsZero() {
		nk.CreatedAt = s.now()
	}
	if nk.SignsFrom.IsZero() {
		nk.SignsFrom = nk.CreatedAt
	}
	_, err := q.ExecContext(ctx, s.d.q("INSERT INTO signing_keys (id, algorithm, private_pem, created_at, signs_from, last_expiry, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		nk.ID, nk.Algorithm, nk.PrivatePEM, s.d.timeArg(nk.CreatedAt), s.d.timeArg(nk.SignsFrom),
		s.d.timeArg(nk.LastExpiry), s.d.timeArg(nk.RetiredAt))
	return err
}

// RotateSigningKey stores k (ID, CreatedAt and SignsFrom filled in as by
// AddSigningKeyIfNone) only when no key that is not retired has SignsFrom
// after latest, under the same lock as AddSigningKeyIfNone, so replicas
// rotating at once store exactly one key and all read it.
func (s *Store) RotateSigningKey(ctx context.Context, k *userpool.SigningKey, latest time.Time) ([]*userpool.SigningKey, bool, error) {
	const op = "rotate signing key"
	var keys []*userpool.SigningKey
	added := false
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		if s.d.name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", signingKeyLockKey); err != nil {
				return fmt.Errorf("sqlstore: %s: lock: %w", op, err)
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM signing_keys WHERE retired_at IS NULL AND signs_from > ?"),
			s.d.timeArg(latest)).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		if n == 0 {
			if err := s.insertSigningKey(ctx, tx, k); err != nil {
				return fmt.Errorf("sqlstore: %s: %w", op, err)
			}
			added = true
		}
		var err error
		if keys, err = s.signingKeys(ctx, tx); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return keys, added, nil
}

// NoteSigningKeyExpiry raises the key's last_expiry to exp. The update is
// one statement guarded by "not retired", so it and RetireSigningKey
// cannot both win: either the expiry is recorded before the retirement
// (which then sees it) or the signer learns the key is retired.
func (s *Store) NoteSigningKeyExpiry(ctx context.Context, id string, exp time.Time) error {
	res, err := s.write.ExecContext(ctx, s.d.q("UPDATE signing_keys SET last_expiry = ? WHERE id = ? AND retired_at IS NULL AND (last_expiry IS NULL OR last_expiry < ?)"),
		s.d.timeArg(exp), id, s.d.timeArg(exp))
	if err != nil {
		return fmt.Errorf("sqlstore: note signing key expiry: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: note signing key expiry: %w", err)
	} else if n == 1 {
		return nil
	}
	// Nothing changed: already later (fine), or missing or retired.
	var retired timeDest
	var at time.Time
	retired.t = &at
	err = s.read.QueryRowContext(ctx, s.d.q("SELECT retired_at FROM signing_keys WHERE id = ?"), id).Scan(retired)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return userpool.ErrNotFound
	case err != nil:
		return fmt.Errorf("sqlstore: note signing key expiry: %w", err)
	case !at.IsZero():
		return userpool.ErrNotFound
	}
	return nil
}

// RetireSigningKey marks the key retired and erases its private key when
// no token it signed expires after lastExpiryBy.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at, lastExpiryBy time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("UPDATE signing_keys SET retired_at = ?, private_pem = ? WHERE id = ? AND retired_at IS NULL AND (last_expiry IS NULL OR last_expiry <= ?)"),
		s.d.timeArg(at), []byte{}, id, s.d.timeArg(lastExpiryBy))
	if err != nil {
		return false, fmt.Errorf("sqlstore: retire signing key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: retire signing key: %w", err)
	}
	return n == 1, nil
}

// DeleteRetiredSigningKeys deletes keys retired before before.
func (s *Store) DeleteRetiredSigningKeys(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?"), s.d.timeArg(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete retired signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete retired signing keys: %w", err)
	}
	return int(n), nil
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
