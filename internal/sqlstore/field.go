package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

const fieldColumns = "pool_id, key, data_type, label, description, created_at, updated_at, user_editable"

func fieldDest(f *userpool.Field) []any {
	return []any{&f.PoolID, &f.Key, &f.DataType, &f.Label, &f.Description, timeDest{&f.CreatedAt}, timeDest{&f.UpdatedAt}, boolDest{&f.UserEditable}}
}

// forShare locks the rows read so that they cannot change or vanish until
// the transaction ends, while letting other readers take the same lock.
// SQLite needs none: BEGIN IMMEDIATE already holds the only write lock.
func (d dialect) forShare() string {
	if d.name == "postgres" {
		return " FOR SHARE"
	}
	return ""
}

// CreateField inserts f, filling in CreatedAt and UpdatedAt when zero. A
// key already defined in the pool gets ErrFieldExists, an unknown pool
// ErrPoolNotFound.
func (s *Store) CreateField(ctx context.Context, f *userpool.Field) error {
	defer s.localPool(f.PoolID)
	if f.CreatedAt.IsZero() {
		f.CreatedAt = s.now()
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = f.CreatedAt
	}
	f.CreatedAt, f.UpdatedAt = s.d.norm(f.CreatedAt), s.d.norm(f.UpdatedAt)
	// ON CONFLICT DO NOTHING turns a duplicate into "no row inserted" on
	// both backends, without parsing their error texts.
	res, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO user_fields ("+fieldColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
		f.PoolID, f.Key, string(f.DataType), f.Label, f.Description, s.d.timeArg(f.CreatedAt), s.d.timeArg(f.UpdatedAt), f.UserEditable)
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create field: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: create field: %w", err)
	}
	if n == 0 {
		return userpool.ErrFieldExists
	}
	return nil
}

// GetField returns the definition, or ErrFieldNotFound.
func (s *Store) GetField(ctx context.Context, poolID, key string) (*userpool.Field, error) {
	return s.getField(ctx, s.read, "", poolID, key)
}

func (s *Store) getField(ctx context.Context, q queryer, lock, poolID, key string) (*userpool.Field, error) {
	f := new(userpool.Field)
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+fieldColumns+" FROM user_fields WHERE pool_id = ? AND key = ?"+lock), poolID, key).Scan(fieldDest(f)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrFieldNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get field: %w", err)
	}
	return f, nil
}

// ListFields returns the pool's definitions ordered by key.
func (s *Store) ListFields(ctx context.Context, poolID string) ([]*userpool.Field, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+fieldColumns+" FROM user_fields WHERE pool_id = ? ORDER BY key"), poolID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list fields: %w", err)
	}
	defer rows.Close()
	var out []*userpool.Field
	for rows.Next() {
		f := new(userpool.Field)
		if err := rows.Scan(fieldDest(f)...); err != nil {
			return nil, fmt.Errorf("sqlstore: list fields: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list fields: %w", err)
	}
	return out, nil
}

// UpdateField changes a definition under a row lock. The lock is what makes
// "no type change while values exist" hold against concurrent
// SetUserValues, which takes a shared lock on the same row before writing.
func (s *Store) UpdateField(ctx context.Context, poolID, key string, fn func(*userpool.Field) error) (*userpool.Field, error) {
	defer s.localPool(poolID)
	var f *userpool.Field
	err := s.inTx(ctx, "update field", func(tx *sql.Tx) error {
		var err error
		f, err = s.getField(ctx, tx, s.d.forUpdate, poolID, key)
		if err != nil {
			return err
		}
		oldType, updatedAt := f.DataType, f.UpdatedAt
		if err := fn(f); err != nil {
			return err
		}
		if f.PoolID != poolID || f.Key != key {
			return errors.New("sqlstore: update field: fn changed the field's PoolID or Key")
		}
		if f.DataType != oldType {
			var inUse bool
			if err := tx.QueryRowContext(ctx, s.d.q("SELECT EXISTS (SELECT 1 FROM user_values WHERE pool_id = ? AND key = ?)"), poolID, key).Scan(boolDest{&inUse}); err != nil {
				return fmt.Errorf("sqlstore: update field: %w", err)
			}
			if inUse {
				return userpool.ErrFieldInUse
			}
		}
		if f.UpdatedAt.IsZero() || f.UpdatedAt.Equal(updatedAt) {
			f.UpdatedAt = s.now()
		}
		f.UpdatedAt = s.d.norm(f.UpdatedAt)
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE user_fields SET data_type = ?, label = ?, description = ?, updated_at = ?, user_editable = ? WHERE pool_id = ? AND key = ?"),
			string(f.DataType), f.Label, f.Description, s.d.timeArg(f.UpdatedAt), f.UserEditable, poolID, key)
		if err != nil {
			return fmt.Errorf("sqlstore: update field: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// DeleteField deletes the definition and its values in one transaction.
// The values go explicitly and through the foreign key's cascade both, so
// neither a missing foreign_keys pragma nor a racing SetUserValues (which
// waits for the row lock, then finds no field) can leave an orphan value.
func (s *Store) DeleteField(ctx context.Context, poolID, key string) error {
	defer s.localPool(poolID)
	return s.inTx(ctx, "delete field", func(tx *sql.Tx) error {
		if _, err := s.getField(ctx, tx, s.d.forUpdate, poolID, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM user_values WHERE pool_id = ? AND key = ?"), poolID, key); err != nil {
			return fmt.Errorf("sqlstore: delete field: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM user_fields WHERE pool_id = ? AND key = ?"), poolID, key); err != nil {
			return fmt.Errorf("sqlstore: delete field: %w", err)
		}
		return nil
	})
}

// CountFieldValues counts the pool's values of key (an index on
// user_values leads with pool_id and key).
func (s *Store) CountFieldValues(ctx context.Context, poolID, key string) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM user_values WHERE pool_id = ? AND key = ?"), poolID, key).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count field values: %w", err)
	}
	return n, nil
}

// ListUserValues returns the user's values with their fields' type and
// label, ordered by key.
func (s *Store) ListUserValues(ctx context.Context, poolID, userID string) ([]*userpool.UserValue, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q(`SELECT v.pool_id, v.user_id, v.key, f.data_type, f.label, v.value, v.updated_at
		FROM user_values v JOIN user_fields f ON f.pool_id = v.pool_id AND f.key = v.key
		WHERE v.pool_id = ? AND v.user_id = ? ORDER BY v.key`), poolID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list user values: %w", err)
	}
	defer rows.Close()
	var out []*userpool.UserValue
	for rows.Next() {
		v := new(userpool.UserValue)
		if err := rows.Scan(&v.PoolID, &v.UserID, &v.Key, &v.DataType, &v.Label, &v.Value, timeDest{&v.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list user values: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list user values: %w", err)
	}
	return out, nil
}

// SetUserValues upserts the values in one transaction (see setValues).
func (s *Store) SetUserValues(ctx context.Context, poolID, userID string, vals []*userpool.UserValue) error {
	if len(vals) == 0 {
		return nil
	}
	return s.inTx(ctx, "set user values", func(tx *sql.Tx) error { return s.setValues(ctx, tx, poolID, userID, vals) })
}

// setValues upserts the values through q, a transaction. Each field row
// is read under a shared lock first, so the type checked here is the type
// the field has when the value lands, and the field cannot be deleted
// underneath it; with the field present, a foreign key failure can only
// mean a missing user.
func (s *Store) setValues(ctx context.Context, q queryer, poolID, userID string, vals []*userpool.UserValue) error {
	// One lock order for every transaction.
	sorted := slices.Clone(vals)
	slices.SortFunc(sorted, func(a, b *userpool.UserValue) int { return strings.Compare(a.Key, b.Key) })
	for _, v := range sorted {
		f, err := s.getField(ctx, q, s.d.forShare(), poolID, v.Key)
		if err != nil {
			return err
		}
		if f.DataType != v.DataType {
			return userpool.ErrFieldTypeChanged
		}
		if v.UpdatedAt.IsZero() {
			v.UpdatedAt = s.now()
		}
		v.PoolID, v.UserID, v.Label = poolID, userID, f.Label
		v.UpdatedAt = s.d.norm(v.UpdatedAt)
		_, err = q.ExecContext(ctx, s.d.q(`INSERT INTO user_values (pool_id, user_id, key, value, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (pool_id, user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
			poolID, userID, v.Key, v.Value, s.d.timeArg(v.UpdatedAt))
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: set user values: %w", err)
		}
	}
	return nil
}

// changeValues applies a ValueChange record through q (a transaction):
// the values of Set, then the removals.
func (s *Store) changeValues(ctx context.Context, q queryer, c *userpool.ValueChange) error {
	if c.PoolID == "" || c.UserID == "" {
		return errors.New("sqlstore: value change: PoolID and UserID are required")
	}
	if err := s.setValues(ctx, q, c.PoolID, c.UserID, c.Set); err != nil {
		return err
	}
	for _, key := range c.Remove {
		if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM user_values WHERE pool_id = ? AND user_id = ? AND key = ?"), c.PoolID, c.UserID, key); err != nil {
			return fmt.Errorf("sqlstore: remove user value: %w", err)
		}
	}
	return nil
}

// DeleteUserValue removes one value; a missing one is no error.
func (s *Store) DeleteUserValue(ctx context.Context, poolID, userID, key string) error {
	if _, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM user_values WHERE pool_id = ? AND user_id = ? AND key = ?"), poolID, userID, key); err != nil {
		return fmt.Errorf("sqlstore: delete user value: %w", err)
	}
	return nil
}
