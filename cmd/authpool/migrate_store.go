package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/authpool/authpool/internal/sqlstore"
)

// migrateStoreFlags are the flags of migrate-store.
type migrateStoreFlags struct {
	from, to     string
	intoNonEmpty bool
}

func (f *migrateStoreFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "source database URL (sqlite:FILE or postgres://...); stop its servers first")
	fs.StringVar(&f.to, "to", "", "target database URL; must be empty")
	fs.BoolVar(&f.intoNonEmpty, "into-nonempty", false, "write into a target that already holds rows")
	fs.BoolVar(&f.intoNonEmpty, "force", false, "same as -into-nonempty")
}

// migrateStore copies one store into another (docs/MIGRATION.md): the way
// from one SQLite machine to PostgreSQL and replicas.
func migrateStore(ctx context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	var f migrateStoreFlags
	fs := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	f.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if f.from == "" || f.to == "" {
		return errors.New("migrate-store: give -from and -to (database URLs)")
	}
	if f.from == f.to {
		return errors.New("migrate-store: -from and -to name the same database")
	}
	// Opening applies this version's migrations to both, so their tables
	// agree.
	src, err := sqlstore.Open(ctx, f.from)
	if err != nil {
		return fmt.Errorf("migrate-store: source: %w", err)
	}
	defer src.Close()
	dst, err := sqlstore.Open(ctx, f.to)
	if err != nil {
		return fmt.Errorf("migrate-store: target: %w", err)
	}
	defer dst.Close()
	start := time.Now()
	tables, err := sqlstore.Copy(ctx, src, dst, sqlstore.CopyOptions{IntoNonEmpty: f.intoNonEmpty, Progress: stdout})
	if err != nil {
		return fmt.Errorf("migrate-store: %w (nothing was written)", err)
	}
	var rows int64
	for _, t := range tables {
		rows += t.Rows
	}
	fmt.Fprintf(stdout, "copied %d tables, %d rows in %.1fs; row counts and checksums match\n", len(tables), rows, time.Since(start).Seconds())
	return nil
}
