package sqlstore

import (
	"context"
	"database/sql/driver"
)

// SQLite compiles every statement it runs; database/sql's Query and Exec on
// a connection prepare the text, run it once and finalize it, so a login
// spent about a fifth of its CPU beyond the hash in SQLite's parser (a CPU
// profile of BenchmarkLoginByEmail with AUTHPOOL_BENCH_CHEAP_HASH=1). The
// store's statements are a fixed set of texts, so each SQLite connection
// keeps its compiled statements and runs them again (PostgreSQL's driver,
// pgx, already caches prepared statements per connection).

// stmtCacheSize bounds the statements one connection keeps. The store's
// fixed texts are fewer; texts built per call (IN lists of varying length)
// take turns in what is left.
const stmtCacheSize = 256

// maxCachedText: longer texts (the import's IN lists of hundreds of
// values, built per batch) run uncached, so that the cache never holds
// large compiled statements that will not come again.
const maxCachedText = 4096

// stmtCacheConnector gives each connection of a driver a statement cache.
type stmtCacheConnector struct {
	driver.Connector
}

func (sc stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := sc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	q, qok := conn.(driver.QueryerContext)
	e, eok := conn.(driver.ExecerContext)
	p, pok := conn.(driver.ConnPrepareContext)
	if !qok || !eok || !pok {
		return conn, nil // nothing to cache through
	}
	return &stmtCacheConn{Conn: conn, q: q, e: e, p: p, stmts: make(map[string]*cachedStmt)}, nil
}

// stmtCacheConn runs Query and Exec through prepared statements it keeps by
// text. database/sql uses a connection from one goroutine at a time, so the
// map needs no lock. A statement whose rows are still open (a query run
// while another's rows are read, in one transaction) is busy: the text then
// runs uncached, as it would without the cache.
type stmtCacheConn struct {
	driver.Conn
	q     driver.QueryerContext
	e     driver.ExecerContext
	p     driver.ConnPrepareContext
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	st   driver.Stmt
	busy bool
}

// stmt returns the cached statement for query, preparing it when absent;
// nil when it is busy or cannot be prepared (the caller then runs the text
// uncached, which reports any error as before).
func (c *stmtCacheConn) stmt(ctx context.Context, query string) *cachedStmt {
	if len(query) > maxCachedText {
		return nil
	}
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil
		}
		return cs
	}
	st, err := c.p.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evictOne()
	}
	cs := &cachedStmt{st: st}
	c.stmts[query] = cs
	return cs
}

// evictOne closes one idle statement (the map's order makes it a random
// one, which is fair to texts that take turns).
func (c *stmtCacheConn) evictOne() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.st.Close()
			delete(c.stmts, q)
			return
		}
	}
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs := c.stmt(ctx, query)
	if cs == nil {
		return c.q.QueryContext(ctx, query, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs := c.stmt(ctx, query)
	if cs == nil {
		return c.e.ExecContext(ctx, query, args)
	}
	return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.p.PrepareContext(ctx, query)
}

func (c *stmtCacheConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.st.Close()
		delete(c.stmts, q)
	}
	return c.Conn.Close()
}

// Unwrap returns the driver's connection (sqlite.Limit looks through
// wrappers with it).
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.Conn }

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver offers nothing else
}

func (c *stmtCacheConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtCacheConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *stmtCacheConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *stmtCacheConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cachedRows frees its statement for the next run when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
