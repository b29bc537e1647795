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

// The OpenID provider's tables; see userpool.OIDCStore.

const authReqColumns = "id, pool_id, client_id, data, code_hash, code_used_at, grant_id, created_at, expires_at"

func authReqDest(r *userpool.OIDCAuthRequest, data *string) []any {
	return []any{&r.ID, &r.PoolID, &r.ClientID, data, &r.CodeHash, timeDest{&r.CodeUsedAt}, &r.GrantID,
		timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt}}
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always encodes
	return string(b)
}

func parseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

// CreateOIDCAuthRequest inserts r.
func (s *Store) CreateOIDCAuthRequest(ctx context.Context, r *userpool.OIDCAuthRequest) error {
	if r.ID == "" || r.PoolID == "" {
		return errors.New("sqlstore: create auth request: ID and PoolID are required")
	}
	r.CreatedAt, r.ExpiresAt = s.d.norm(r.CreatedAt), s.d.norm(r.ExpiresAt)
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO oidc_auth_requests ("+authReqColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		r.ID, r.PoolID, r.ClientID, string(r.Data), secretArg(r.CodeHash), s.d.timeArg(s.d.norm(r.CodeUsedAt)), r.GrantID,
		s.d.timeArg(r.CreatedAt), s.d.timeArg(r.ExpiresAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create auth request: %w", err)
	}
	return nil
}

func (s *Store) getAuthRequest(ctx context.Context, q queryer, where, lock string, args ...any) (*userpool.OIDCAuthRequest, error) {
	var r userpool.OIDCAuthRequest
	var data string
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+authReqColumns+" FROM oidc_auth_requests WHERE "+where+lock), args...).Scan(authReqDest(&r, &data)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get auth request: %w", err)
	}
	r.Data = []byte(data)
	if len(r.CodeHash) == 0 {
		r.CodeHash = nil
	}
	return &r, nil
}

// GetOIDCAuthRequest returns the request unless missing or expired at now.
func (s *Store) GetOIDCAuthRequest(ctx context.Context, poolID, id string, now time.Time) (*userpool.OIDCAuthRequest, error) {
	return s.getAuthRequest(ctx, s.read, "pool_id = ? AND id = ? AND expires_at > ?", "", poolID, id, s.d.timeArg(s.d.norm(now)))
}

// UpdateOIDCAuthRequest reads, calls fn and writes back in one transaction.
func (s *Store) UpdateOIDCAuthRequest(ctx context.Context, poolID, id string, fn func(*userpool.OIDCAuthRequest) error) (*userpool.OIDCAuthRequest, error) {
	var r *userpool.OIDCAuthRequest
	err := s.inTxRecords(ctx, "update auth request", nil, func(tx queryer) error {
		var err error
		if r, err = s.getAuthRequest(ctx, tx, "pool_id = ? AND id = ?", s.d.forUpdate, poolID, id); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		r.ExpiresAt = s.d.norm(r.ExpiresAt)
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE oidc_auth_requests SET data = ?, code_hash = ?, grant_id = ?, expires_at = ? WHERE pool_id = ? AND id = ?"),
			string(r.Data), secretArg(r.CodeHash), r.GrantID, s.d.timeArg(r.ExpiresAt), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: update auth request: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteOIDCAuthRequest deletes the request; a missing one is no error.
func (s *Store) DeleteOIDCAuthRequest(ctx context.Context, poolID, id string) error {
	if _, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM oidc_auth_requests WHERE pool_id = ? AND id = ?"), poolID, id); err != nil {
		return fmt.Errorf("sqlstore: delete auth request: %w", err)
	}
	return nil
}

// GetOIDCAuthRequestByCode finds a request by its code's hash.
func (s *Store) GetOIDCAuthRequestByCode(ctx context.Context, poolID string, codeHash []byte) (*userpool.OIDCAuthRequest, error) {
	if len(codeHash) == 0 {
		return nil, userpool.ErrNotFound
	}
	return s.getAuthRequest(ctx, s.read, "pool_id = ? AND code_hash = ?", "", poolID, codeHash)
}

// ClaimOIDCCode spends a code once; see userpool.OIDCStore.
func (s *Store) ClaimOIDCCode(ctx context.Context, poolID string, codeHash []byte, now time.Time) (*userpool.OIDCAuthRequest, error) {
	if len(codeHash) == 0 {
		return nil, userpool.ErrNotFound
	}
	now = s.d.norm(now)
	var r *userpool.OIDCAuthRequest
	var used bool
	err := s.inTxRecords(ctx, "claim code", nil, func(tx queryer) error {
		var err error
		r, err = s.getAuthRequest(ctx, tx, "pool_id = ? AND code_hash = ?", s.d.forUpdate, poolID, codeHash)
		if err != nil {
			return err
		}
		if !r.CodeUsedAt.IsZero() {
			used = true
			return nil
		}
		if !now.Before(r.ExpiresAt) {
			return userpool.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE oidc_auth_requests SET code_used_at = ? WHERE id = ?"), s.d.timeArg(now), r.ID); err != nil {
			return fmt.Errorf("sqlstore: claim code: %w", err)
		}
		r.CodeUsedAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	if used {
		return r, userpool.ErrCodeUsed
	}
	return r, nil
}

const grantColumns = "id, pool_id, client_id, user_id, session_id, scopes, amr, auth_time, refresh_seq, created_at, expires_at, revoked_at"

// CreateOIDCGrant inserts g.
func (s *Store) CreateOIDCGrant(ctx context.Context, g *userpool.OIDCGrant) error {
	if g.ID == "" || g.PoolID == "" {
		return errors.New("sqlstore: create grant: ID and PoolID are required")
	}
	g.AuthTime, g.CreatedAt, g.ExpiresAt, g.RevokedAt = s.d.norm(g.AuthTime), s.d.norm(g.CreatedAt), s.d.norm(g.ExpiresAt), s.d.norm(g.RevokedAt)
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO oidc_grants ("+grantColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		g.ID, g.PoolID, g.ClientID, g.UserID, g.SessionID, jsonList(g.Scopes), jsonList(g.AMR), s.d.timeArg(g.AuthTime),
		g.RefreshSeq, s.d.timeArg(g.CreatedAt), s.d.timeArg(g.ExpiresAt), s.d.timeArg(g.RevokedAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create grant: %w", err)
	}
	return nil
}

// GetOIDCGrant returns the grant or ErrNotFound.
func (s *Store) GetOIDCGrant(ctx context.Context, poolID, id string) (*userpool.OIDCGrant, error) {
	var g userpool.OIDCGrant
	var scopes, amr string
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+grantColumns+" FROM oidc_grants WHERE pool_id = ? AND id = ?"), poolID, id).Scan(
		&g.ID, &g.PoolID, &g.ClientID, &g.UserID, &g.SessionID, &scopes, &amr, timeDest{&g.AuthTime}, &g.RefreshSeq,
		timeDest{&g.CreatedAt}, timeDest{&g.ExpiresAt}, timeDest{&g.RevokedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get grant: %w", err)
	}
	if g.Scopes, err = parseList(scopes); err != nil {
		return nil, fmt.Errorf("sqlstore: grant %s: %w", id, err)
	}
	if g.AMR, err = parseList(amr); err != nil {
		return nil, fmt.Errorf("sqlstore: grant %s: %w", id, err)
	}
	return &g, nil
}

// AdvanceOIDCRefresh rotates the grant's refresh token by compare-and-swap.
// Non-nil scopes replace the grant's (a refresh that narrowed them: the
// family keeps the narrower set from then on).
func (s *Store) AdvanceOIDCRefresh(ctx context.Context, poolID, id string, seq int64, now, expiresAt time.Time, scopes []string) (bool, error) {
	var newScopes any
	if scopes != nil {
		newScopes = jsonList(scopes)
	}
	res, err := s.write.ExecContext(ctx, s.d.q(`UPDATE oidc_grants SET refresh_seq = ?, expires_at = ?, scopes = COALESCE(?, scopes)
		WHERE pool_id = ? AND id = ? AND refresh_seq = ? AND revoked_at IS NULL AND expires_at > ?`),
		seq+1, s.d.timeArg(s.d.norm(expiresAt)), newScopes, poolID, id, seq, s.d.timeArg(s.d.norm(now)))
	if err != nil {
		return false, fmt.Errorf("sqlstore: advance refresh: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: advance refresh: %w", err)
	}
	return n == 1, nil
}

// RevokeOIDCGrant revokes one grant.
func (s *Store) RevokeOIDCGrant(ctx context.Context, poolID, id string, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("UPDATE oidc_grants SET revoked_at = ? WHERE pool_id = ? AND id = ? AND revoked_at IS NULL"),
		s.d.timeArg(s.d.norm(now)), poolID, id)
	if err != nil {
		return false, fmt.Errorf("sqlstore: revoke grant: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: revoke grant: %w", err)
	}
	return n == 1, nil
}

// RevokeOIDCClientGrants revokes the user's grants to one client.
func (s *Store) RevokeOIDCClientGrants(ctx context.Context, poolID, userID, clientID string, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("UPDATE oidc_grants SET revoked_at = ? WHERE pool_id = ? AND user_id = ? AND client_id = ? AND revoked_at IS NULL"),
		s.d.timeArg(s.d.norm(now)), poolID, userID, clientID)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke client grants: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke client grants: %w", err)
	}
	return int(n), nil
}

// PutOIDCConsent inserts or replaces the consent.
func (s *Store) PutOIDCConsent(ctx context.Context, c *userpool.OIDCConsent) error {
	c.CreatedAt, c.UpdatedAt = s.d.norm(c.CreatedAt), s.d.norm(c.UpdatedAt)
	_, err := s.write.ExecContext(ctx, s.d.q(`INSERT INTO oidc_consents (pool_id, user_id, client_id, scopes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pool_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`),
		c.PoolID, c.UserID, c.ClientID, jsonList(c.Scopes), s.d.timeArg(c.CreatedAt), s.d.timeArg(c.UpdatedAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put consent: %w", err)
	}
	return nil
}

func (s *Store) scanConsent(sc interface{ Scan(...any) error }) (*userpool.OIDCConsent, error) {
	var c userpool.OIDCConsent
	var scopes string
	if err := sc.Scan(&c.PoolID, &c.UserID, &c.ClientID, &scopes, timeDest{&c.CreatedAt}, timeDest{&c.UpdatedAt}); err != nil {
		return nil, err
	}
	var err error
	if c.Scopes, err = parseList(scopes); err != nil {
		return nil, fmt.Errorf("sqlstore: consent: %w", err)
	}
	return &c, nil
}

const consentColumns = "pool_id, user_id, client_id, scopes, created_at, updated_at"

// GetOIDCConsent returns the consent or ErrNotFound.
func (s *Store) GetOIDCConsent(ctx context.Context, poolID, userID, clientID string) (*userpool.OIDCConsent, error) {
	c, err := s.scanConsent(s.read.QueryRowContext(ctx, s.d.q("SELECT "+consentColumns+" FROM oidc_consents WHERE pool_id = ? AND user_id = ? AND client_id = ?"),
		poolID, userID, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get consent: %w", err)
	}
	return c, nil
}

// ListOIDCConsents returns the user's consents, oldest first.
func (s *Store) ListOIDCConsents(ctx context.Context, poolID, userID string) ([]*userpool.OIDCConsent, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+consentColumns+" FROM oidc_consents WHERE pool_id = ? AND user_id = ? ORDER BY created_at, client_id"), poolID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list consents: %w", err)
	}
	defer rows.Close()
	out := []*userpool.OIDCConsent{}
	for rows.Next() {
		c, err := s.scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list consents: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list consents: %w", err)
	}
	return out, nil
}

// DeleteOIDCConsent deletes the consent or returns ErrNotFound.
func (s *Store) DeleteOIDCConsent(ctx context.Context, poolID, userID, clientID string) error {
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM oidc_consents WHERE pool_id = ? AND user_id = ? AND client_id = ?"), poolID, userID, clientID)
	if err != nil {
		return fmt.Errorf("sqlstore: delete consent: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete consent: %w", err)
	} else if n == 0 {
		return userpool.ErrNotFound
	}
	return nil
}

// CreateOIDCBrowserSession inserts b.
func (s *Store) CreateOIDCBrowserSession(ctx context.Context, b *userpool.OIDCBrowserSession) error {
	b.AuthTime, b.ExpiresAt = s.d.norm(b.AuthTime), s.d.norm(b.ExpiresAt)
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO oidc_browser_sessions (session_id, pool_id, user_id, amr, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?)"),
		b.SessionID, b.PoolID, b.UserID, jsonList(b.AMR), s.d.timeArg(b.AuthTime), s.d.timeArg(b.ExpiresAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create browser session: %w", err)
	}
	return nil
}

// GetOIDCBrowserSession returns the record or ErrNotFound.
func (s *Store) GetOIDCBrowserSession(ctx context.Context, sessionID string) (*userpool.OIDCBrowserSession, error) {
	var b userpool.OIDCBrowserSession
	var amr string
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT session_id, pool_id, user_id, amr, auth_time, expires_at FROM oidc_browser_sessions WHERE session_id = ?"), sessionID).Scan(
		&b.SessionID, &b.PoolID, &b.UserID, &amr, timeDest{&b.AuthTime}, timeDest{&b.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get browser session: %w", err)
	}
	if b.AMR, err = parseList(amr); err != nil {
		return nil, fmt.Errorf("sqlstore: browser session: %w", err)
	}
	return &b, nil
}
