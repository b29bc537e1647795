package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

const poolColumns = "id, name, is_default, created_at, settings"

func poolDest(p *userpool.Pool) []any {
	return []any{&p.ID, &p.Name, boolDest{&p.IsDefault}, timeDest{&p.CreatedAt}, settingsDest{&p.Settings}}
}

// settingsDest scans the JSON settings column over the defaults, so that a
// setting added after the pool was stored takes its default value.
type settingsDest struct{ s *userpool.PoolSettings }

func (d settingsDest) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into pool settings", src)
	}
	*d.s = userpool.DefaultPoolSettings()
	if err := json.Unmarshal(raw, d.s); err != nil {
		return fmt.Errorf("sqlstore: pool settings: %w", err)
	}
	return nil
}

func settingsArg(s userpool.PoolSettings) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode pool settings: %w", err)
	}
	return string(b), nil
}

// EnsureDefaultPool returns the default pool, creating it from p when there
// is none. Replicas calling it together agree on one pool: the partial
// unique index pools_one_default admits one default row, and the losers'
// inserts turn into no-ops (ON CONFLICT DO NOTHING), after which they read
// the winner's row. p itself is not modified.
func (s *Store) EnsureDefaultPool(ctx context.Context, p *userpool.Pool) (*userpool.Pool, error) {
	got, err := s.defaultPool(ctx, s.read)
	if !errors.Is(err, userpool.ErrPoolNotFound) {
		return got, err
	}
	np := *p
	np.IsDefault = true
	if np.ID == "" {
		np.ID = uuid.NewString()
	}
	if np.CreatedAt.IsZero() {
		np.CreatedAt = s.now()
	}
	settings, err := settingsArg(np.Settings)
	if err != nil {
		return nil, err
	}
	if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO pools ("+poolColumns+") VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
		np.ID, np.Name, true, s.d.timeArg(np.CreatedAt), settings); err != nil {
		return nil, fmt.Errorf("sqlstore: ensure default pool: %w", err)
	}
	// Read from the writer: it has just seen the committed winner, whoever
	// that was.
	got, err = s.defaultPool(ctx, s.write)
	if errors.Is(err, userpool.ErrPoolNotFound) {
		// The insert was skipped for its id, not for the default.
		return nil, fmt.Errorf("sqlstore: ensure default pool: pool %q exists but is not the default", np.ID)
	}
	return got, err
}

func (s *Store) defaultPool(ctx context.Context, q queryer) (*userpool.Pool, error) {
	p := new(userpool.Pool)
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+poolColumns+" FROM pools WHERE is_default = ?"), true).Scan(poolDest(p)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrPoolNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get default pool: %w", err)
	}
	return p, nil
}

// GetPool returns the pool, or ErrPoolNotFound.
func (s *Store) GetPool(ctx context.Context, id string) (*userpool.Pool, error) {
	p := new(userpool.Pool)
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+poolColumns+" FROM pools WHERE id = ?"), id).Scan(poolDest(p)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrPoolNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get pool: %w", err)
	}
	return p, nil
}

// CreatePool inserts p, filling in ID (a random UUID) and CreatedAt when
// they are empty; on return p holds what was stored. A second default pool
// or a duplicate id is an error.
func (s *Store) CreatePool(ctx context.Context, p *userpool.Pool) error {
	if p.ID == "" {
		p.ID = uuid.NewString()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	p.CreatedAt = s.d.norm(p.CreatedAt)
	settings, err := settingsArg(p.Settings)
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO pools ("+poolColumns+") VALUES (?, ?, ?, ?, ?)"),
		p.ID, p.Name, p.IsDefault, s.d.timeArg(p.CreatedAt), settings); err != nil {
		return fmt.Errorf("sqlstore: create pool: %w", err)
	}
	return nil
}

// ListPools returns every pool, oldest first.
func (s *Store) ListPools(ctx context.Context) ([]*userpool.Pool, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+poolColumns+" FROM pools ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list pools: %w", err)
	}
	defer rows.Close()
	var pools []*userpool.Pool
	for rows.Next() {
		p := new(userpool.Pool)
		if err := rows.Scan(poolDest(p)...); err != nil {
			return nil, fmt.Errorf("sqlstore: list pools: %w", err)
		}
		pools = append(pools, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list pools: %w", err)
	}
	return pools, nil
}

// UpdatePool reads the pool, calls fn and writes its name and settings back
// in one transaction, the row locked from read to write.
func (s *Store) UpdatePool(ctx context.Context, id string, fn func(*userpool.Pool) error) (*userpool.Pool, error) {
	defer s.localPool(id)
	var p *userpool.Pool
	err := s.inTx(ctx, "update pool", func(tx *sql.Tx) error {
		p = new(userpool.Pool)
		err := tx.QueryRowContext(ctx, s.d.q("SELECT "+poolColumns+" FROM pools WHERE id = ?"+s.d.forUpdate), id).Scan(poolDest(p)...)
		if errors.Is(err, sql.ErrNoRows) {
			return userpool.ErrPoolNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update pool: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
		if p.ID != id {
			return errors.New("sqlstore: update pool: fn changed the pool's ID")
		}
		settings, err := settingsArg(p.Settings)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE pools SET name = ?, settings = ? WHERE id = ?"), p.Name, settings, id); err != nil {
			return fmt.Errorf("sqlstore: update pool: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
