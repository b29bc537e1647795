package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authpool/authpool/internal/userpool"
)

// On PostgreSQL every statement is a round trip, and a round trip costs
// the server and the database more CPU than the statement's own work
// (docs/BENCHMARKS.md, BenchmarkPostgresRoundTrip). The records a change
// carries that only write (a session, audit and webhook events, counter
// resets and give-backs: a login carries five) are therefore sent as
// one statement there: each becomes a data-modifying WITH query of one
// INSERT ... or DELETE ... that PostgreSQL runs to completion whether or
// not the final SELECT reads it. They are independent of one another
// (none reads what another writes), as the one snapshot of a statement
// requires. SQLite runs in process and keeps one statement per record.

// batched says whether insertRecords may put r in the one statement.
func batched(r userpool.Record) bool {
	switch r.(type) {
	case *userpool.Session, *userpool.AuditEvent, *userpool.Event, *userpool.CounterReset, *userpool.CounterGiveBack:
		return true
	}
	return false
}

// recordBatch is the queryer the batched records are written through: it
// keeps their statements (already numbered for PostgreSQL) for exec. Only
// ExecContext is used by the writers of batched records.
type recordBatch struct {
	// lead, when set, is the statement the WITH queries are attached to
	// (insertRecordsLed): an UPDATE of one row, in place of the final
	// SELECT.
	lead  *batchedStmt
	stmts []batchedStmt
	// event marks the statements added next as a webhook event's, whose
	// rows are counted (deliveries due).
	event bool
}

type batchedStmt struct {
	query string
	args  []any
	event bool
}

func (b *recordBatch) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	b.stmts = append(b.stmts, batchedStmt{query: query, args: args, event: b.event})
	return batchedResult{}, nil
}

func (b *recordBatch) QueryContext(context.Context, string, ...any) (*sql.Rows, error) {
	return nil, errors.New("sqlstore: a batched record cannot read")
}

func (b *recordBatch) QueryRowContext(context.Context, string, ...any) *sql.Row {
	panic("sqlstore: a batched record cannot read")
}

// batchedResult stands for a statement not yet run: the writers of
// batched records ignore it, except insertEvent's count, which exec
// returns instead.
type batchedResult struct{}

func (batchedResult) LastInsertId() (int64, error) { return 0, errors.New("sqlstore: no insert id") }
func (batchedResult) RowsAffected() (int64, error) { return 0, nil }

// exec runs the kept statements through q as one statement and returns
// the number of deliveries the events among them inserted. The errors
// the writers map one by one are mapped here by the table that raised
// them: a session of a missing user is ErrUserNotFound, an audit event of
// a missing pool ErrPoolNotFound.
func (b *recordBatch) exec(ctx context.Context, q queryer) (int64, error) {
	if len(b.stmts) == 0 && b.lead == nil {
		return 0, nil
	}
	var (
		sb     strings.Builder
		args   []any
		counts []string
	)
	if len(b.stmts) > 0 {
		sb.WriteString("WITH ")
	}
	for i, st := range b.stmts {
		if i > 0 {
			sb.WriteString(", ")
		}
		name := "r" + strconv.Itoa(i)
		sb.WriteString(name + " AS (")
		sb.WriteString(renumber(st.query, len(args)))
		if st.event {
			sb.WriteString(" RETURNING 1")
			counts = append(counts, "(SELECT count(*) FROM "+name+")")
		}
		sb.WriteString(")")
		args = append(args, st.args...)
	}
	total := "0"
	if len(counts) > 0 {
		total = strings.Join(counts, " + ")
	}
	if b.lead != nil {
		sb.WriteString(" " + renumber(b.lead.query, len(args)) + " RETURNING " + total)
		args = append(args, b.lead.args...)
	} else {
		sb.WriteString(" SELECT " + total)
	}
	var n int64
	err := q.QueryRowContext(ctx, sb.String(), args...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) && b.lead != nil {
		return 0, errLeadMissed
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case pe.Code == "23503" && pe.TableName == "sessions":
			return 0, userpool.ErrUserNotFound
		case pe.Code == "23503" && pe.TableName == "audit_events":
			return 0, userpool.ErrPoolNotFound
		case pe.TableName == "users" && b.lead != nil:
			// The lead's own error (a unique key of the user taken).
			return 0, leadError{err}
		}
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: write records: %w", err)
	}
	return n, nil
}

// errLeadMissed is a lead statement (insertRecordsLed) that changed no
// row.
var errLeadMissed = errors.New("sqlstore: the write the records rode with changed no row")

// leadError is the lead statement's own error, for its caller to map as
// it maps the statement's errors when run alone.
type leadError struct{ err error }

func (e leadError) Error() string { return e.err.Error() }
func (e leadError) Unwrap() error { return e.err }

// renumber shifts the $n parameters of a PostgreSQL statement by offset.
// The statements of this package have no $ in literals or identifiers.
func renumber(query string, offset int) string {
	if offset == 0 {
		return query
	}
	var sb strings.Builder
	sb.Grow(len(query) + 16)
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '$' {
			sb.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && '0' <= query[j] && query[j] <= '9' {
			j++
		}
		if j == i+1 {
			sb.WriteByte(c)
			continue
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		sb.WriteString("$" + strconv.Itoa(n+offset))
		i = j - 1
	}
	return sb.String()
}
