package sqlstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authpool/authpool/internal/userpool"
)

// dialect holds the few things that differ between SQLite and PostgreSQL,
// so that every query is written once (with ? placeholders) and both
// backends run the same code path.
type dialect struct {
	name string // "sqlite" or "postgres"; also the migrations directory
	// numbered placeholders ($1, $2, ...) instead of ?.
	numbered bool
	// precision is the finest time the backend keeps; values are truncated
	// to it before writing so that what the caller holds equals what a later
	// read returns.
	precision time.Duration
	// forUpdate locks the rows read inside a read-modify-write transaction.
	// SQLite needs none: BEGIN IMMEDIATE already holds the only write lock.
	forUpdate string
	// skipLocked makes concurrent claimers (webhook workers on several
	// replicas) pass over rows another transaction holds instead of waiting
	// for them; the alias it locks is "d". SQLite needs none: one writer.
	skipLocked string
	// timeType is the SQL type of a time column, for casting parameters
	// whose type the query does not otherwise fix (INSERT ... SELECT ?).
	timeType string
}

var (
	sqliteDialect = dialect{
		name:      "sqlite",
		precision: time.Millisecond,
		timeType:  "INTEGER",
	}
	postgresDialect = dialect{
		name:       "postgres",
		numbered:   true,
		precision:  time.Microsecond,
		forUpdate:  " FOR UPDATE",
		skipLocked: " FOR UPDATE OF d SKIP LOCKED",
		timeType:   "TIMESTAMPTZ",
	}
)

// q rewrites the ? placeholders of query for the backend. Queries in this
// package never contain a literal question mark.
func (d dialect) q(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// norm returns t as the backend will give it back: UTC, truncated to the
// backend's precision. The zero time stays zero.
func (d dialect) norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(d.precision)
}

// timeArg encodes t for a query; the zero time is NULL. SQLite keeps unix
// milliseconds in an INTEGER column, PostgreSQL a timestamptz.
func (d dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d.name == "sqlite" {
		return t.UnixMilli()
	}
	return t.UTC()
}

// nullString encodes s for a nullable column: "" is NULL, which keeps empty
// emails, usernames and phones out of their unique indexes.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeDest scans any of the time encodings above; NULL becomes the zero time.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMilli(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

// stringDest scans a nullable text column; NULL becomes "".
type stringDest struct{ s *string }

func (d stringDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.s = ""
	case string:
		*d.s = v
	case []byte:
		*d.s = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a string", src)
	}
	return nil
}

// boolDest scans a boolean, which SQLite stores as INTEGER 0 or 1.
type boolDest struct{ b *bool }

func (d boolDest) Scan(src any) error {
	v, err := driver.Bool.ConvertValue(src)
	if err != nil {
		return fmt.Errorf("sqlstore: scan bool: %w", err)
	}
	*d.b = v.(bool)
	return nil
}

// userIndexes names the unique indexes of the users table (see the
// migrations) and the sentinel each one stands for. SQLite names an
// expression index in its error text ("index 'users_pool_email_key'") but
// lists the columns of a plain one ("users.pool_id, users.username"), so
// both spellings are kept.
var userIndexes = []struct {
	name, sqliteColumns string
	err                 error
}{
	{"users_pool_email_key", "users.pool_id, users.email", userpool.ErrEmailTaken},
	{"users_pool_username_key", "users.pool_id, users.username", userpool.ErrUsernameTaken},
	{"users_pool_email_ckey", "users.pool_id, users.email_key", userpool.ErrEmailTaken},
	{"users_pool_username_ckey", "users.pool_id, users.username_key", userpool.ErrUsernameTaken},
	{"users_pool_phone_key", "users.pool_id, users.phone", userpool.ErrPhoneTaken},
}

// uniqueUserViolation returns the sentinel for err when it is a violation of
// one of the users table's unique indexes, and nil otherwise.
func (d dialect) uniqueUserViolation(err error) error {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		if pe.Code != "23505" { // unique_violation
			return nil
		}
		for _, ix := range userIndexes {
			if pe.ConstraintName == ix.name {
				return ix.err
			}
		}
		return nil
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		if se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return nil
		}
		msg := se.Error()
		for _, ix := range userIndexes {
			// modernc appends the result code: "... users.pool_id, users.phone (2067)".
			if strings.Contains(msg, "'"+ix.name+"'") || strings.Contains(msg, ix.sqliteColumns+" (") ||
				strings.HasSuffix(msg, ix.sqliteColumns) {
				return ix.err
			}
		}
	}
	return nil
}

// foreignKeyViolation reports whether err is a foreign key violation. Every
// insert in this package has exactly one foreign key, so the caller knows
// which parent row was missing; SQLite would not say.
func (d dialect) foreignKeyViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23503" // foreign_key_violation
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}
