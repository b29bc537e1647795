package sqlstore

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// open opens a store on url and closes it when the test ends.
func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	for backend := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) userpool.Store {
				// A fresh database (file or schema) for every subtest.
				url := storetest.DatabaseURLs(t)[backend]
				if backend == "postgres" {
					// Subtests run in parallel, one pool each; keep their sum
					// under max_connections on machines with many cores.
					url += "&pool_max_conns=4"
				}
				return open(t, url)
			})
		})
	}
}

func TestOpenSQLiteURLForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	abs := filepath.Join(dir, "forms.db")
	for _, url := range []string{
		"sqlite:" + abs,
		"sqlite://" + abs,
		"file:" + abs + "?mode=rwc",
		"sqlite:" + abs + "?_pragma=cache_size(-4000)",
	} {
		s := open(t, url)
		if _, err := s.EnsureDefaultPool(t.Context(), &userpool.Pool{ID: "default", Name: "Default"}); err != nil {
			t.Errorf("%s: EnsureDefaultPool: %v", url, err)
		}
	}
	// Every form opened the same file, and reopening it migrated nothing
	// twice.
	s := open(t, "sqlite:"+abs)
	pools, err := s.ListPools(t.Context())
	if err != nil || len(pools) != 1 {
		t.Errorf("ListPools after reopening = %d pools, %v; want 1", len(pools), err)
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"mysql://root@localhost/db",
		"sqlite:",
		"sqlite::memory:",
		"file::memory:?cache=shared",
		"sqlite:" + filepath.Join(t.TempDir(), "x.db") + "?mode=memory",
		"",
	} {
		s, err := Open(t.Context(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", url)
		}
	}
	// A password in a bad URL must not end up in the error (and so in a log).
	_, err := Open(t.Context(), "postgres://u:s3cret@[::1/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open with a malformed postgres URL: %v", err)
	}
}

// TestConcurrentOpen starts several replicas on one empty database at once:
// migrations must apply exactly once and every Open must succeed.
func TestConcurrentOpen(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			const n = 4
			stores := make([]*Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open %d: %v", i, err)
					continue
				}
				t.Cleanup(func() { stores[i].Close() })
			}
			if t.Failed() {
				return
			}
			ms, err := stores[0].d.migrations()
			if err != nil {
				t.Fatal(err)
			}
			var applied int
			if err := stores[0].read.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
				t.Fatal(err)
			}
			if applied != len(ms) {
				t.Errorf("schema_migrations has %d rows, want %d", applied, len(ms))
			}
		})
	}
}

// TestStoreSpecifics covers what this store promises beyond userpool.Store.
func TestStoreSpecifics(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			s := open(t, url)
			clock := time.Date(2030, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))
			s.now = func() time.Time { return clock }
			ctx := t.Context()

			p := &userpool.Pool{Name: "P"}
			if err := s.CreatePool(ctx, p); err != nil {
				t.Fatal(err)
			}
			if p.ID == "" || !p.CreatedAt.Equal(s.d.norm(clock)) {
				t.Errorf("CreatePool did not fill in ID and CreatedAt: %+v", p)
			}

			// Zero times are stamped, times are truncated to what the
			// backend keeps, and u holds what a read returns.
			u := &userpool.User{PoolID: p.ID, Email: "z@example.com", LastLogin: clock.Add(time.Nanosecond)}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if u.ID == "" || !u.CreatedAt.Equal(s.d.norm(clock)) || !u.UpdatedAt.Equal(u.CreatedAt) {
				t.Errorf("CreateUser did not fill in ID, CreatedAt, UpdatedAt: %+v", u)
			}
			got, err := s.GetUser(ctx, p.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.LastLogin.Equal(u.LastLogin) || got.LastLogin.Location() != time.UTC {
				t.Errorf("LastLogin: stored %v, read %v (want equal, in UTC)", u.LastLogin, got.LastLogin)
			}

			// UpdateUser stamps UpdatedAt unless fn set it.
			clock = clock.Add(time.Hour)
			got, err = s.UpdateUser(ctx, p.ID, u.ID, func(u *userpool.User) error { u.Nickname = "n"; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !got.UpdatedAt.Equal(s.d.norm(clock)) {
				t.Errorf("UpdateUser: UpdatedAt = %v, want %v", got.UpdatedAt, s.d.norm(clock))
			}
			// Zeroed NOT NULL times are restored rather than failing the write.
			clock = clock.Add(time.Hour)
			got, err = s.UpdateUser(ctx, p.ID, u.ID, func(u *userpool.User) error {
				u.CreatedAt, u.UpdatedAt = time.Time{}, time.Time{}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(s.d.norm(clock)) {
				t.Errorf("UpdateUser zeroing times: CreatedAt %v, UpdatedAt %v; want %v, %v",
					got.CreatedAt, got.UpdatedAt, u.CreatedAt, s.d.norm(clock))
			}
			_, err = s.UpdateUser(ctx, p.ID, u.ID, func(u *userpool.User) error { u.ID = "other"; return nil })
			if err == nil {
				t.Error("UpdateUser let fn change the ID")
			}

			// Rows must belong to existing parents.
			err = s.CreateUser(ctx, &userpool.User{PoolID: "nope"})
			if !errors.Is(err, userpool.ErrPoolNotFound) {
				t.Errorf("CreateUser in a missing pool: %v, want ErrPoolNotFound", err)
			}
			err = s.CreateSession(ctx, &userpool.Session{PoolID: p.ID, UserID: "nope", ExpiresAt: clock})
			if !errors.Is(err, userpool.ErrUserNotFound) {
				t.Errorf("CreateSession of a missing user: %v, want ErrUserNotFound", err)
			}

			// Deleting a user ends its sessions.
			sess := &userpool.Session{PoolID: p.ID, UserID: u.ID, ExpiresAt: clock.Add(time.Hour)}
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteUser(ctx, p.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetSession(ctx, sess.ID); !errors.Is(err, userpool.ErrSessionNotFound) {
				t.Errorf("GetSession of a deleted user's session: %v, want ErrSessionNotFound", err)
			}

			// A second default pool is refused by the database.
			if _, err := s.EnsureDefaultPool(ctx, &userpool.Pool{ID: "d", Name: "D"}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreatePool(ctx, &userpool.Pool{ID: "d2", IsDefault: true}); err == nil {
				t.Error("CreatePool stored a second default pool")
			}
		})
	}
}

// TestSQLiteReadPoolIsReadOnly guards the split that keeps SQLite writers
// from contending: a write sent to the read pool must fail, not queue for
// the lock.
func TestSQLiteReadPoolIsReadOnly(t *testing.T) {
	t.Parallel()
	s := open(t, storetest.DatabaseURLs(t)["sqlite"])
	_, err := s.read.ExecContext(t.Context(), "INSERT INTO pools (id, name, is_default, created_at) VALUES ('x', 'x', 0, 0)")
	if err == nil {
		t.Error("insert through the read pool succeeded")
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    dialect
		want string
	}{
		{sqliteDialect, "a = ? AND b = ?"},
		{postgresDialect, "a = $1 AND b = $2"},
	} {
		if got := tc.d.q("a = ? AND b = ?"); got != tc.want {
			t.Errorf("%s: q = %q, want %q", tc.d.name, got, tc.want)
		}
	}
	// Every column of the update statement has a placeholder, plus the
	// primary key and the two identifier keys' CASE expressions.
	if got, want := strings.Count(userUpdate, "?"), len(userColumns)+len(updateKeyArgs(&userpool.User{})); got != want {
		t.Errorf("userUpdate has %d placeholders, want %d", got, want)
	}
	if got, want := len(sqliteDialect.userArgs(&userpool.User{})), len(userColumns); got != want {
		t.Errorf("userArgs gives %d values for %d columns", got, want)
	}
	if got, want := strings.Count(userInsert, "?"), len(userColumns)+len(keyArgs(&userpool.User{})); got != want {
		t.Errorf("userInsert has %d placeholders, want %d", got, want)
	}
	if got, want := len(userDest(&userpool.User{})), len(userColumns); got != want {
		t.Errorf("userDest gives %d destinations for %d columns", got, want)
	}
}

// TestColumnsHoldTheirFields checks that every field lands in the column of
// its name. A round trip cannot see two columns swapped consistently in
// userColumns, but SQL reports and later migrations would.
func TestColumnsHoldTheirFields(t *testing.T) {
	t.Parallel()
	s := open(t, storetest.DatabaseURLs(t)["sqlite"])
	ctx := t.Context()
	if err := s.CreatePool(ctx, &userpool.Pool{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	// Each string field holds its column's name; each time a distinct
	// instant; each boolean gets a user of its own.
	u := &userpool.User{
		ID: "u", PoolID: "p", Email: "email", Phone: "phone", PasswordHash: "password_hash",
		LoginsCount: 7,
		LastLogin:   time.UnixMilli(1), SignedUp: time.UnixMilli(2), CreatedAt: time.UnixMilli(3), UpdatedAt: time.UnixMilli(4),
	}
	pv := reflect.ValueOf(&u.Profile).Elem()
	for i := range pv.NumField() {
		pv.Field(i).SetString(snake(pv.Type().Field(i).Name))
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"pool_id": "p", "id": "u", "logins_count": int64(7),
		"last_login": int64(1), "signed_up": int64(2), "created_at": int64(3), "updated_at": int64(4),
		"email_verified": int64(0), "phone_verified": int64(0), "blocked": int64(0),
	}
	for _, c := range userColumns {
		if _, ok := want[c]; !ok {
			want[c] = c
		}
	}
	for c, w := range want {
		var got any
		if err := s.read.QueryRowContext(ctx, "SELECT "+c+" FROM users WHERE id = 'u'").Scan(&got); err != nil {
			t.Fatalf("column %s: %v", c, err)
		}
		if got != w {
			t.Errorf("column %s holds %#v, want %#v", c, got, w)
		}
	}

	for col, set := range map[string]func(*userpool.User){
		"email_verified": func(u *userpool.User) { u.EmailVerified = true },
		"phone_verified": func(u *userpool.User) { u.PhoneVerified = true },
		"blocked":        func(u *userpool.User) { u.Blocked = true },
	} {
		u := &userpool.User{ID: col, PoolID: "p"}
		set(u)
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var sum int
		q := "SELECT email_verified + 2*phone_verified + 4*blocked FROM users WHERE id = ?"
		if err := s.read.QueryRowContext(ctx, q, col).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"email_verified": 1, "phone_verified": 2, "blocked": 4}[col]; sum != want {
			t.Errorf("setting %s set the bit pattern %03b, want %03b", col, sum, want)
		}
	}
}

// snake turns a Go field name into its column name: LastIP -> last_ip.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 && unicode.IsLower(rune(name[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// TestSQLiteTwoStoresOneFile plays two processes sharing one SQLite file:
// their writers contend through SQLite's lock, which BEGIN IMMEDIATE and
// busy_timeout must turn into waiting rather than "database is locked".
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	url := storetest.DatabaseURLs(t)["sqlite"]
	stores := []*Store{open(t, url), open(t, url)}
	ctx := t.Context()
	if err := stores[0].CreatePool(ctx, &userpool.Pool{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].CreateUser(ctx, &userpool.User{ID: "u", PoolID: "p"}); err != nil {
		t.Fatal(err)
	}
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s := stores[i%2]
			if err := s.CreateSession(ctx, &userpool.Session{PoolID: "p", UserID: "u", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = s.UpdateUser(ctx, "p", "u", func(u *userpool.User) error { u.LoginsCount++; return nil })
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("login %d: %v", i, err)
		}
	}
	u, err := stores[1].GetUser(ctx, "p", "u")
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginsCount != n {
		t.Errorf("LoginsCount = %d, want %d", u.LoginsCount, n)
	}
}
