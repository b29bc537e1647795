package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestBackupWhileWritingAndRestore: `authpool backup` copies the SQLite
// database of a running server while registrations are being written; a
// server started on the copy (the documented restore) has every account
// of the copy whole: they log in, a token issued before the backup
// verifies, and the administrator key still works. The command refuses to
// replace a file unless told to, and refuses PostgreSQL.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	getenv := withEnv(testEnv(dir), map[string]string{
		"AUTHPOOL_RATE_LIMIT_REGISTER": "off",
		"AUTHPOOL_RATE_LIMIT_LOGIN":    "off",
	})
	url, out, stop := startRunOutput(t, getenv)
	key := adminKey(t, out)
	c := client.NewAuthenticationClient(client.Options{AppHost: url})
	if _, err := c.RegisterByEmail(ctx, "before@example.com", "passw0rd!", nil, nil); err != nil {
		t.Fatal(err)
	}
	li, err := c.LoginByEmail(ctx, "before@example.com", "passw0rd!", nil)
	if err != nil {
		t.Fatal(err)
	}

	// Registrations go on during the backup.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		written int
	)
	stopWriting := make(chan struct{})
	wg.Go(func() {
		w := client.NewAuthenticationClient(client.Options{AppHost: url})
		for i := 0; i < 300; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			if _, err := w.RegisterByEmail(ctx, fmt.Sprintf("w%03d@example.com", i), "passw0rd!", nil, nil); err != nil {
				t.Errorf("registration during the backup: %v", err)
				return
			}
			mu.Lock()
			written++
			mu.Unlock()
		}
	})
	// Let some writes land before the backup starts.
	for {
		mu.Lock()
		n := written
		mu.Unlock()
		if n >= 5 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	backupFile := filepath.Join(t.TempDir(), "authpool-backup.db")
	var bout bytes.Buffer
	if err := run(ctx, []string{"backup", "-o", backupFile}, getenv, &bout, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	close(stopWriting)
	wg.Wait()
	if !strings.Contains(bout.String(), "backup written to "+backupFile) {
		t.Fatalf("backup output: %s", bout.String())
	}
	if fi, err := os.Stat(backupFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file's mode: %v %v (want 0600: it holds every secret of the database)", fi.Mode(), err)
	}

	// Refuses to replace the file unless told to.
	err = run(ctx, []string{"backup", "-o", backupFile}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second backup onto the file: %v", err)
	}
	if err := run(ctx, []string{"backup", "-o", backupFile + ".2"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"backup", "-force", "-o", backupFile + ".2"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("backup -force: %v", err)
	}
	err = run(ctx, []string{"backup", "-o", filepath.Join(t.TempDir(), "pg.db"), "-database", "postgres://u@127.0.0.1/db"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %v", err)
	}
	err = run(ctx, []string{"backup", "-o", filepath.Join(t.TempDir(), "x.db"), "-database", "sqlite:" + filepath.Join(t.TempDir(), "missing.db")}, getenv, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("a backup of a database file that does not exist succeeded")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Restore: a new server on the copy (moved into place as the
	// database file).
	rdir := t.TempDir()
	raw, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rdir, "authpool.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rurl, _ := startRun(t, withEnv(getenv, map[string]string{"AUTHPOOL_DATABASE_URL": "sqlite:" + filepath.Join(rdir, "authpool.db")}))
	rc := client.NewAuthenticationClient(client.Options{AppHost: rurl})
	st, err := rc.CheckLoginStatus(ctx, li.Token)
	if err != nil || !st.Status {
		t.Fatalf("a token issued before the backup, on the restored server: %+v %v", st, err)
	}
	if _, err := rc.LoginByEmail(ctx, "before@example.com", "passw0rd!", nil); err != nil {
		t.Fatalf("login on the restored server: %v", err)
	}
	var all []client.User
	for off := 0; ; off += 100 {
		page, err := mgmt(rurl, key).ListUsers(ctx, "default", client.ListUsersOptions{Offset: off, Limit: 100})
		if err != nil {
			t.Fatalf("the administrator key on the restored server: %v", err)
		}
		all = append(all, page.Users...)
		if len(page.Users) < 100 {
			break
		}
	}
	mu.Lock()
	total := written
	mu.Unlock()
	copied := 0
	for _, u := range all {
		if !strings.HasPrefix(u.Email, "w") {
			continue
		}
		copied++
		if _, err := rc.LoginByEmail(ctx, u.Email, "passw0rd!", nil); err != nil {
			t.Fatalf("%s, in the backup, cannot log in: %v", u.Email, err)
		}
	}
	if copied < 5 || copied > total {
		t.Fatalf("the backup holds %d of the %d registrations written around it (at least 5 were written before it)", copied, total)
	}
	t.Logf("backup taken with %d of %d concurrent registrations in it", copied, total)
}
