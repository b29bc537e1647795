package sqlstore

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// openAt opens a store on url with the migrations up to version last only:
// a database as an older version left it.
func openAt(t *testing.T, url string, last int) *Store {
	t.Helper()
	var (
		s   *Store
		err error
	)
	if urlScheme(url) == "sqlite" {
		s, err = openSQLite(url, nil)
	} else {
		s, err = openPostgres(url, nil)
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.migrateUpTo(t.Context(), last); err != nil {
		t.Fatalf("migrate up to %d: %v", last, err)
	}
	return s
}

// TestKeyCollisionsOnUpgrade: a database made before the identifier keys
// holds accounts whose identifiers now compare equal. Migrating keys the
// oldest of each group, leaves the others without a key (reported by
// KeyCollisions, not merged, still working), and nothing fails.
func TestKeyCollisionsOnUpgrade(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := openAt(t, url, 8)
			if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO pools (id, name, created_at) VALUES (?, ?, ?)"), "p1", "P1", s.d.timeArg(time.Unix(1, 0))); err != nil {
				t.Fatal(err)
			}
			// What the older version allowed: usernames differing in case
			// or width, and email addresses (stored lower-cased) differing
			// in width or normalisation.
			seed := []struct{ id, email, username string }{
				{"old-admin", "", "admin"},
				{"new-admin", "", "Admin"},
				{"wide-admin", "", "ａｄｍｉｎ"},
				{"old-bob", "bob@example.com", "bob"},
				{"wide-bob", "ｂｏｂ@example.com", ""},
				{"cafe-nfc", "café@example.com", "café"},
				{"cafe-nfd", "cafe\u0301@example.com", "cafe\u0301"},
				{"alone", "carol@example.com", "Carol"},
			}
			for i, r := range seed {
				at := s.d.timeArg(time.Unix(int64(100+i), 0))
				if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO users (pool_id, id, email, username, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
					"p1", r.id, nullString(r.email), nullString(r.username), "hash-"+r.id, at, at); err != nil {
					t.Fatalf("seed %s: %v", r.id, err)
				}
			}

			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			got, err := s.KeyCollisions(ctx)
			if err != nil {
				t.Fatalf("KeyCollisions: %v", err)
			}
			want := []KeyCollision{
				{"p1", "new-admin", "username", "old-admin"},
				{"p1", "wide-admin", "username", "old-admin"},
				{"p1", "wide-bob", "email", "old-bob"},
				{"p1", "cafe-nfd", "username", "cafe-nfc"},
				{"p1", "cafe-nfd", "email", "cafe-nfc"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("KeyCollisions =\n%v\nwant\n%v", got, want)
			}

			// Nothing merged: every account is there with its spelling and
			// its own password hash; the oldest holds the identifier.
			for _, r := range seed {
				u, err := s.GetUser(ctx, "p1", r.id)
				if err != nil || u.Username != r.username || u.Email != r.email || u.PasswordHash != "hash-"+r.id {
					t.Errorf("GetUser(%s) = %+v, %v; want it unchanged", r.id, u, err)
				}
			}
			for name, holder := range map[string]string{"ADMIN": "old-admin", "Ｃａｒｏｌ": "alone", "CAFÉ": "cafe-nfc"} {
				if u, err := s.GetUserByUsername(ctx, "p1", name); err != nil || u.ID != holder {
					t.Errorf("GetUserByUsername(%s) = %v, %v; want %s", name, u, err, holder)
				}
			}

			// A colliding account keeps working: its other updates succeed,
			// and it gets a key once it is renamed to a free name.
			if _, err := s.UpdateUser(ctx, "p1", "new-admin", func(u *userpool.User) error { u.LoginsCount++; return nil }); err != nil {
				t.Errorf("UpdateUser of a colliding account: %v", err)
			}
			if _, err := s.UpdateUser(ctx, "p1", "new-admin", func(u *userpool.User) error { u.Username = "ADMIN"; return nil }); !errors.Is(err, userpool.ErrUsernameTaken) {
				t.Errorf("renaming a colliding account to another spelling of the holder's name: %v, want ErrUsernameTaken", err)
			}
			if _, err := s.UpdateUser(ctx, "p1", "new-admin", func(u *userpool.User) error { u.Username = "admin2"; return nil }); err != nil {
				t.Fatalf("renaming a colliding account: %v", err)
			}
			if u, err := s.GetUserByUsername(ctx, "p1", "ADMIN2"); err != nil || u.ID != "new-admin" {
				t.Errorf("GetUserByUsername(ADMIN2) = %v, %v; want new-admin", u, err)
			}
			got, err = s.KeyCollisions(ctx)
			if err != nil || len(got) != len(want)-1 || got[0].UserID != "wide-admin" {
				t.Errorf("KeyCollisions after the rename = %v, %v; want the others", got, err)
			}

			// Opening again (every start migrates) changes nothing.
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
			if again, err := s.KeyCollisions(ctx); err != nil || !slices.Equal(again, got) {
				t.Errorf("KeyCollisions after migrating again = %v, %v; want %v", again, err, got)
			}
		})
	}
}

// TestUnkeyedRowsFound: a row an older version writes during a rolling
// upgrade (no key) is still found by its spelling until the next start
// keys it.
func TestUnkeyedRowsFound(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := open(t, url)
			if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO pools (id, name, created_at) VALUES (?, ?, ?)"), "p1", "P1", s.d.timeArg(time.Unix(1, 0))); err != nil {
				t.Fatal(err)
			}
			at := s.d.timeArg(time.Unix(100, 0))
			if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO users (pool_id, id, email, username, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"),
				"p1", "u1", "dan@example.com", "Dan", at, at); err != nil {
				t.Fatal(err)
			}
			if u, err := s.GetUserByUsername(ctx, "p1", "Dan"); err != nil || u.ID != "u1" {
				t.Errorf("GetUserByUsername(Dan) before keying = %v, %v", u, err)
			}
			if u, err := s.GetUserByEmail(ctx, "p1", "DAN@example.com"); err != nil || u.ID != "u1" {
				t.Errorf("GetUserByEmail(DAN@example.com) before keying = %v, %v", u, err)
			}
			if c, err := s.KeyCollisions(ctx); err != nil || len(c) != 2 || c[0].HolderID != "" {
				t.Errorf("KeyCollisions before keying = %v, %v; want u1's two, held by nobody", c, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if u, err := s.GetUserByUsername(ctx, "p1", "ｄａｎ"); err != nil || u.ID != "u1" {
				t.Errorf("GetUserByUsername(ｄａｎ) after keying = %v, %v", u, err)
			}
			if c, err := s.KeyCollisions(ctx); err != nil || len(c) != 0 {
				t.Errorf("KeyCollisions after keying = %v, %v; want none", c, err)
			}
		})
	}
}
