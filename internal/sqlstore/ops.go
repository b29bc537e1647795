package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Pools names the store's connection pools for their statistics
// (sql.DBStats): SQLite's writer and readers, or PostgreSQL's one pool.
func (s *Store) Pools() map[string]*sql.DB {
	if s.read == s.write {
		return map[string]*sql.DB{s.d.name: s.write}
	}
	return map[string]*sql.DB{s.d.name + "_write": s.write, s.d.name + "_read": s.read}
}

// Backlogs counts the webhook deliveries waiting (pending, due or not) and
// the queued messages due now: what the operator watches for a stuck
// outbox. Both are reads of indexed columns.
func (s *Store) Backlogs(ctx context.Context) (webhooks, messages int, err error) {
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'").Scan(&webhooks); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: count pending deliveries: %w", err)
	}
	messages, err = s.CountDueMessages(ctx, s.now())
	return webhooks, messages, err
}

// BackupSQLite copies the SQLite database of databaseURL into the file out
// with VACUUM INTO: one read transaction, so the copy is consistent (WAL
// lets the running server go on writing meanwhile), compacted, and a
// database on its own (no -wal file). It does not migrate or otherwise
// write the source. An existing out is replaced only with overwrite; the
// copy is written beside out under a temporary name, checked
// (quick_check) and then moved into place, so a failed backup never
// leaves a partial file under out's name.
func BackupSQLite(ctx context.Context, databaseURL, out string, overwrite bool) error {
	if s := urlScheme(databaseURL); s != "sqlite" && s != "file" {
		return errors.New("backup: only SQLite databases are backed up by authpool; for PostgreSQL use pg_dump (docs/OPERATIONS.md)")
	}
	name, _, err := sqliteName(databaseURL)
	if err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil && !overwrite {
		return fmt.Errorf("backup: %s exists (use -force to replace it)", out)
	}
	path := strings.TrimPrefix(name, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if _, err := os.Stat(path); err != nil {
		// The driver would create an empty database: refuse instead.
		return fmt.Errorf("backup: the database file: %w", err)
	}
	busy := "_pragma=busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", name+"?"+busy)
	if err != nil {
		return fmt.Errorf("backup: open: %w", err)
	}
	defer db.Close()
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpName)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	if err := quickCheck(ctx, tmpName); err != nil {
		return err
	}
	// The copy holds every secret the database holds: readable by the
	// owner only, whatever the umask.
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if overwrite {
		return os.Rename(tmpName, out)
	}
	// A hard link does not replace a file that appeared meanwhile.
	if err := os.Link(tmpName, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// quickCheck opens the copy read-only and runs SQLite's quick_check.
func quickCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup: check: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("backup: check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("backup: the copy fails SQLite's quick_check: %s", res)
	}
	return nil
}
