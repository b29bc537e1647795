package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

// adminKeyLockKey serialises AddAdminKeyIfNone across replicas on
// PostgreSQL, like signingKeyLockKey. The value is arbitrary but fixed
// ("authpadm").
const adminKeyLockKey int64 = 0x617574687061646d

// likeEscaper escapes the LIKE wildcards of a search term (ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListUsers returns one page of users, newest first, and the number of
// matching users. The search is a case-insensitive substring match of
// email, username and phone (lower() is ASCII-only on SQLite; emails are
// stored lower-cased anyway).
func (s *Store) ListUsers(ctx context.Context, q userpool.UserQuery) ([]*userpool.User, int, error) {
	where := " WHERE pool_id = ?"
	args := []any{q.PoolID}
	if q.Search != "" {
		pat := "%" + likeEscaper.Replace(strings.ToLower(q.Search)) + "%"
		where += ` AND (lower(email) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\')`
		args = append(args, pat, pat, pat)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	offset := max(q.Offset, 0)

	var total int
	if err := s.read.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM users"+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list users: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, s.d.q(userSelect+where+" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer rows.Close()
	var out []*userpool.User
	for rows.Next() {
		u := new(userpool.User)
		if err := rows.Scan(userDest(u)...); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return out, total, nil
}

// ListUserSessions returns the user's sessions alive at now, newest first.
func (s *Store) ListUserSessions(ctx context.Context, poolID, userID string, now time.Time) ([]*userpool.Session, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+sessionColumns+` FROM sessions
		WHERE pool_id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC LIMIT 1000`), poolID, userID, s.d.timeArg(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list user sessions: %w", err)
	}
	defer rows.Close()
	var out []*userpool.Session
	for rows.Next() {
		sess := new(userpool.Session)
		if err := rows.Scan(sessionDest(sess)...); err != nil {
			return nil, fmt.Errorf("sqlstore: list user sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list user sessions: %w", err)
	}
	return out, nil
}

// AdminKeys returns the stored administrator key hashes, oldest first.
func (s *Store) AdminKeys(ctx context.Context) ([]*userpool.AdminKey, error) {
	keys, err := s.adminKeys(ctx, s.read)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: admin keys: %w", err)
	}
	return keys, nil
}

func (s *Store) adminKeys(ctx context.Context, q queryer) ([]*userpool.AdminKey, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, hash, created_at FROM admin_keys ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*userpool.AdminKey
	for rows.Next() {
		k := new(userpool.AdminKey)
		if err := rows.Scan(&k.ID, &k.Hash, timeDest{&k.CreatedAt}); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// AddAdminKeyIfNone stores k only when the table is empty, under the same
// kind of lock as AddSigningKeyIfNone, and returns the stored keys.
func (s *Store) AddAdminKeyIfNone(ctx context.Context, k *userpool.AdminKey) ([]*userpool.AdminKey, error) {
	var keys []*userpool.AdminKey
	err := s.insertIfEmpty(ctx, "add admin key", "admin_keys", adminKeyLockKey,
		func(tx *sql.Tx) error {
			nk := *k
			if nk.ID == "" {
				nk.ID = uuid.NewString()
			}
			if nk.CreatedAt.IsZero() {
				nk.CreatedAt = s.now()
			}
			_, err := tx.ExecContext(ctx, s.d.q("INSERT INTO admin_keys (id, hash, created_at) VALUES (?, ?, ?)"),
				nk.ID, nk.Hash, s.d.timeArg(nk.CreatedAt))
			return err
		},
		func(tx *sql.Tx) (err error) {
			keys, err = s.adminKeys(ctx, tx)
			return err
		})
	return keys, err
}

// ReplaceAdminKeys deletes every stored key and stores k, in one
// transaction with recs and under the lock AddAdminKeyIfNone takes, so
// that a replica starting at the same moment either sees the old keys (and
// stores nothing) or sees k.
func (s *Store) ReplaceAdminKeys(ctx context.Context, k *userpool.AdminKey, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "replace admin keys", recs, func(tx queryer) error {
		if s.d.name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", adminKeyLockKey); err != nil {
				return fmt.Errorf("sqlstore: replace admin keys: lock: %w", err)
			}
		}
		nk := *k
		if nk.ID == "" {
			nk.ID = uuid.NewString()
		}
		if nk.CreatedAt.IsZero() {
			nk.CreatedAt = s.now()
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM admin_keys"); err != nil {
			return fmt.Errorf("sqlstore: replace admin keys: %w", err)
		}
		// The console sessions the old key signed in end with it.
		if _, err := tx.ExecContext(ctx, "DELETE FROM console_sessions WHERE key_id = ''"); err != nil {
			return fmt.Errorf("sqlstore: replace admin keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO admin_keys (id, hash, created_at) VALUES (?, ?, ?)"),
			nk.ID, nk.Hash, s.d.timeArg(nk.CreatedAt)); err != nil {
			return fmt.Errorf("sqlstore: replace admin keys: %w", err)
		}
		return nil
	})
}
