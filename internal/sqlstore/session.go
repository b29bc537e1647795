package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

const sessionColumns = "id, pool_id, user_id, created_at, expires_at, revoked_at, client_ip, user_agent"

func sessionDest(s *userpool.Session) []any {
	return []any{
		&s.ID, &s.PoolID, &s.UserID,
		timeDest{&s.CreatedAt}, timeDest{&s.ExpiresAt}, timeDest{&s.RevokedAt},
		&s.ClientIP, &s.UserAgent,
	}
}

// CreateSession inserts sess, filling in ID (a random UUID) and CreatedAt
// when they are empty; on return sess holds what was stored. ExpiresAt is
// required. A session of a user that does not exist gets ErrUserNotFound.
func (s *Store) CreateSession(ctx context.Context, sess *userpool.Session) error {
	return s.insertSession(ctx, s.write, sess)
}

// insertSession inserts sess through q: the writer, or the transaction of
// the change the session goes with (a login's user update).
func (s *Store) insertSession(ctx context.Context, q queryer, sess *userpool.Session) error {
	if sess.ExpiresAt.IsZero() {
		return errors.New("sqlstore: create session: ExpiresAt is zero")
	}
	if sess.ID == "" {
		sess.ID = uuid.NewString()
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now()
	}
	sess.CreatedAt = s.d.norm(sess.CreatedAt)
	sess.ExpiresAt = s.d.norm(sess.ExpiresAt)
	sess.RevokedAt = s.d.norm(sess.RevokedAt)
	_, err := q.ExecContext(ctx, s.d.q("INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		sess.ID, sess.PoolID, sess.UserID,
		s.d.timeArg(sess.CreatedAt), s.d.timeArg(sess.ExpiresAt), s.d.timeArg(sess.RevokedAt),
		sess.ClientIP, sess.UserAgent)
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// GetSession returns the session whether or not it is alive; the caller
// decides with Session.Alive. Unknown ids give ErrSessionNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (*userpool.Session, error) {
	sess := new(userpool.Session)
	err := s.getSession.QueryRowContext(ctx, id).Scan(sessionDest(sess)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get session: %w", err)
	}
	return sess, nil
}

// ExtendSession moves an alive session's expiry to expiresAt. The
// aliveness check and the write are one conditional UPDATE, so a session
// revoked a moment earlier by another replica cannot be extended. The
// records go in the same transaction.
func (s *Store) ExtendSession(ctx context.Context, id string, now, expiresAt time.Time, recs ...userpool.Record) (*userpool.Session, error) {
	defer s.localSession(id)
	sess := new(userpool.Session)
	err := s.withRecords(ctx, "extend session", recs, func(q queryer) error {
		err := q.QueryRowContext(ctx, s.d.q(`UPDATE sessions SET expires_at = ?
			WHERE id = ? AND revoked_at IS NULL AND expires_at > ?
			RETURNING `+sessionColumns),
			s.d.timeArg(s.d.norm(expiresAt)), id, s.d.timeArg(now)).Scan(sessionDest(sess)...)
		if errors.Is(err, sql.ErrNoRows) {
			return userpool.ErrSessionNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: extend session: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// RevokeSession marks the session revoked at now. Only one of several
// concurrent calls succeeds; the others, like calls for a missing or
// already revoked session, get ErrSessionNotFound. An expired session can
// still be revoked, which records the logout. The records go in the same
// transaction (and are not written when the revoke fails).
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time, recs ...userpool.Record) error {
	defer s.localSession(id)
	return s.withRecords(ctx, "revoke session", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
			s.d.timeArg(s.d.norm(now)), id)
		if err != nil {
			return fmt.Errorf("sqlstore: revoke session: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: revoke session: %w", err)
		}
		if n == 0 {
			return userpool.ErrSessionNotFound
		}
		return nil
	})
}

// RevokeUserSessions revokes the user's sessions that are alive at now and
// reports how many. Expired sessions are left as they are.
func (s *Store) RevokeUserSessions(ctx context.Context, poolID, userID string, now time.Time) (int, error) {
	return s.revokeUserSessions(ctx, poolID, userID, "", now)
}

// RevokeOtherSessions revokes every alive session of the user but keep.
func (s *Store) RevokeOtherSessions(ctx context.Context, poolID, userID, keep string, now time.Time) (int, error) {
	return s.revokeUserSessions(ctx, poolID, userID, keep, now)
}

// revokeUserSessions revokes the user's alive sessions except the one with
// id keep ("" keeps none: no session has an empty id).
func (s *Store) revokeUserSessions(ctx context.Context, poolID, userID, keep string, now time.Time) (int, error) {
	defer s.localUser(poolID, userID, keep)
	res, err := s.write.ExecContext(ctx, s.d.q(`UPDATE sessions SET revoked_at = ?
		WHERE pool_id = ? AND user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ?`),
		s.d.timeArg(s.d.norm(now)), poolID, userID, keep, s.d.timeArg(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	return int(n), nil
}

// sessionUserSelect reads a session with its user in one statement, and
// sessionUserValuesSelect adds the user's values (one row per value, or one
// row with NULL values when there are none), ordered as ListUserValues
// orders them. They are the read of every authenticated request, prepared
// once at Open.
var (
	sessionUserSelect = "SELECT " + prefixed("s.", sessionColumns) + ", " + prefixed("u.", strings.Join(userColumns, ", ")) +
		" FROM sessions s JOIN users u ON u.pool_id = s.pool_id AND u.id = s.user_id WHERE s.id = ?"
	sessionUserValuesSelect = "SELECT " + prefixed("s.", sessionColumns) + ", " + prefixed("u.", strings.Join(userColumns, ", ")) +
		", v.key, f.data_type, f.label, v.value, v.updated_at" +
		" FROM sessions s JOIN users u ON u.pool_id = s.pool_id AND u.id = s.user_id" +
		" LEFT JOIN (user_values v JOIN user_fields f ON f.pool_id = v.pool_id AND f.key = v.key)" +
		" ON v.pool_id = u.pool_id AND v.user_id = u.id" +
		" WHERE s.id = ? ORDER BY v.key"
)

// prefixed qualifies each name of a comma-separated column list.
func prefixed(prefix, columns string) string {
	names := strings.Split(columns, ", ")
	for i, n := range names {
		names[i] = prefix + n
	}
	return strings.Join(names, ", ")
}

// GetSessionUser returns the session with its user and, when values is
// set, the user's values (as ListUserValues returns them), in one
// statement. An unknown id gives ErrSessionNotFound; a session whose user
// is gone is returned with ErrUserNotFound, so the caller can judge the
// session first, as it would have with GetSession and then GetUser.
func (s *Store) GetSessionUser(ctx context.Context, id string, values bool) (*userpool.Session, *userpool.User, []*userpool.UserValue, error) {
	stmt := s.getSessionUser
	if values {
		stmt = s.getSessionUserValues
	}
	rows, err := stmt.QueryContext(ctx, id)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sqlstore: get session and user: %w", err)
	}
	defer rows.Close()
	var (
		sess *userpool.Session
		u    *userpool.User
		vals []*userpool.UserValue
	)
	for rows.Next() {
		rs, ru := new(userpool.Session), new(userpool.User)
		dest := append(sessionDest(rs), userDest(ru)...)
		var (
			key, dataType, label, value sql.NullString
			updated                     time.Time
		)
		if values {
			dest = append(dest, &key, &dataType, &label, &value, timeDest{&updated})
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, nil, fmt.Errorf("sqlstore: get session and user: %w", err)
		}
		if sess == nil {
			sess, u = rs, ru
		}
		if key.Valid {
			vals = append(vals, &userpool.UserValue{
				PoolID: u.PoolID, UserID: u.ID, Key: key.String, DataType: userpool.DataType(dataType.String),
				Label: label.String, Value: value.String, UpdatedAt: updated,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("sqlstore: get session and user: %w", err)
	}
	if sess != nil {
		return sess, u, vals, nil
	}
	// No row: no session, or a session without its user (the rare case
	// is worth the second read that tells them apart).
	sess, err = s.GetSession(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	return sess, nil, nil, userpool.ErrUserNotFound
}
