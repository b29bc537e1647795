package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authpool/authpool/internal/userpool"
)

// Connectors (migration 0022): what an administrator sets is one JSON
// text (connectorConfig), so that a new preset's setting needs no
// migration; the sealed secret is a column of its own.

const connectorColumns = "pool_id, id, type, enabled, config, secret, created_at, updated_at"

// connectorConfig is the stored form of a connector's settings.
type connectorConfig struct {
	Label       string            `json:"label,omitempty"`
	Icon        string            `json:"icon,omitempty"`
	ClientID    string            `json:"clientId"`
	Issuer      string            `json:"issuer,omitempty"`
	AuthURL     string            `json:"authUrl,omitempty"`
	TokenURL    string            `json:"tokenUrl,omitempty"`
	UserInfoURL string            `json:"userInfoUrl,omitempty"`
	Scopes      []string          `json:"scopes,omitempty"`
	ClaimMap    map[string]string `json:"claimMap,omitempty"`
	TeamID      string            `json:"teamId,omitempty"`
	KeyID       string            `json:"keyId,omitempty"`
	Tenant      string            `json:"tenant,omitempty"`
}

func connectorArgs(c *userpool.Connector) (string, error) {
	b, err := json.Marshal(connectorConfig{
		Label: c.Label, Icon: c.Icon, ClientID: c.ClientID, Issuer: c.Issuer, AuthURL: c.AuthURL, TokenURL: c.TokenURL,
		UserInfoURL: c.UserInfoURL, Scopes: c.Scopes, ClaimMap: c.ClaimMap, TeamID: c.TeamID, KeyID: c.KeyID, Tenant: c.Tenant,
	})
	return string(b), err
}

type connectorRow struct {
	c      userpool.Connector
	config string
}

func (r *connectorRow) dest() []any {
	c := &r.c
	return []any{&c.PoolID, &c.ID, &c.Type, boolDest{&c.Enabled}, &r.config, &c.SealedSecret, timeDest{&c.CreatedAt}, timeDest{&c.UpdatedAt}}
}

func (r *connectorRow) connector() (*userpool.Connector, error) {
	c := r.c
	var cfg connectorConfig
	if err := json.Unmarshal([]byte(r.config), &cfg); err != nil {
		return nil, fmt.Errorf("sqlstore: connector %s: %w", c.ID, err)
	}
	c.Label, c.Icon, c.ClientID, c.Issuer = cfg.Label, cfg.Icon, cfg.ClientID, cfg.Issuer
	c.AuthURL, c.TokenURL, c.UserInfoURL = cfg.AuthURL, cfg.TokenURL, cfg.UserInfoURL
	c.Scopes, c.ClaimMap, c.TeamID, c.KeyID, c.Tenant = cfg.Scopes, cfg.ClaimMap, cfg.TeamID, cfg.KeyID, cfg.Tenant
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if len(c.SealedSecret) == 0 {
		c.SealedSecret = nil
	}
	c.HasSecret = c.SealedSecret != nil
	return &c, nil
}

// uniqueViolation reports whether err is a primary key or unique index
// violation (of the one key the caller's insert can violate).
func (d dialect) uniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// CreateConnector inserts c; see userpool.ConnectorStore.
func (s *Store) CreateConnector(ctx context.Context, c *userpool.Connector, recs ...userpool.Record) error {
	if c.ID == "" || c.PoolID == "" {
		return errors.New("sqlstore: create connector: ID and PoolID are required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = s.d.norm(c.CreatedAt), s.d.norm(c.UpdatedAt)
	cfg, err := connectorArgs(c)
	if err != nil {
		return fmt.Errorf("sqlstore: create connector: %w", err)
	}
	return s.withRecords(ctx, "create connector", recs, func(q queryer) error {
		_, err := q.ExecContext(ctx, s.d.q("INSERT INTO connectors ("+connectorColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			c.PoolID, c.ID, c.Type, c.Enabled, cfg, secretArg(c.SealedSecret), s.d.timeArg(c.CreatedAt), s.d.timeArg(c.UpdatedAt))
		switch {
		case s.d.foreignKeyViolation(err):
			return userpool.ErrPoolNotFound
		case s.d.uniqueViolation(err):
			return userpool.ErrConnectorExists
		case err != nil:
			return fmt.Errorf("sqlstore: create connector: %w", err)
		}
		c.HasSecret = c.SealedSecret != nil
		return nil
	})
}

// GetConnector returns the pool's connector, or ErrConnectorNotFound.
func (s *Store) GetConnector(ctx context.Context, poolID, id string) (*userpool.Connector, error) {
	return s.getConnector(ctx, s.read, "", poolID, id)
}

func (s *Store) getConnector(ctx context.Context, q queryer, lock, poolID, id string) (*userpool.Connector, error) {
	var r connectorRow
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+connectorColumns+" FROM connectors WHERE pool_id = ? AND id = ?"+lock), poolID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrConnectorNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get connector: %w", err)
	}
	return r.connector()
}

// ListConnectors returns the pool's connectors in id order.
func (s *Store) ListConnectors(ctx context.Context, poolID string) ([]*userpool.Connector, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+connectorColumns+" FROM connectors WHERE pool_id = ? ORDER BY id"), poolID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list connectors: %w", err)
	}
	defer rows.Close()
	out := []*userpool.Connector{}
	for rows.Next() {
		var r connectorRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: list connectors: %w", err)
		}
		c, err := r.connector()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list connectors: %w", err)
	}
	return out, nil
}

// UpdateConnector reads, calls fn and writes back in one transaction.
func (s *Store) UpdateConnector(ctx context.Context, poolID, id string, fn func(*userpool.Connector) error, recs ...userpool.Record) (*userpool.Connector, error) {
	var c *userpool.Connector
	err := s.inTxRecords(ctx, "update connector", recs, func(tx queryer) error {
		var err error
		if c, err = s.getConnector(ctx, tx, s.d.forUpdate, poolID, id); err != nil {
			return err
		}
		createdAt, updatedAt, typ := c.CreatedAt, c.UpdatedAt, c.Type
		if err := fn(c); err != nil {
			return err
		}
		if c.ID != id || c.PoolID != poolID || c.Type != typ {
			return errors.New("sqlstore: update connector: fn changed the connector's ID, PoolID or Type")
		}
		c.CreatedAt = createdAt
		if c.UpdatedAt.IsZero() || c.UpdatedAt.Equal(updatedAt) {
			c.UpdatedAt = s.now()
		}
		c.UpdatedAt = s.d.norm(c.UpdatedAt)
		cfg, err := connectorArgs(c)
		if err != nil {
			return fmt.Errorf("sqlstore: update connector: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE connectors SET enabled = ?, config = ?, secret = ?, updated_at = ? WHERE pool_id = ? AND id = ?"),
			c.Enabled, cfg, secretArg(c.SealedSecret), s.d.timeArg(c.UpdatedAt), poolID, id); err != nil {
			return fmt.Errorf("sqlstore: update connector: %w", err)
		}
		c.HasSecret = len(c.SealedSecret) > 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteConnector deletes the connector, or returns ErrConnectorNotFound.
func (s *Store) DeleteConnector(ctx context.Context, poolID, id string, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "delete connector", recs, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, s.d.q("DELETE FROM connectors WHERE pool_id = ? AND id = ?"), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: delete connector: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("sqlstore: delete connector: %w", err)
			}
			return userpool.ErrConnectorNotFound
		}
		return nil
	})
}

// PutSocialState stores a state.
func (s *Store) PutSocialState(ctx context.Context, st *userpool.SocialState) error {
	if len(st.ID) == 0 || st.PoolID == "" || st.Kind == "" {
		return errors.New("sqlstore: put social state: ID, PoolID and Kind are required")
	}
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO social_states (id, pool_id, kind, data, expires_at) VALUES (?, ?, ?, ?, ?)"),
		st.ID, st.PoolID, st.Kind, st.Data, s.d.timeArg(s.d.norm(st.ExpiresAt)))
	if err != nil {
		return fmt.Errorf("sqlstore: put social state: %w", err)
	}
	return nil
}

// TakeSocialState deletes the state and returns it, in one statement: of
// concurrent takes, the one whose DELETE removed the row gets it.
func (s *Store) TakeSocialState(ctx context.Context, poolID string, id []byte, kind string, now time.Time) (*userpool.SocialState, error) {
	st := &userpool.SocialState{}
	err := s.write.QueryRowContext(ctx, s.d.q("DELETE FROM social_states WHERE id = ? AND pool_id = ? AND kind = ? RETURNING id, pool_id, kind, data, expires_at"),
		id, poolID, kind).Scan(&st.ID, &st.PoolID, &st.Kind, &st.Data, timeDest{&st.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take social state: %w", err)
	}
	if !st.ExpiresAt.After(now) {
		return nil, userpool.ErrNotFound
	}
	return st, nil
}

// GetUserByIdentity returns the user holding the identity.
func (s *Store) GetUserByIdentity(ctx context.Context, poolID, provider, subject string) (*userpool.User, error) {
	return s.getUser(ctx, s.read, "get user by identity",
		" WHERE pool_id = ? AND id = (SELECT user_id FROM user_identities WHERE pool_id = ? AND provider = ? AND subject = ?)",
		poolID, poolID, provider, subject)
}

// ListIdentities returns the user's identities.
func (s *Store) ListIdentities(ctx context.Context, poolID, userID string) ([]*userpool.Identity, error) {
	return s.listIdentities(ctx, s.read, poolID, userID)
}

func (s *Store) listIdentities(ctx context.Context, q queryer, poolID, userID string) ([]*userpool.Identity, error) {
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT provider, subject, data, created_at FROM user_identities
		WHERE pool_id = ? AND user_id = ? ORDER BY provider, subject`), poolID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list identities: %w", err)
	}
	defer rows.Close()
	out := []*userpool.Identity{}
	for rows.Next() {
		id := new(userpool.Identity)
		if err := rows.Scan(&id.Provider, &id.Subject, &id.Data, timeDest{&id.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list identities: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity deletes one identity of the user once allow accepts; the
// user's row is locked meanwhile, so two unlinks of a user's last two
// identities cannot both see the other one.
func (s *Store) DeleteIdentity(ctx context.Context, poolID, userID, provider, subject string, allow func(*userpool.User, int) error, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "delete identity", recs, func(tx queryer) error {
		u, err := s.getUser(ctx, tx, "delete identity", " WHERE pool_id = ? AND id = ?"+s.d.forUpdate, poolID, userID)
		if err != nil {
			return err
		}
		ids, err := s.listIdentities(ctx, tx, poolID, userID)
		if err != nil {
			return err
		}
		found := false
		for _, id := range ids {
			if id.Provider == provider && id.Subject == subject {
				found = true
			}
		}
		if !found {
			return userpool.ErrNotFound
		}
		if err := allow(u, len(ids)-1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM user_identities WHERE pool_id = ? AND user_id = ? AND provider = ? AND subject = ?"),
			poolID, userID, provider, subject); err != nil {
			return fmt.Errorf("sqlstore: delete identity: %w", err)
		}
		return nil
	})
}

// linkIdentity writes an IdentityLink record: a new identity, or fresh
// profile data for one the user holds; one another user holds is
// ErrIdentityTaken.
func (s *Store) linkIdentity(ctx context.Context, q queryer, l *userpool.IdentityLink) error {
	id := l.Identity
	if id.CreatedAt.IsZero() {
		id.CreatedAt = s.now()
	}
	data := id.Data
	if data == "" {
		data = "{}"
	}
	res, err := q.ExecContext(ctx, s.d.q(`INSERT INTO user_identities (pool_id, user_id, provider, subject, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pool_id, provider, subject) DO UPDATE SET data = excluded.data WHERE user_identities.user_id = excluded.user_id`),
		l.PoolID, l.UserID, id.Provider, id.Subject, data, s.d.timeArg(s.d.norm(id.CreatedAt)))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: link identity: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("sqlstore: link identity: %w", err)
		}
		return userpool.ErrIdentityTaken
	}
	return nil
}
