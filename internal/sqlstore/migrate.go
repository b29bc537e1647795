package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// migrationFS holds the schema, one directory per dialect. Files are named
// NNNN_description.sql and applied in order, each in its own transaction.
// A released migration is never edited; a change is a new file.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrateLockKey is the PostgreSQL advisory lock that serialises migrations
// when replicas start together. The value is arbitrary but fixed ("authpmig").
const migrateLockKey int64 = 0x61757468706d6967

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d dialect) migrations() ([]migration, error) {
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: want NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the migrations the database has not seen yet. Open calls
// it; the `authpool migrate` command calls it alone. It is safe to run from
// several processes at once: PostgreSQL serialises them with an advisory
// lock, SQLite with its write lock (every transaction here begins
// IMMEDIATE). Then it gives the rows that lack them their identifier
// keys (identkey.go).
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrateUpTo(ctx, 0); err != nil {
		return err
	}
	return s.fillKeys(ctx)
}

// migrateUpTo applies the migrations up to version last (0: all). Tests
// use it to build a database as an older version left it.
func (s *Store) migrateUpTo(ctx context.Context, last int) error {
	ms, err := s.d.migrations()
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, m := range ms {
		if last > 0 && m.version > last {
			break
		}
		op := "migrate " + m.name
		err := s.inTx(ctx, op, func(tx *sql.Tx) error {
			if err := s.apply(ctx, tx, m); err != nil {
				return fmt.Errorf("sqlstore: %s: %w", op, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless schema_migrations already records it.
// The check happens under the lock, so the replica that waited sees the
// other's work and skips it.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, m migration) error {
	timeType := "INTEGER" // unix milliseconds, like every SQLite time here
	if s.d.name == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
			return err
		}
		timeType = "timestamptz"
	}
	// Created here rather than in 0001 so that the bookkeeping exists
	// before the first migration runs; under the lock, so that two
	// replicas cannot race on CREATE TABLE.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at `+timeType+` NOT NULL
	)`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.d.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, s.d.timeArg(s.now()))
	return err
}
