package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/authpool/authpool/internal/sqlstore"
)

// backupFlags declares backup's flags; backup and the help share it.
func backupFlags(fs *flag.FlagSet) (out, database *string, force *bool) {
	out = fs.String("o", "", "the backup file to write (required)")
	database = fs.String("database", "", "the database URL (default: AUTHPOOL_DATABASE_URL)")
	force = fs.Bool("force", false, "replace the backup file if it exists")
	return out, database, force
}

// backup copies a SQLite database into a file while the server may be
// running (sqlstore.BackupSQLite: VACUUM INTO, one consistent snapshot).
// PostgreSQL is backed up with pg_dump (docs/OPERATIONS.md).
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out, database, force := backupFlags(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: -o FILE is required (authpool backup -h shows its flags)")
	}
	url := *database
	if url == "" {
		url = getenv("AUTHPOOL_DATABASE_URL")
	}
	if url == "" {
		return errors.New("backup: no database: set AUTHPOOL_DATABASE_URL or -database")
	}
	start := time.Now()
	if err := sqlstore.BackupSQLite(ctx, url, *out, *force); err != nil {
		return err
	}
	size := int64(-1)
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes, %s); restore: stop the server, replace the database file with it (remove the old file's -wal and -shm), start\n",
		*out, size, time.Since(start).Round(time.Millisecond))
	return nil
}
