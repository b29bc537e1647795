package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

const appColumns = "id, pool_id, name, type, redirect_uris, post_logout_redirect_uris, scopes, first_party, access_token_ttl_s, id_token_ttl_s, refresh_token_ttl_s, secret_hash, created_at, updated_at"

type appRow struct {
	a                          userpool.App
	typ                        string
	redirects, logouts, scopes string
	access, id, refresh        int64
}

func (r *appRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.PoolID, &a.Name, &r.typ, &r.redirects, &r.logouts, &r.scopes, boolDest{&a.FirstParty},
		&r.access, &r.id, &r.refresh, &a.SecretHash, timeDest{&a.CreatedAt}, timeDest{&a.UpdatedAt}}
}

func (r *appRow) app() (*userpool.App, error) {
	a := r.a
	a.Type = userpool.AppType(r.typ)
	for _, l := range []struct {
		text string
		dst  *[]string
	}{{r.redirects, &a.RedirectURIs}, {r.logouts, &a.PostLogoutRedirectURIs}, {r.scopes, &a.Scopes}} {
		if err := json.Unmarshal([]byte(l.text), l.dst); err != nil {
			return nil, fmt.Errorf("sqlstore: app %s: %w", a.ID, err)
		}
		if *l.dst == nil {
			*l.dst = []string{}
		}
	}
	a.AccessTokenTTL = time.Duration(r.access) * time.Second
	a.IDTokenTTL = time.Duration(r.id) * time.Second
	a.RefreshTokenTTL = time.Duration(r.refresh) * time.Second
	if len(a.SecretHash) == 0 {
		a.SecretHash = nil
	}
	return &a, nil
}

// appArgs are the JSON texts of a's lists.
func appArgs(a *userpool.App) (redirects, logouts, scopes string, err error) {
	enc := func(l []string) string {
		if l == nil {
			l = []string{}
		}
		b, e := json.Marshal(l)
		if e != nil {
			err = e
		}
		return string(b)
	}
	return enc(a.RedirectURIs), enc(a.PostLogoutRedirectURIs), enc(a.Scopes), err
}

// secretArg stores a missing hash as NULL.
func secretArg(h []byte) any {
	if len(h) == 0 {
		return nil
	}
	return h
}

// CreateApp inserts a; see userpool.AppStore.
func (s *Store) CreateApp(ctx context.Context, a *userpool.App, recs ...userpool.Record) error {
	if a.ID == "" || a.PoolID == "" {
		return errors.New("sqlstore: create app: ID and PoolID are required")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.CreatedAt, a.UpdatedAt = s.d.norm(a.CreatedAt), s.d.norm(a.UpdatedAt)
	redirects, logouts, scopes, err := appArgs(a)
	if err != nil {
		return fmt.Errorf("sqlstore: create app: %w", err)
	}
	err = s.withRecords(ctx, "create app", recs, func(q queryer) error {
		_, err := q.ExecContext(ctx, s.d.q("INSERT INTO apps ("+appColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			a.ID, a.PoolID, a.Name, string(a.Type), redirects, logouts, scopes, a.FirstParty,
			int64(a.AccessTokenTTL/time.Second), int64(a.IDTokenTTL/time.Second), int64(a.RefreshTokenTTL/time.Second),
			secretArg(a.SecretHash), s.d.timeArg(a.CreatedAt), s.d.timeArg(a.UpdatedAt))
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrPoolNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create app: %w", err)
		}
		return nil
	})
	return err
}

// GetApp returns the pool's app, or ErrNotFound.
func (s *Store) GetApp(ctx context.Context, poolID, id string) (*userpool.App, error) {
	return s.getApp(ctx, s.read, "", poolID, id)
}

func (s *Store) getApp(ctx context.Context, q queryer, lock, poolID, id string) (*userpool.App, error) {
	var r appRow
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+appColumns+" FROM apps WHERE pool_id = ? AND id = ?"+lock), poolID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get app: %w", err)
	}
	return r.app()
}

// ListApps returns the pool's apps, oldest first.
func (s *Store) ListApps(ctx context.Context, poolID string) ([]*userpool.App, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+appColumns+" FROM apps WHERE pool_id = ? ORDER BY created_at, id"), poolID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list apps: %w", err)
	}
	defer rows.Close()
	out := []*userpool.App{}
	for rows.Next() {
		var r appRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: list apps: %w", err)
		}
		a, err := r.app()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list apps: %w", err)
	}
	return out, nil
}

// UpdateApp reads, calls fn and writes back in one transaction.
func (s *Store) UpdateApp(ctx context.Context, poolID, id string, fn func(*userpool.App) error, recs ...userpool.Record) (*userpool.App, error) {
	var a *userpool.App
	err := s.inTxRecords(ctx, "update app", recs, func(tx queryer) error {
		var err error
		if a, err = s.getApp(ctx, tx, s.d.forUpdate, poolID, id); err != nil {
			return err
		}
		createdAt, updatedAt, typ := a.CreatedAt, a.UpdatedAt, a.Type
		if err := fn(a); err != nil {
			return err
		}
		if a.ID != id || a.PoolID != poolID || a.Type != typ {
			return errors.New("sqlstore: update app: fn changed the app's ID, PoolID or Type")
		}
		a.CreatedAt = createdAt
		if a.UpdatedAt.IsZero() || a.UpdatedAt.Equal(updatedAt) {
			a.UpdatedAt = s.now()
		}
		a.UpdatedAt = s.d.norm(a.UpdatedAt)
		redirects, logouts, scopes, err := appArgs(a)
		if err != nil {
			return fmt.Errorf("sqlstore: update app: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE apps SET name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, scopes = ?,
			first_party = ?, access_token_ttl_s = ?, id_token_ttl_s = ?, refresh_token_ttl_s = ?, secret_hash = ?, updated_at = ?
			WHERE pool_id = ? AND id = ?`),
			a.Name, redirects, logouts, scopes, a.FirstParty,
			int64(a.AccessTokenTTL/time.Second), int64(a.IDTokenTTL/time.Second), int64(a.RefreshTokenTTL/time.Second),
			secretArg(a.SecretHash), s.d.timeArg(a.UpdatedAt), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: update app: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// SetAppSecret replaces the app's secret hash in one statement.
func (s *Store) SetAppSecret(ctx context.Context, poolID, id string, hash []byte, updatedAt time.Time, recs ...userpool.Record) (*userpool.App, error) {
	if len(hash) == 0 {
		return nil, errors.New("sqlstore: set app secret: empty hash")
	}
	var a *userpool.App
	err := s.inTxRecords(ctx, "set app secret", recs, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE apps SET secret_hash = ?, updated_at = ? WHERE pool_id = ? AND id = ?"),
			hash, s.d.timeArg(s.d.norm(updatedAt)), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: set app secret: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: set app secret: %w", err)
		} else if n == 0 {
			return userpool.ErrNotFound
		}
		a, err = s.getApp(ctx, tx, "", poolID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteApp deletes the app, or returns ErrNotFound.
func (s *Store) DeleteApp(ctx context.Context, poolID, id string, recs ...userpool.Record) error {
	return s.withRecords(ctx, "delete app", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("DELETE FROM apps WHERE pool_id = ? AND id = ?"), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: delete app: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: delete app: %w", err)
		} else if n == 0 {
			return userpool.ErrNotFound
		}
		return nil
	})
}
