package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// together runs fn(0..n-1) in n goroutines released at the same moment, so
// that they contend, and returns their errors by index.
func together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testRaceCreateUser(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	const n = 16
	tests := []struct {
		field string
		user  func(i int) *userpool.User
		want  error
	}{
		{"email", func(i int) *userpool.User {
			// Differently cased spellings of one address.
			local := "race"
			if i%2 == 1 {
				local = strings.ToUpper(local)
			}
			return &userpool.User{Email: fmt.Sprintf("%s@Example.com", local)}
		}, userpool.ErrEmailTaken},
		{"username", func(int) *userpool.User {
			return &userpool.User{Profile: userpool.Profile{Username: "racer"}}
		}, userpool.ErrUsernameTaken},
		{"phone", func(int) *userpool.User { return &userpool.User{Phone: "+15550107"} }, userpool.ErrPhoneTaken},
	}
	for _, tc := range tests {
		errs := together(n, func(i int) error {
			u := tc.user(i)
			u.ID, u.PoolID, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("%s-%d", tc.field, i), p.ID, t0, t0
			return s.CreateUser(ctx(t), u)
		})
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			default:
				checkErr(t, fmt.Sprintf("same %s, creator %d", tc.field, i), err, tc.want)
			}
		}
		if wins != 1 {
			t.Errorf("%d concurrent creates with the same %s: %d succeeded, want exactly 1", n, tc.field, wins)
		}
	}
}

func testRaceEnsureDefaultPool(t *testing.T, s userpool.Store) {
	const n = 8
	pools := make([]*userpool.Pool, n)
	errs := together(n, func(i int) error {
		var err error
		pools[i], err = s.EnsureDefaultPool(ctx(t), &userpool.Pool{ID: fmt.Sprintf("d%d", i), Name: "Default", CreatedAt: t0})
		return err
	})
	for i, err := range errs {
		checkNoErr(t, fmt.Sprintf("EnsureDefaultPool %d", i), err)
	}
	for i, p := range pools {
		if p.ID != pools[0].ID || !p.IsDefault {
			t.Errorf("EnsureDefaultPool %d returned %+v, caller 0 got %+v", i, p, pools[0])
		}
	}
	checkDefaultPools(t, s, 1)
}

func testRaceAddSigningKey(t *testing.T, s userpool.Store) {
	const n = 8
	results := make([][]*userpool.SigningKey, n)
	errs := together(n, func(i int) error {
		var err error
		results[i], err = s.AddSigningKeyIfNone(ctx(t), &userpool.SigningKey{
			ID: fmt.Sprintf("k%d", i), Algorithm: "RS256", PrivatePEM: fmt.Appendf(nil, "pem %d", i), CreatedAt: t0,
		})
		return err
	})
	for i, err := range errs {
		checkNoErr(t, fmt.Sprintf("AddSigningKeyIfNone %d", i), err)
	}
	for i, keys := range results {
		if len(keys) != 1 || keys[0].ID != results[0][0].ID {
			t.Errorf("AddSigningKeyIfNone %d returned %d keys (first %v), want the one key caller 0 got", i, len(keys), keys)
		}
	}
	keys, err := s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	if len(keys) != 1 {
		t.Errorf("%d concurrent AddSigningKeyIfNone stored %d keys, want 1", n, len(keys))
	}
}

// testRaceRevokeSession revokes one session from several goroutines while
// others read it: exactly one revocation wins, and once it has returned no
// reader sees the session alive.
func testRaceRevokeSession(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "rita@example.com", "", "")
	newSession(t, s, u, "s1", t0.Add(time.Hour))
	now := t0.Add(time.Minute)

	stop := make(chan struct{})
	var (
		readers   sync.WaitGroup
		readersMu sync.Mutex
		readErrs  []error
	)
	for range 4 {
		readers.Go(func() {
			seenRevoked := false
			for {
				select {
				case <-stop:
					return
				default:
				}
				sess, err := s.GetSession(ctx(t), "s1")
				if err == nil && seenRevoked && sess.Alive(now) {
					err = errors.New("session alive again after being seen revoked")
				}
				if err != nil {
					readersMu.Lock()
					readErrs = append(readErrs, err)
					readersMu.Unlock()
					return
				}
				seenRevoked = seenRevoked || !sess.Alive(now)
			}
		})
	}

	errs := together(8, func(int) error { return s.RevokeSession(ctx(t), "s1", now) })
	// Every revocation has returned: from here on the session is revoked
	// for everyone.
	sess, err := s.GetSession(ctx(t), "s1")
	close(stop)
	readers.Wait()

	checkNoErr(t, "GetSession after revoke", err)
	if sess.Alive(now) || !sess.RevokedAt.Equal(now) {
		t.Errorf("after RevokeSession returned, GetSession shows %+v", sess)
	}
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, userpool.ErrSessionNotFound):
			t.Errorf("RevokeSession %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent RevokeSession calls succeeded, want exactly 1", wins)
	}
	for _, err := range readErrs {
		t.Errorf("GetSession during revocation: %v", err)
	}
}

// testRaceConcurrentLogins plays 32 logins of one user at once, each a
// read, a session insert and a read-modify-write of the user: none may fail
// (SQLite must not report "database is locked") and no increment of
// LoginsCount may be lost.
func testRaceConcurrentLogins(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "sam@example.com", "sam", "")
	const n = 32
	errs := together(n, func(i int) error {
		u, err := s.GetUserByEmail(ctx(t), p.ID, "sam@example.com")
		if err != nil {
			return fmt.Errorf("GetUserByEmail: %w", err)
		}
		login := t0.Add(time.Duration(i) * time.Millisecond)
		if err := s.CreateSession(ctx(t), &userpool.Session{
			ID: fmt.Sprintf("s%d", i), PoolID: p.ID, UserID: u.ID, CreatedAt: login, ExpiresAt: login.Add(time.Hour),
		}); err != nil {
			return fmt.Errorf("CreateSession: %w", err)
		}
		_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(u *userpool.User) error {
			u.LoginsCount++
			if login.After(u.LastLogin) {
				u.LastLogin = login
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("UpdateUser: %w", err)
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("login %d: %v", i, err)
		}
	}
	u, err := s.GetUser(ctx(t), p.ID, "u1")
	checkNoErr(t, "GetUser", err)
	if u.LoginsCount != n {
		t.Errorf("after %d concurrent logins LoginsCount = %d (lost updates)", n, u.LoginsCount)
	}
	if want := t0.Add((n - 1) * time.Millisecond); !u.LastLogin.Equal(want) {
		t.Errorf("LastLogin = %v, want %v", u.LastLogin, want)
	}
	revoked, err := s.RevokeUserSessions(ctx(t), p.ID, "u1", t0)
	checkNoErr(t, "RevokeUserSessions", err)
	if revoked != n {
		t.Errorf("%d logins left %d alive sessions", n, revoked)
	}
}
