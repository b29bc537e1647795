package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CopyOptions tune Copy.
type CopyOptions struct {
	// IntoNonEmpty lets Copy write into a target that already holds rows
	// (rows with the same keys make it fail, and it changes nothing).
	IntoNonEmpty bool
	// Progress, when set, gets a line per table.
	Progress io.Writer
}

// TableCopy is what Copy did with one table.
type TableCopy struct {
	Table    string
	Rows     int64
	Checksum string // of the source's rows; the target's matched it
}

// Copy copies every table of src into dst (both opened, hence migrated to
// this binary's schema): every pool, user, session, signing key, secret,
// code, counter, field and value, pipeline, webhook with its outbox, audit
// event, application and import record. It reads the source in one
// transaction (one snapshot: run it on a stopped or read-only source, or
// at least a quiet one) and writes the target in one transaction, tables
// in foreign-key order, then, before committing, counts each table's rows
// in the target and compares a checksum of its values with the source's;
// any difference rolls the whole copy back. A target that holds rows is
// refused unless IntoNonEmpty.
func Copy(ctx context.Context, src, dst *Store, opt CopyOptions) ([]TableCopy, error) {
	tables, err := dst.copyTables(ctx, dst.read)
	if err != nil {
		return nil, err
	}
	srcTables, err := src.copyTables(ctx, src.read)
	if err != nil {
		return nil, err
	}
	if a, b := names(tables), names(srcTables); !slices.Equal(a, b) {
		return nil, fmt.Errorf("sqlstore: copy: the source's tables %v differ from the target's %v (are both at this version's schema?)", b, a)
	}
	if !opt.IntoNonEmpty {
		for _, t := range tables {
			var n int64
			if err := dst.read.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&n); err != nil {
				return nil, fmt.Errorf("sqlstore: copy: count %s: %w", t.name, err)
			}
			if n > 0 {
				return nil, fmt.Errorf("sqlstore: copy: the target is not empty (%s has %d rows); give --into-nonempty to write into it anyway", t.name, n)
			}
		}
	}

	var rtx *sql.Tx
	if src.d.name == "postgres" {
		rtx, err = src.read.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	} else {
		rtx, err = src.read.BeginTx(ctx, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: begin source: %w", err)
	}
	defer rtx.Rollback() //nolint:errcheck // read only

	var out []TableCopy
	err = dst.inTx(ctx, "copy", func(wtx *sql.Tx) error {
		if dst.d.name == "postgres" {
			// Rows arrive in foreign-key order; nothing to defer.
			if _, err := wtx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return fmt.Errorf("sqlstore: copy: %w", err)
			}
		}
		for _, t := range tables {
			start := time.Now()
			tc, err := copyTable(ctx, src, rtx, dst, wtx, t)
			if err != nil {
				return err
			}
			out = append(out, tc)
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "%-24s %9d rows  checksum %s  %.1fs\n", t.name, tc.Rows, tc.Checksum[:16], time.Since(start).Seconds())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type copyColumn struct {
	name, typ string
	identity  bool
}

type tableInfo struct {
	name string
	cols []copyColumn
	deps []string
}

func names(ts []tableInfo) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.name
	}
	slices.Sort(out)
	return out
}

// copyTables lists the store's tables (but the migrations' own) with
// their columns, parents before children.
func (s *Store) copyTables(ctx context.Context, q queryer) ([]tableInfo, error) {
	var list string
	if s.d.name == "postgres" {
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	} else {
		list = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	tnames, err := queryStrings(ctx, q, list)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: list tables: %w", err)
	}
	byName := map[string]*tableInfo{}
	for _, n := range tnames {
		// The migration ledger and SQLite's change counter (the change
		// feed's, migration 0017) belong to each database, not to its data.
		if n == "schema_migrations" || n == "change_counter" {
			continue
		}
		t := &tableInfo{name: n}
		var rows *sql.Rows
		if s.d.name == "postgres" {
			rows, err = q.QueryContext(ctx, `SELECT column_name, data_type, is_identity = 'YES' FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, n)
		} else {
			rows, err = q.QueryContext(ctx, `SELECT name, upper(type), 0 FROM pragma_table_info(?) ORDER BY cid`, n)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlstore: copy: columns of %s: %w", n, err)
		}
		for rows.Next() {
			var c copyColumn
			if err := rows.Scan(&c.name, &c.typ, &c.identity); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: copy: columns of %s: %w", n, err)
			}
			t.cols = append(t.cols, c)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
		if s.d.name == "postgres" {
			t.deps, err = queryStrings(ctx, q, `SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc
				JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
				WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1`, n)
		} else {
			t.deps, err = queryStrings(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlstore: copy: foreign keys of %s: %w", n, err)
		}
		byName[n] = t
	}
	// Parents first (depth-first), names in order for a stable result.
	var out []tableInfo
	state := map[string]int{}
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("sqlstore: copy: foreign keys form a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		t := byName[n]
		slices.Sort(t.deps)
		for _, d := range t.deps {
			if d != n && byName[d] != nil {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		out = append(out, *t)
		return nil
	}
	keys := make([]string, 0, len(byName))
	for n := range byName {
		keys = append(keys, n)
	}
	slices.Sort(keys)
	for _, n := range keys {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// copyTable streams one table from the source into the target in
// multi-row inserts, summing a checksum of the rows as read, and then
// reads the target's rows back for the same checksum.
func copyTable(ctx context.Context, src *Store, rtx *sql.Tx, dst *Store, wtx *sql.Tx, t tableInfo) (TableCopy, error) {
	colNames := make([]string, len(t.cols))
	identity := false
	for i, c := range t.cols {
		colNames[i] = c.name
		identity = identity || c.identity
	}
	sel := "SELECT " + strings.Join(colNames, ", ") + " FROM " + t.name
	rows, err := rtx.QueryContext(ctx, sel)
	if err != nil {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
	}
	defer rows.Close()
	perRow := max(1, 30000/len(t.cols))
	perRow = min(perRow, 500)
	head := "INSERT INTO " + t.name + " (" + strings.Join(colNames, ", ") + ")"
	if identity {
		head += " OVERRIDING SYSTEM VALUE"
	}
	head += " VALUES "
	one := "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"
	var args []any
	var n int64
	var sum checksum
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		k := len(args) / len(t.cols)
		if _, err := wtx.ExecContext(ctx, dst.d.q(head+one+strings.Repeat(", "+one, k-1)), args...); err != nil {
			return fmt.Errorf("sqlstore: copy: write %s: %w", t.name, err)
		}
		args = args[:0]
		return nil
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return TableCopy{}, fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
		}
		sum.add(vals)
		for i, v := range vals {
			args = append(args, convertFor(dst.d.name, t.cols[i].typ, v))
		}
		n++
		if len(args)/len(t.cols) >= perRow {
			if err := flush(); err != nil {
				return TableCopy{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
	}
	if err := flush(); err != nil {
		return TableCopy{}, err
	}
	if identity && dst.d.name == "postgres" {
		for _, c := range t.cols {
			if c.identity {
				if _, err := wtx.ExecContext(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s`,
					t.name, c.name, c.name, t.name)); err != nil {
					return TableCopy{}, fmt.Errorf("sqlstore: copy: sequence of %s: %w", t.name, err)
				}
			}
		}
	}

	// Verify: the target's count and checksum, read in the same
	// transaction.
	var got checksum
	var m int64
	back, err := wtx.QueryContext(ctx, sel)
	if err != nil {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: verify %s: %w", t.name, err)
	}
	defer back.Close()
	for back.Next() {
		if err := back.Scan(ptrs...); err != nil {
			return TableCopy{}, fmt.Errorf("sqlstore: copy: verify %s: %w", t.name, err)
		}
		got.add(vals)
		m++
	}
	if err := back.Err(); err != nil {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: verify %s: %w", t.name, err)
	}
	var total int64
	if err := wtx.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&total); err != nil {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: count %s: %w", t.name, err)
	}
	if total < n || m != total {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: %s: %d rows read, %d in the target", t.name, n, total)
	}
	if total == n && got != sum {
		return TableCopy{}, fmt.Errorf("sqlstore: copy: %s: the target's checksum %s differs from the source's %s", t.name, got.String()[:16], sum.String()[:16])
	}
	return TableCopy{Table: t.name, Rows: n, Checksum: sum.String()}, nil
}

// convertFor turns a value read from one backend into what the other's
// column takes: SQLite keeps times as unix milliseconds and booleans as
// 0/1 in INTEGER columns, PostgreSQL has timestamptz and boolean.
func convertFor(backend, typ string, v any) any {
	if backend == "postgres" {
		switch typ {
		case "timestamp with time zone":
			if i, ok := v.(int64); ok {
				return time.UnixMilli(i).UTC()
			}
		case "boolean":
			if i, ok := v.(int64); ok {
				return i != 0
			}
		case "bytea":
			if s, ok := v.(string); ok {
				return []byte(s)
			}
		case "text":
			if b, ok := v.([]byte); ok {
				return string(b)
			}
		}
		return v
	}
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli()
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case []byte:
		if typ == "TEXT" {
			return string(x)
		}
	case string:
		if typ == "BLOB" {
			return []byte(x)
		}
	}
	return v
}

// checksum is an order-independent sum of the rows' SHA-256 digests (four
// 64-bit lanes added modulo 2^64), over each value in a form both backends
// agree on: times as unix milliseconds, booleans as 0/1 (SQLite's own
// forms), bytes and text as bytes. Equal rows add up instead of
// cancelling out.
type checksum [4]uint64

func (c *checksum) add(vals []any) {
	h := sha256.New()
	var buf []byte
	for _, v := range vals {
		buf = buf[:0]
		switch x := v.(type) {
		case nil:
			buf = append(buf, 'n')
		case int64:
			buf = strconv.AppendInt(append(buf, 'i'), x, 10)
		case time.Time:
			buf = strconv.AppendInt(append(buf, 'i'), x.UnixMilli(), 10)
		case bool:
			b := int64(0)
			if x {
				b = 1
			}
			buf = strconv.AppendInt(append(buf, 'i'), b, 10)
		case float64:
			buf = strconv.AppendFloat(append(buf, 'f'), x, 'g', -1, 64)
		case []byte:
			buf = append(append(buf, 's'), x...)
		case string:
			buf = append(append(buf, 's'), x...)
		default:
			buf = fmt.Appendf(append(buf, '?'), "%v", x)
		}
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(buf)))
		h.Write(l[:])
		h.Write(buf)
	}
	d := h.Sum(nil)
	for i := range c {
		c[i] += binary.BigEndian.Uint64(d[i*8:])
	}
}

func (c checksum) String() string {
	var b [32]byte
	for i, v := range c {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return hex.EncodeToString(b[:])
}
