package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authpool/authpool/internal/userpool"
)

// errAdminKeyNameTaken: a named key not revoked has the name.
var errAdminKeyNameTaken = userpool.Errorf(userpool.CodeInvalidArgument, "admin_key_name_taken", "a key with this name exists already")

const consoleSessionColumns = "id_hash, key_id, key_name, read_only, created_at, seen_at, expires_at"

// CreateConsoleSession stores a console session.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *userpool.ConsoleSession) error {
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO console_sessions ("+consoleSessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
		cs.IDHash, cs.KeyID, cs.KeyName, cs.ReadOnly, s.d.timeArg(cs.CreatedAt), s.d.timeArg(cs.SeenAt), s.d.timeArg(cs.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create console session: %w", err)
	}
	return nil
}

// GetConsoleSession returns the session with idHash or ErrNotFound.
func (s *Store) GetConsoleSession(ctx context.Context, idHash []byte) (*userpool.ConsoleSession, error) {
	cs := new(userpool.ConsoleSession)
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+consoleSessionColumns+" FROM console_sessions WHERE id_hash = ?"), idHash).
		Scan(&cs.IDHash, &cs.KeyID, &cs.KeyName, boolDest{&cs.ReadOnly}, timeDest{&cs.CreatedAt}, timeDest{&cs.SeenAt}, timeDest{&cs.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get console session: %w", err)
	}
	return cs, nil
}

// TouchConsoleSession moves the session's seen_at forward to now (never
// back: two replicas touching at once keep the later time).
func (s *Store) TouchConsoleSession(ctx context.Context, idHash []byte, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.d.q("UPDATE console_sessions SET seen_at = ? WHERE id_hash = ? AND seen_at < ?"),
		s.d.timeArg(now), idHash, s.d.timeArg(now))
	if err != nil {
		return fmt.Errorf("sqlstore: touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession deletes the session; a missing one is no error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash []byte) error {
	if _, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM console_sessions WHERE id_hash = ?"), idHash); err != nil {
		return fmt.Errorf("sqlstore: delete console session: %w", err)
	}
	return nil
}

// PurgeConsoleSessions deletes ended and idle sessions.
func (s *Store) PurgeConsoleSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM console_sessions WHERE expires_at <= ? OR seen_at < ?"),
		s.d.timeArg(now), s.d.timeArg(idleSince))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge console sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

const namedKeyColumns = "id, name, hash, read_only, created_at, revoked_at"

// CreateNamedAdminKey stores k with recs in one transaction.
func (s *Store) CreateNamedAdminKey(ctx context.Context, k *userpool.NamedAdminKey, recs ...userpool.Record) error {
	err := s.inTxRecords(ctx, "create named admin key", recs, func(q queryer) error {
		var n int
		if err := q.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM named_admin_keys WHERE name = ? AND revoked_at IS NULL"), k.Name).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: create named admin key: %w", err)
		}
		if n > 0 {
			return errAdminKeyNameTaken
		}
		_, err := q.ExecContext(ctx, s.d.q("INSERT INTO named_admin_keys ("+namedKeyColumns+") VALUES (?, ?, ?, ?, ?, NULL)"),
			k.ID, k.Name, k.Hash, k.ReadOnly, s.d.timeArg(k.CreatedAt))
		if err != nil {
			if s.d.isUniqueViolation(err) {
				// A concurrent create of the same name won the unique index.
				return errAdminKeyNameTaken
			}
			return fmt.Errorf("sqlstore: create named admin key: %w", err)
		}
		return nil
	})
	return err
}

// NamedAdminKeys returns every named key, oldest first.
func (s *Store) NamedAdminKeys(ctx context.Context) ([]*userpool.NamedAdminKey, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+namedKeyColumns+" FROM named_admin_keys ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: named admin keys: %w", err)
	}
	defer rows.Close()
	var out []*userpool.NamedAdminKey
	for rows.Next() {
		k := new(userpool.NamedAdminKey)
		if err := rows.Scan(&k.ID, &k.Name, &k.Hash, boolDest{&k.ReadOnly}, timeDest{&k.CreatedAt}, timeDest{&k.RevokedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: named admin keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: named admin keys: %w", err)
	}
	return out, nil
}

// RevokeNamedAdminKey marks the key revoked and ends its console sessions.
func (s *Store) RevokeNamedAdminKey(ctx context.Context, id string, now time.Time, recs ...userpool.Record) error {
	return s.inTxRecords(ctx, "revoke named admin key", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("UPDATE named_admin_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"), s.d.timeArg(now), id)
		if err != nil {
			return fmt.Errorf("sqlstore: revoke named admin key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return userpool.ErrNotFound
		}
		if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM console_sessions WHERE key_id = ?"), id); err != nil {
			return fmt.Errorf("sqlstore: revoke named admin key: %w", err)
		}
		return nil
	})
}

// bytewise is the collation clause that makes text compare by its bytes
// (PostgreSQL; SQLite's default BINARY already does), so that a prefix
// is a range of an index.
func (d dialect) bytewise() string {
	if d.name == "postgres" {
		return ` COLLATE "C"`
	}
	return ""
}

// maxRune closes a prefix's range: every text that starts with the prefix
// sorts bytewise below prefix + U+10FFFF (the greatest UTF-8 sequence).
const maxRune = "\U0010FFFF"

// ListUserPage returns one page of users. Without a search it pages by
// (created_at, id) descending from the key of the last row shown (an index
// range, however deep the page); with one it is the union of three index
// ranges (lower(email), lower(username), phone starting with the search)
// and an id match, each read in index order up to Limit rows, newest first,
// at most Limit users.
func (s *Store) ListUserPage(ctx context.Context, q userpool.UserPage) ([]*userpool.User, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	var filters string
	if q.Blocked {
		filters += " AND blocked = " + s.d.boolLit(true)
	}
	if q.Unverified {
		filters += " AND ((email IS NOT NULL AND email_verified = " + s.d.boolLit(false) + ") OR (phone IS NOT NULL AND phone_verified = " + s.d.boolLit(false) + "))"
	}
	if q.HasMFA {
		filters += " AND EXISTS (SELECT 1 FROM mfa_factors f WHERE f.pool_id = users.pool_id AND f.user_id = users.id AND f.confirmed = " + s.d.boolLit(true) + ")"
	}
	var query string
	var args []any
	if q.Search == "" {
		query = userSelect + " WHERE pool_id = ?" + filters
		args = []any{q.PoolID}
		if q.AfterID != "" {
			// A row value: one index range on (pool_id, created_at, id).
			query += " AND (created_at, id) < (?, ?)"
			args = append(args, s.d.timeArg(q.AfterCreated), q.AfterID)
		}
		query += " ORDER BY created_at DESC, id DESC LIMIT ?"
		args = append(args, limit)
	} else {
		lo := strings.ToLower(q.Search)
		hi := lo + maxRune
		c := s.d.bytewise()
		var parts []string
		// Each range is read in its index's order and stops after limit
		// rows, so a short prefix that matches most of the pool costs no
		// more than a long one: the page shows the first matches in the
		// order of the matched text (newest first among them).
		part := func(col string, a ...any) {
			cond, order := col+" = ?", "id"
			if len(a) == 2 {
				cond, order = col+" >= ? AND "+col+" < ?", col
			}
			parts = append(parts, "SELECT * FROM ("+userSelect+" WHERE pool_id = ? AND "+cond+filters+" ORDER BY "+order+" LIMIT ?) AS p"+fmt.Sprint(len(parts)))
			args = append(args, q.PoolID)
			args = append(args, a...)
			args = append(args, limit)
		}
		part("lower(email)"+c, lo, hi)
		part("lower(username)"+c, lo, hi)
		phone := q.Search
		if !strings.HasPrefix(phone, "+") {
			phone = "+" + phone
		}
		part("phone"+c, phone, phone+maxRune)
		part("id", q.Search)
		// UNION drops the rows two ranges both found.
		query = "SELECT * FROM (" + strings.Join(parts, " UNION ") + ") AS u ORDER BY created_at DESC, id DESC LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.read.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list user page: %w", err)
	}
	defer rows.Close()
	var out []*userpool.User
	for rows.Next() {
		u := new(userpool.User)
		if err := rows.Scan(userDest(u)...); err != nil {
			return nil, fmt.Errorf("sqlstore: list user page: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list user page: %w", err)
	}
	return out, nil
}

// boolLit is a boolean literal of the dialect.
func (d dialect) boolLit(b bool) string {
	switch {
	case d.name == "postgres" && b:
		return "true"
	case d.name == "postgres":
		return "false"
	case b:
		return "1"
	}
	return "0"
}

// dayExpr is the UTC day number (days since 1970-01-01) of a time column.
func (d dialect) dayExpr(col string) string {
	if d.name == "postgres" {
		return "CAST(floor(extract(epoch FROM " + col + ") / 86400) AS BIGINT)"
	}
	return "(" + col + " / 86400000)"
}

// PoolStats counts the overview's figures. Each per-day series is one
// grouped read of an index range ((pool_id, created_at) of users and of
// audit_events).
func (s *Store) PoolStats(ctx context.Context, poolID string, now time.Time, days int) (*userpool.PoolStats, error) {
	days = max(1, min(days, 366))
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(days - 1))
	first := from.Unix() / 86400
	st := &userpool.PoolStats{
		NewUsers: make([]int, days), SignIns: make([]int, days), FailedLogins: make([]int, days), CaptchaDemands: make([]int, days),
	}
	fail := func(err error) (*userpool.PoolStats, error) {
		return nil, fmt.Errorf("sqlstore: pool stats: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM users WHERE pool_id = ?"), poolID).Scan(&st.Users); err != nil {
		return fail(err)
	}
	series := func(query string, args []any, into func(key string, day int64, n int)) error {
		rows, err := s.read.QueryContext(ctx, s.d.q(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var day int64
			var n int
			if err := rows.Scan(&key, &day, &n); err != nil {
				return err
			}
			into(key, day, n)
		}
		return rows.Err()
	}
	put := func(dst []int, day int64, n int) {
		if i := day - first; i >= 0 && i < int64(len(dst)) {
			dst[i] += n
		}
	}
	if err := series("SELECT '', "+s.d.dayExpr("created_at")+" AS day, count(*) FROM users WHERE pool_id = ? AND created_at >= ? GROUP BY day",
		[]any{poolID, s.d.timeArg(from)}, func(_ string, day int64, n int) { put(st.NewUsers, day, n) }); err != nil {
		return fail(err)
	}
	if err := series("SELECT event, "+s.d.dayExpr("created_at")+" AS day, count(*) FROM audit_events WHERE pool_id = ? AND created_at >= ? AND event IN (?, ?, ?) GROUP BY event, day",
		[]any{poolID, s.d.timeArg(from), userpool.AuditLoginSuccess, userpool.AuditLoginFailure, userpool.AuditCaptchaRequired},
		func(ev string, day int64, n int) {
			switch ev {
			case userpool.AuditLoginSuccess:
				put(st.SignIns, day, n)
			case userpool.AuditLoginFailure:
				put(st.FailedLogins, day, n)
			case userpool.AuditCaptchaRequired:
				put(st.CaptchaDemands, day, n)
			}
		}); err != nil {
		return fail(err)
	}
	if err := s.read.QueryRowContext(ctx, s.d.q(`SELECT
		(SELECT count(*) FROM webhook_deliveries WHERE pool_id = ? AND status = 'pending'),
		(SELECT count(*) FROM webhook_deliveries WHERE pool_id = ? AND status = 'failed'),
		(SELECT count(*) FROM pipeline_logs WHERE pool_id = ? AND outcome = 'failed' AND created_at >= ?)`),
		poolID, poolID, poolID, s.d.timeArg(from)).Scan(&st.WebhookBacklog, &st.FailedDeliveries, &st.PipelineFailures); err != nil {
		return fail(err)
	}
	return st, nil
}

// isUniqueViolation reports whether err is a unique index violation.
func (d dialect) isUniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}
