package sqlstore

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
)

// Counts tallies what a Store sends to its database: every statement
// (a query or an exec, in a transaction or not, prepared or not) and every
// transaction begun. Benchmarks show them per request (round trips are what
// a remote database charges for); a Store opened without Counts counts
// nothing and pays nothing for it.
type Counts struct {
	Statements   atomic.Int64
	Transactions atomic.Int64
}

// OpenOptions are optional settings of OpenWith.
type OpenOptions struct {
	// Counts, when set, receives the store's statement and transaction
	// counts.
	Counts *Counts
}

// countingConnector wraps a connector so that its connections count.
type countingConnector struct {
	driver.Connector
	c *Counts
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn: conn, c: cc.c}, nil
}

// countingConn passes everything to conn, counting statements and
// transactions. Each optional interface is passed on when conn has it, and
// answered as database/sql would answer its absence otherwise.
type countingConn struct {
	conn driver.Conn
	c    *Counts
}

func (cc *countingConn) Prepare(query string) (driver.Stmt, error) {
	return cc.PrepareContext(context.Background(), query)
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := cc.conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cc.conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, c: cc.c}, nil
}

func (cc *countingConn) Close() error { return cc.conn.Close() }

// Unwrap returns the driver's connection (sqlite.Limit looks through
// wrappers with it).
func (cc *countingConn) Unwrap() driver.Conn { return cc.conn }

func (cc *countingConn) Begin() (driver.Tx, error) {
	return cc.BeginTx(context.Background(), driver.TxOptions{})
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cc.c.Transactions.Add(1)
	if b, ok := cc.conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return cc.conn.Begin() //nolint:staticcheck // the driver offers nothing else
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cc.conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		cc.c.Statements.Add(1)
	}
	return res, err
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cc.conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		cc.c.Statements.Add(1)
	}
	return rows, err
}

func (cc *countingConn) Ping(ctx context.Context) error {
	if p, ok := cc.conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cc *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cc.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cc *countingConn) IsValid() bool {
	if v, ok := cc.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cc *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cc.conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// countingStmt counts each execution of a prepared statement.
type countingStmt struct {
	driver.Stmt
	c *Counts
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.Statements.Add(1)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return s.Stmt.Exec(values(args)) //nolint:staticcheck // the driver offers nothing else
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.Statements.Add(1)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return s.Stmt.Query(values(args)) //nolint:staticcheck // the driver offers nothing else
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func values(args []driver.NamedValue) []driver.Value {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		v[i] = a.Value
	}
	return v
}
