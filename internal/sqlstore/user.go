package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

// userColumns lists the users columns in the order of userArgs and
// userDest; the three must change together (the conformance suite's
// round-trip test fails when they drift).
var userColumns = []string{
	"pool_id", "id",
	"email", "email_verified", "phone", "phone_verified", "password_hash",
	"username", "nickname", "photo", "company", "browser", "device", "last_ip",
	"name", "given_name", "family_name", "middle_name", "profile",
	"preferred_username", "website", "gender", "birthdate", "zoneinfo", "locale",
	"address", "street_address", "locality", "region", "postal_code",
	"city", "province", "country",
	"logins_count", "last_login", "signed_up", "blocked", "created_at", "updated_at",
}

// The comparison keys of the username and the email (username_key,
// email_key: userpool.UsernameKey, EmailKey) are not part of the domain's
// User: the store computes them from the spellings it writes, so that no
// caller can store a spelling without its key, and looks users up by them.
var (
	userSelect = "SELECT " + strings.Join(userColumns, ", ") + " FROM users"
	// userInsert's arguments are userArgs, then keyArgs.
	userInsert = "INSERT INTO users (" + strings.Join(userColumns, ", ") + ", username_key, email_key) VALUES (?" +
		strings.Repeat(", ?", len(userColumns)+1) + ")"
	// userUpdate writes every column but the primary key; its arguments
	// are userArgs without the first two, then keyArgs twice interleaved
	// (updateKeyArgs), then pool_id and id. A key is recomputed only when
	// its spelling changes (the right-hand sides read the row as it was):
	// a row left without a key by a collision (identkey.go) keeps none
	// until its identifier changes, instead of failing every update.
	userUpdate = "UPDATE users SET " + strings.Join(userColumns[2:], " = ?, ") + " = ?" +
		", username_key = CASE WHEN username = ? THEN username_key ELSE ? END" +
		", email_key = CASE WHEN email = ? THEN email_key ELSE ? END" +
		" WHERE pool_id = ? AND id = ?"
)

// keyArgs are the comparison keys of u's username and email; NULL for none.
func keyArgs(u *userpool.User) []any {
	return []any{nullString(userpool.UsernameKey(u.Username)), nullString(userpool.EmailKey(u.Email))}
}

// updateKeyArgs are the arguments of userUpdate's two CASE expressions.
func updateKeyArgs(u *userpool.User) []any {
	k := keyArgs(u)
	return []any{nullString(u.Username), k[0], nullString(u.Email), k[1]}
}

func (d dialect) userArgs(u *userpool.User) []any {
	p := &u.Profile
	return []any{
		u.PoolID, u.ID,
		nullString(u.Email), u.EmailVerified, nullString(u.Phone), u.PhoneVerified, u.PasswordHash,
		nullString(p.Username), p.Nickname, p.Photo, p.Company, p.Browser, p.Device, p.LastIP,
		p.Name, p.GivenName, p.FamilyName, p.MiddleName, p.Profile,
		p.PreferredUsername, p.Website, p.Gender, p.Birthdate, p.Zoneinfo, p.Locale,
		p.Address, p.StreetAddress, p.Locality, p.Region, p.PostalCode,
		p.City, p.Province, p.Country,
		u.LoginsCount, d.timeArg(u.LastLogin), d.timeArg(u.SignedUp), u.Blocked,
		d.timeArg(u.CreatedAt), d.timeArg(u.UpdatedAt),
	}
}

func userDest(u *userpool.User) []any {
	p := &u.Profile
	return []any{
		&u.PoolID, &u.ID,
		stringDest{&u.Email}, boolDest{&u.EmailVerified}, stringDest{&u.Phone}, boolDest{&u.PhoneVerified}, &u.PasswordHash,
		stringDest{&p.Username}, &p.Nickname, &p.Photo, &p.Company, &p.Browser, &p.Device, &p.LastIP,
		&p.Name, &p.GivenName, &p.FamilyName, &p.MiddleName, &p.Profile,
		&p.PreferredUsername, &p.Website, &p.Gender, &p.Birthdate, &p.Zoneinfo, &p.Locale,
		&p.Address, &p.StreetAddress, &p.Locality, &p.Region, &p.PostalCode,
		&p.City, &p.Province, &p.Country,
		&u.LoginsCount, timeDest{&u.LastLogin}, timeDest{&u.SignedUp}, boolDest{&u.Blocked},
		timeDest{&u.CreatedAt}, timeDest{&u.UpdatedAt},
	}
}

// normUser makes u's times what the database will return.
func (d dialect) normUser(u *userpool.User) {
	u.LastLogin = d.norm(u.LastLogin)
	u.SignedUp = d.norm(u.SignedUp)
	u.CreatedAt = d.norm(u.CreatedAt)
	u.UpdatedAt = d.norm(u.UpdatedAt)
}

// writeUserErr maps a failed insert or update of users to the domain's
// sentinels.
func (d dialect) writeUserErr(op string, err error) error {
	if sentinel := d.uniqueUserViolation(err); sentinel != nil {
		return sentinel
	}
	if d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// CreateUser inserts u, filling in ID (a random UUID), CreatedAt and
// UpdatedAt when they are empty. On return u holds what was stored, times
// truncated to the backend's precision. A user of a pool that does not
// exist gets ErrPoolNotFound. The records go in the same transaction.
func (s *Store) CreateUser(ctx context.Context, u *userpool.User, recs ...userpool.Record) error {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	s.d.normUser(u)
	return s.withRecords(ctx, "create user", recs, func(q queryer) error {
		if _, err := q.ExecContext(ctx, s.d.q(userInsert), append(s.d.userArgs(u), keyArgs(u)...)...); err != nil {
			return s.d.writeUserErr("create user", err)
		}
		return nil
	})
}

// GetUser returns the user, or ErrUserNotFound.
func (s *Store) GetUser(ctx context.Context, poolID, id string) (*userpool.User, error) {
	return s.getUser(ctx, s.read, "get user", " WHERE pool_id = ? AND id = ?", poolID, id)
}

// GetUserByEmail returns the user whose email has the key of email
// (userpool.EmailKey). A row not keyed yet (written by an older version
// during a rolling upgrade) is found by its spelling, case-insensitively
// as before (SQL lower(), ASCII letters only on SQLite); a row with the
// key wins. An empty email matches nobody.
func (s *Store) GetUserByEmail(ctx context.Context, poolID, email string) (*userpool.User, error) {
	if email == "" {
		return nil, userpool.ErrUserNotFound
	}
	// lower(email) is spelled as in users_pool_email_key so the index serves it.
	return s.getUser(ctx, s.read, "get user by email",
		" WHERE pool_id = ? AND (email_key = ? OR (email_key IS NULL AND lower(email) = lower(?))) ORDER BY email_key IS NULL LIMIT 1",
		poolID, userpool.EmailKey(email), email)
}

// GetUserByUsername returns the user whose username has the key of
// username (userpool.UsernameKey); a row not keyed yet is found by its
// exact spelling, as in GetUserByEmail.
func (s *Store) GetUserByUsername(ctx context.Context, poolID, username string) (*userpool.User, error) {
	if username == "" {
		return nil, userpool.ErrUserNotFound
	}
	return s.getUser(ctx, s.read, "get user by username",
		" WHERE pool_id = ? AND (username_key = ? OR (username_key IS NULL AND username = ?)) ORDER BY username_key IS NULL LIMIT 1",
		poolID, userpool.UsernameKey(username), username)
}

// GetUserByPhone returns the user with that exact phone number.
func (s *Store) GetUserByPhone(ctx context.Context, poolID, phone string) (*userpool.User, error) {
	return s.getUser(ctx, s.read, "get user by phone", " WHERE pool_id = ? AND phone = ?", poolID, phone)
}

func (s *Store) getUser(ctx context.Context, q queryer, op, where string, args ...any) (*userpool.User, error) {
	u := new(userpool.User)
	err := q.QueryRowContext(ctx, s.d.q(userSelect+where), args...).Scan(userDest(u)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return u, nil
}

// UpdateUser reads the user, calls fn and writes every column back in one
// transaction. The row is locked from the read to the write (FOR UPDATE on
// PostgreSQL; on SQLite the transaction holds the database's write lock
// from BEGIN), so concurrent updates never lose each other's changes.
//
// When fn leaves UpdatedAt as it was (or zero), the store sets it to the
// current time; a caller with an injected clock sets it in fn. A CreatedAt
// zeroed by fn keeps its old value. fn must not change ID or PoolID. The
// records are inserted in the same transaction after fn returns, so fn may
// still complete them.
func (s *Store) UpdateUser(ctx context.Context, poolID, id string, fn func(*userpool.User) error, recs ...userpool.Record) (*userpool.User, error) {
	var u *userpool.User
	var due bool
	err := s.inTx(ctx, "update user", func(tx *sql.Tx) error {
		var err error
		u, err = s.getUser(ctx, tx, "update user", " WHERE pool_id = ? AND id = ?"+s.d.forUpdate, poolID, id)
		if err != nil {
			return err
		}
		createdAt, updatedAt := u.CreatedAt, u.UpdatedAt
		if err := fn(u); err != nil {
			return err
		}
		if u.PoolID != poolID || u.ID != id {
			return errors.New("sqlstore: update user: fn changed the user's ID or PoolID")
		}
		if u.UpdatedAt.IsZero() || u.UpdatedAt.Equal(updatedAt) {
			u.UpdatedAt = s.now()
		}
		if u.CreatedAt.IsZero() { // the column is NOT NULL
			u.CreatedAt = createdAt
		}
		s.d.normUser(u)
		args := append(append(s.d.userArgs(u)[2:], updateKeyArgs(u)...), poolID, id)
		// The update and the records that only write go as one statement
		// on PostgreSQL (insertRecordsLed).
		due, err = s.insertRecordsLed(ctx, tx, recs, &batchedStmt{query: s.d.q(userUpdate), args: args})
		if le, ok := errors.AsType[leadError](err); ok {
			return s.d.writeUserErr("update user", le.err)
		}
		if errors.Is(err, errLeadMissed) {
			return userpool.ErrUserNotFound // cannot happen: the row is locked
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if due {
		s.added.fire()
	}
	return u, nil
}

// DeleteUser deletes the user and, through the foreign keys, its
// sessions, values, second factors and imported identities; the OpenID
// provider's rows of the user (consents, grants, browser sessions), which
// have no foreign key to users, are deleted here. The records go in the
// same transaction.
func (s *Store) DeleteUser(ctx context.Context, poolID, id string, recs ...userpool.Record) error {
	defer s.localUser(poolID, id, "")
	return s.inTxRecords(ctx, "delete user", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("DELETE FROM users WHERE pool_id = ? AND id = ?"), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		if n == 0 {
			return userpool.ErrUserNotFound
		}
		for _, table := range []string{"oidc_consents", "oidc_grants", "oidc_browser_sessions"} {
			if _, err := q.ExecContext(ctx, s.d.q("DELETE FROM "+table+" WHERE pool_id = ? AND user_id = ?"), poolID, id); err != nil {
				return fmt.Errorf("sqlstore: delete user: %s: %w", table, err)
			}
		}
		return nil
	})
}
