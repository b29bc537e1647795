package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/authpool/authpool/internal/userpool"
)

// PostgreSQL's errors are classified where they arise, in a thin layer
// over the pgx driver, so that every query of the store, present and
// future, reports them the same way without each call site knowing them:
//
//   - the server cannot be reached (connection refused or dropped, a
//     server shutting down or starting up, no free connection slot) is
//     userpool.Unavailable: code 1008, HTTP 503 with a Retry-After;
//   - text PostgreSQL cannot hold (NUL, invalid UTF-8; SQLSTATE 22021,
//     22P05) is userpool.InvalidText: code 1001, HTTP 400, as the same
//     request is on SQLite, which stores any bytes and then finds nothing.
//
// Both keep the driver's error as their cause (errors.Is and errors.As
// still see it, so database/sql still retries a bad connection), and
// everything else passes through unchanged.

// classify maps err as described above.
func classify(err error) error {
	switch {
	case err == nil || err == driver.ErrSkip || err == io.EOF:
		// ErrSkip is compared by identity in database/sql; a bare io.EOF
		// is the end of rows.
		return err
	case unreachable(err):
		return userpool.Unavailable(err)
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && (pe.Code == "22021" || pe.Code == "22P05") {
		return userpool.InvalidText(err)
	}
	return err
}

// unreachable reports whether err says the database cannot be reached
// rather than that a statement failed.
func unreachable(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pe.Code {
		case "57P01", // admin_shutdown (pg_terminate_backend, a fast shutdown)
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now (starting up, shutting down)
			"53300": // too_many_connections
			return true
		}
		// Class 08: connection exception.
		return len(pe.Code) == 5 && pe.Code[:2] == "08"
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// classifyingConnector opens pgx connections whose errors are classified.
type classifyingConnector struct{ driver.Connector }

func (c classifyingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &classifyingConn{conn.(*stdlib.Conn)}, nil
}

// classifyingConn is a pgx connection (whose other methods, the optional
// interfaces database/sql looks for among them, it keeps by embedding)
// with every method that talks to the server classified.
type classifyingConn struct{ *stdlib.Conn }

func (c *classifyingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *classifyingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, classify(err)
	}
	return &classifyingStmt{st.(*stdlib.Stmt)}, nil
}

func (c *classifyingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *classifyingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingTx{tx}, nil
}

func (c *classifyingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.ExecContext(ctx, query, args)
	return res, classify(err)
}

func (c *classifyingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, classify(err)
	}
	return &classifyingRows{rows.(*stdlib.Rows)}, nil
}

func (c *classifyingConn) Ping(ctx context.Context) error { return classify(c.Conn.Ping(ctx)) }

type classifyingStmt struct{ *stdlib.Stmt }

func (s *classifyingStmt) Exec(args []driver.Value) (driver.Result, error) {
	res, err := s.Stmt.Exec(args)
	return res, classify(err)
}

func (s *classifyingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.Stmt.ExecContext(ctx, args)
	return res, classify(err)
}

func (s *classifyingStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.Stmt.Query(args)
	if err != nil {
		return nil, classify(err)
	}
	return &classifyingRows{rows.(*stdlib.Rows)}, nil
}

func (s *classifyingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, classify(err)
	}
	return &classifyingRows{rows.(*stdlib.Rows)}, nil
}

type classifyingTx struct{ driver.Tx }

func (t classifyingTx) Commit() error   { return classify(t.Tx.Commit()) }
func (t classifyingTx) Rollback() error { return classify(t.Tx.Rollback()) }

// classifyingRows classifies a connection lost while rows are read.
type classifyingRows struct{ *stdlib.Rows }

func (r *classifyingRows) Next(dest []driver.Value) error { return classify(r.Rows.Next(dest)) }
