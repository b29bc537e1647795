// Package sqlstore implements userpool.Store on database/sql for SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). The database URL's
// scheme picks the backend; both share every query through a small dialect
// value, and both apply the embedded migrations on Open.
//
// Uniqueness and read-modify-write are left to the database (unique indexes,
// transactions, row locks), never to process memory, so several replicas
// may share one PostgreSQL database.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authpool/authpool/internal/userpool"
)

// Store is a userpool.Store on SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	d dialect
	// write runs every write and every read-modify-write transaction.
	write *sql.DB
	// read runs plain reads. On SQLite it is a separate pool of query-only
	// connections, so readers never queue behind the single writer; on
	// PostgreSQL it is the same pool as write.
	read *sql.DB
	// now stamps CreatedAt and UpdatedAt when the caller left them zero.
	now func() time.Time

	// getSession is prepared once: it runs on every authenticated request,
	// and SQLite would otherwise parse and plan it each time.
	getSession *sql.Stmt
	// getSessionUser and getSessionUserValues (GetSessionUser) likewise.
	getSessionUser, getSessionUserValues *sql.Stmt

	// added tells this process's dispatcher that a write committed
	// deliveries that are due at once (see NewDeliveries).
	added signal

	// pgConfig is the PostgreSQL connection configuration, kept for the
	// change feed's dedicated listening connection (changes.go); nil on
	// SQLite.
	pgConfig *pgx.ConnConfig
	// watcher hears this process's own changes at once (changes.go).
	watcher atomic.Pointer[ChangeWatcher]

	// imported counts the rows this process imported, for the statistics
	// a large import keeps fresh on PostgreSQL (analyzeAfterImport).
	imported struct {
		mu         sync.Mutex
		rows, next int64
	}
}

var _ userpool.Store = (*Store)(nil)

const (
	// sqliteBusyTimeout bounds how long a connection waits for a lock held
	// by another process before failing with SQLITE_BUSY. Within one process
	// the single write connection already serialises writers.
	sqliteBusyTimeout = 10 * time.Second
	// defaultPostgresConns is the pool size unless the URL sets
	// pool_max_conns. Authentication is bound by password hashing, not by
	// the database, so a modest pool serves many requests and leaves room
	// for several replicas under PostgreSQL's default max_connections (100).
	defaultPostgresConns = 10
	// defaultConnectTimeout bounds a connection attempt unless the URL sets
	// connect_timeout (seconds).
	defaultConnectTimeout = 5 * time.Second
)

// Open connects to the database named by databaseURL and applies pending
// migrations. Accepted forms:
//
//	sqlite:/path/to/file.db    sqlite:relative.db
//	sqlite:///path/to/file.db  file:/path/to/file.db?mode=rwc
//	postgres://user:pass@host:5432/db?sslmode=disable   (or postgresql://)
//
// Query parameters of a SQLite URL are passed to the driver (modernc.org/sqlite
// DSN parameters, such as _pragma=cache_size(-8000)); ones that contradict
// the store's own (journal_mode, busy_timeout, _txlock) are unsupported. A
// PostgreSQL URL may carry pool_max_conns (default 10); every other parameter
// goes to pgx, which sends unknown ones (search_path, for example) to the
// server as run-time parameters.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	return OpenWith(ctx, databaseURL, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, databaseURL string, opts OpenOptions) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch scheme := urlScheme(databaseURL); scheme {
	case "sqlite", "file":
		s, err = openSQLite(databaseURL, opts.Counts)
	case "postgres", "postgresql":
		s, err = openPostgres(databaseURL, opts.Counts)
	case "":
		// The URL itself is never echoed: it may hold a password.
		return nil, errors.New("sqlstore: database URL has no scheme (want sqlite: or postgres://)")
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database URL scheme %q (want sqlite: or postgres://)", scheme)
	}
	if err != nil {
		return nil, err
	}
	// Processes opening one new SQLite file at the same moment can meet
	// SQLITE_BUSY while one of them switches it to WAL (SQLite does not
	// wait for that lock); a few short retries let them line up.
	err = retryBusy(ctx, func() error {
		if err := s.Ping(ctx); err != nil {
			return err
		}
		return s.Migrate(ctx)
	})
	if err != nil && s.d.name == "sqlite" {
		err = sqliteOpenError(databaseURL, err)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.getSession, "SELECT " + sessionColumns + " FROM sessions WHERE id = ?"},
		{&s.getSessionUser, sessionUserSelect},
		{&s.getSessionUserValues, sessionUserValuesSelect},
	} {
		if *p.stmt, err = s.read.PrepareContext(ctx, s.d.q(p.query)); err != nil {
			return nil, errors.Join(fmt.Errorf("sqlstore: prepare: %w", err), s.Close())
		}
	}
	return s, nil
}

// urlScheme returns the lower-cased scheme of u, or "" when u does not
// start with one (RFC 3986: a letter, then letters, digits, "+", "-", ".").
func urlScheme(u string) string {
	scheme, _, ok := strings.Cut(u, ":")
	if !ok || scheme == "" {
		return ""
	}
	for i, r := range scheme {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return ""
		}
	}
	return strings.ToLower(scheme)
}

// sqliteName splits a sqlite: or file: URL into the name the driver opens
// and the driver parameters the caller added. A file: URL stays a file: URL,
// which SQLite itself parses (percent-escapes, mode=ro and the like).
func sqliteName(databaseURL string) (name, params string, err error) {
	rest := databaseURL
	switch {
	case strings.HasPrefix(rest, "sqlite://"):
		rest = strings.TrimPrefix(rest, "sqlite://")
	case strings.HasPrefix(rest, "sqlite:"):
		rest = strings.TrimPrefix(rest, "sqlite:")
	}
	name, params, _ = strings.Cut(rest, "?")
	if name == "" || name == "file:" {
		return "", "", errors.New("sqlstore: sqlite URL has no file path")
	}
	// The reader and writer pools must see one database, and an in-memory
	// database exists once per connection.
	if strings.Contains(name, ":memory:") || strings.Contains(params, "mode=memory") {
		return "", "", errors.New("sqlstore: in-memory SQLite is not supported; use a file (t.TempDir() in tests)")
	}
	if _, err := url.ParseQuery(params); err != nil {
		return "", "", fmt.Errorf("sqlstore: sqlite URL parameters: %w", err)
	}
	return name, params, nil
}

// sqliteOpenError names the file SQLite could not open or write, which
// its own "unable to open database file" does not.
func sqliteOpenError(databaseURL string, err error) error {
	name, _, nerr := sqliteName(databaseURL)
	if nerr != nil {
		return err
	}
	path := strings.TrimPrefix(name, "file:")
	if dir := filepath.Dir(path); !isDir(dir) {
		return fmt.Errorf("sqlstore: cannot create the SQLite database %s: directory %s does not exist: %w", path, dir, err)
	}
	return fmt.Errorf("sqlstore: cannot open or write the SQLite database %s (the file and its directory must be writable): %w", path, err)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func openSQLite(databaseURL string, counts *Counts) (*Store, error) {
	name, userParams, err := sqliteName(databaseURL)
	if err != nil {
		return nil, err
	}
	busy := "_pragma=busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) + ")"
	// The store's parameters come first: for a key given twice the driver
	// uses the first value, so the caller's cannot override them.
	dsn := func(params ...string) string {
		if userParams != "" {
			params = append(params, userParams)
		}
		return name + "?" + strings.Join(params, "&")
	}

	// One write connection: SQLite allows one writer at a time anyway, and
	// queueing in database/sql instead of in SQLite's lock avoids
	// "database is locked" under many concurrent writers. _txlock=immediate
	// takes the write lock at BEGIN, so a read-modify-write transaction can
	// never fail to upgrade its lock halfway through.
	open := func(dsn string) (*sql.DB, error) {
		c, err := sqlite.NewConnector(dsn)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		c = stmtCacheConnector{c} // stmtcache.go
		if counts != nil {
			c = countingConnector{c, counts}
		}
		return sql.OpenDB(c), nil
	}
	write, err := open(dsn(busy,
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// WAL lets these readers run while the writer writes. query_only makes
	// a stray write through the read pool fail instead of taking the lock.
	read, err := open(dsn(busy, "_pragma=query_only(1)"))
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)

	return &Store{d: sqliteDialect, write: write, read: read, now: time.Now}, nil
}

func openPostgres(databaseURL string, counts *Counts) (*Store, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// url.Error would repeat the URL, password included.
		return nil, errors.New("sqlstore: malformed postgres URL")
	}
	conns := defaultPostgresConns
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("sqlstore: pool_max_conns=%q: want a positive integer", v)
		}
		conns = n
		// pgx would send it to the server as a run-time parameter.
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	if !q.Has("connect_timeout") {
		// pgx waits for a connection as long as the OS does (minutes, for
		// a host that drops packets); an unreachable database must be
		// answered as one, while the request is still waiting.
		q.Set("connect_timeout", strconv.Itoa(int(defaultConnectTimeout/time.Second)))
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's error names the URL with its password masked.
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	// Errors are classified at the driver (classify.go): an unreachable
	// database is code 1008, text it cannot hold code 1001.
	var c driver.Connector = classifyingConnector{stdlib.GetConnector(*cfg)}
	if counts != nil {
		c = countingConnector{c, counts}
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Recycle connections now and then so that a failover or a rebalanced
	// proxy is picked up.
	db.SetConnMaxLifetime(30 * time.Minute)
	return &Store{d: postgresDialect, write: db, read: db, now: time.Now, pgConfig: cfg}, nil
}

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	var err error
	for _, st := range []*sql.Stmt{s.getSession, s.getSessionUser, s.getSessionUserValues} {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	err = errors.Join(err, s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction on the write pool and commits when fn
// returns nil. fn's error is returned unchanged, because UpdateUser promises
// its callers exactly that; fn adds its own context. op names the operation
// in errors from BEGIN and COMMIT.
func (s *Store) inTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		// fn's error is the one the caller needs. Nothing was committed, so
		// a failing rollback loses no data, and reporting it would only
		// hide fn's error.
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: %s: commit: %w", op, err)
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer, so a read can run on the
// read pool or inside a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// retryBusy runs fn again, up to 5 times with growing pauses, while it
// fails with SQLITE_BUSY.
func retryBusy(ctx context.Context, fn func() error) error {
	pause := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || attempt == 5 || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	return ok && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
