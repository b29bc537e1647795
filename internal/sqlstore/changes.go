package sqlstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// ChangeWatcher hears the change feed (WatchChanges). Its methods are
// called from one goroutine, in order, and must not block for long.
type ChangeWatcher interface {
	// Up says the feed is listening: every change committed from now on
	// will be heard. Changes committed while it was down were not, so the
	// watcher must forget what it cached before.
	Up()
	// Down says the feed stopped listening (connection lost, database
	// unreachable): changes may go unheard until the next Up.
	Down()
	// PoolChanged says a pool's row, fields or pipelines changed; id ""
	// means any pool may have changed.
	PoolChanged(id string)
	// SessionChanged says a session was revoked, deleted or had its expiry
	// moved (PostgreSQL, and this process's own writes).
	SessionChanged(id string)
	// UserSessionsChanged says the user's sessions, except keep, were
	// revoked or deleted (this process's own writes; other replicas hear
	// each session).
	UserSessionsChanged(poolID, userID, keep string)
}

// SetChangeWatcher makes w hear this process's own writes to cached rows
// the moment they commit (or fail: a failed write only costs a reread), so
// that a change is effective at once on the replica that made it, whatever
// path wrote it. Other processes' writes reach w through WatchChanges.
func (s *Store) SetChangeWatcher(w ChangeWatcher) { s.watcher.Store(&w) }

func (s *Store) localPool(id string) {
	if w := s.watcher.Load(); w != nil {
		(*w).PoolChanged(id)
	}
}

func (s *Store) localSession(id string) {
	if w := s.watcher.Load(); w != nil {
		(*w).SessionChanged(id)
	}
}

func (s *Store) localUser(poolID, userID, keep string) {
	if w := s.watcher.Load(); w != nil {
		(*w).UserSessionsChanged(poolID, userID, keep)
	}
}

// Change feed timing.
const (
	// feedHealthEvery is how long the PostgreSQL listener waits for a
	// notification before it checks its connection with a ping, and
	// feedHealthTimeout bounds that ping: a connection that died silently
	// (a network partition, not a closed socket) is noticed within their
	// sum. A terminated backend or a closed socket is noticed at once.
	feedHealthEvery   = time.Second
	feedHealthTimeout = time.Second
	// feedPollEvery is how often a SQLite process reads change_counter:
	// the bound on how long another process's change goes unseen.
	feedPollEvery = time.Second
	// feedRetryMax caps the pause between reconnection attempts.
	feedRetryMax = 2 * time.Second
)

// ChangeFeedBound is the longest a committed change can go unheard by a
// watcher that is Up, on this store's backend, when the database and the
// network are healthy: a PostgreSQL notification arrives within
// milliseconds; SQLite's counter is polled every feedPollEvery. A listener
// that lost its connection silently is Down within
// feedHealthEvery+feedHealthTimeout.
func (s *Store) ChangeFeedBound() time.Duration {
	if s.d.name == "postgres" {
		return feedHealthEvery + feedHealthTimeout
	}
	return feedPollEvery
}

// Postgres reports whether the store is on PostgreSQL.
func (s *Store) Postgres() bool { return s.d.name == "postgres" }

// WatchChanges runs the change feed until ctx ends, telling w about every
// committed change to the rows replicas cache (migration 0017). On
// PostgreSQL it holds one connection of its own that LISTENs to the
// schema's channel, reconnecting after any failure (w.Down, then w.Up
// once listening again). On SQLite it polls change_counter.
func (s *Store) WatchChanges(ctx context.Context, w ChangeWatcher) {
	if s.pgConfig == nil {
		s.pollChanges(ctx, w)
		return
	}
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		began := time.Now()
		err := s.listen(ctx, w)
		w.Down()
		if ctx.Err() != nil {
			return
		}
		_ = err // the watcher falls back to the store; the next attempt follows
		if time.Since(began) > 10*feedRetryMax {
			pause = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, feedRetryMax)
	}
}

// listen connects, LISTENs and hands notifications to w until the
// connection fails or ctx ends.
func (s *Store) listen(ctx context.Context, w ChangeWatcher) error {
	cfg := s.pgConfig.Copy()
	// A wait for notifications that times out must leave the connection
	// usable (for the health ping): deadlines, not cancel requests.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("sqlstore: change feed: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	err = conn.QueryRow(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = 'sessions'::regclass`).Scan(&schema)
	if err != nil {
		return fmt.Errorf("sqlstore: change feed: find schema: %w", err)
	}
	// Named after the channel, so that an operator (or a test) can find
	// the listeners of one schema in pg_stat_activity.
	channel := ChangeChannel(schema)
	if _, err := conn.Exec(ctx, "SET application_name = "+quoteLiteral("authpool feed "+channel)); err != nil {
		return fmt.Errorf("sqlstore: change feed: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("sqlstore: change feed: listen: %w", err)
	}
	w.Up()
	for {
		wctx, cancel := context.WithTimeout(ctx, feedHealthEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			dispatchChange(w, n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return fmt.Errorf("sqlstore: change feed: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, feedHealthTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("sqlstore: change feed: ping: %w", err)
		}
	}
}

// quoteLiteral quotes s as an SQL string literal (s is hex and letters).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ChangeChannel is the NOTIFY channel of the authpool tables in schema;
// the triggers of migration 0017 compute the same name.
func ChangeChannel(schema string) string {
	sum := md5.Sum([]byte(schema))
	return "authpool_" + hex.EncodeToString(sum[:])[:16]
}

func dispatchChange(w ChangeWatcher, payload string) {
	kind, id, _ := strings.Cut(payload, ":")
	switch kind {
	case "p":
		w.PoolChanged(id)
	case "s":
		w.SessionChanged(id)
	default:
		// Unknown to this version (a newer replica's): assume the worst.
		w.Down()
		w.Up()
	}
}

// pollChanges reads SQLite's change_counter every feedPollEvery and tells
// w that any pool may have changed when it moved.
func (s *Store) pollChanges(ctx context.Context, w ChangeWatcher) {
	t := time.NewTicker(feedPollEvery)
	defer t.Stop()
	var last int64
	up := false
	for {
		var n int64
		err := s.read.QueryRowContext(ctx, "SELECT n FROM change_counter WHERE id = 1").Scan(&n)
		switch {
		case ctx.Err() != nil:
			if up {
				w.Down()
			}
			return
		case err != nil:
			if up {
				w.Down()
				up = false
			}
		case !up:
			last = n
			up = true
			w.Up()
		case n != last:
			last = n
			w.PoolChanged("")
		}
		select {
		case <-ctx.Done():
			if up {
				w.Down()
			}
			return
		case <-t.C:
		}
	}
}

// ChangeCount returns SQLite's change_counter (every committed change to
// pools, fields and pipelines moves it), for a cache that checks it before
// serving from memory so that another process's change is seen at once.
// It returns ok false on PostgreSQL, which notifies instead.
func (s *Store) ChangeCount(ctx context.Context) (n int64, ok bool, err error) {
	if s.pgConfig != nil {
		return 0, false, nil
	}
	err = s.read.QueryRowContext(ctx, "SELECT n FROM change_counter WHERE id = 1").Scan(&n)
	return n, err == nil, err
}
