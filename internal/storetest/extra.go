package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testPoolSettings(t *testing.T, s userpool.Store) {
	p := &userpool.Pool{ID: "ps", Name: "settings", CreatedAt: t0, Settings: userpool.DefaultPoolSettings()}
	p.Settings.VerifyOldEmail = false
	p.Settings.TokenTTL = 90 * time.Minute
	checkNoErr(t, "CreatePool", s.CreatePool(ctx(t), p))
	got, err := s.GetPool(ctx(t), "ps")
	checkNoErr(t, "GetPool", err)
	checkEqual(t, "settings after create", p.Settings, got.Settings)

	up, err := s.UpdatePool(ctx(t), "ps", func(p *userpool.Pool) error {
		p.Name = "renamed"
		p.Settings.VerifyOldEmail = true
		p.Settings.LoginFailureThreshold = 7
		return nil
	})
	checkNoErr(t, "UpdatePool", err)
	got, err = s.GetPool(ctx(t), "ps")
	checkNoErr(t, "GetPool", err)
	checkEqual(t, "pool after update", up, got)
	if !got.Settings.VerifyOldEmail || got.Settings.LoginFailureThreshold != 7 || got.Name != "renamed" {
		t.Fatalf("update not stored: %+v", got)
	}

	_, err = s.UpdatePool(ctx(t), "ps", func(p *userpool.Pool) error {
		p.Settings.VerifyOldEmail = false
		return userpool.ErrNotFound
	})
	checkErr(t, "UpdatePool fn error", err, userpool.ErrNotFound)
	got, _ = s.GetPool(ctx(t), "ps")
	if !got.Settings.VerifyOldEmail {
		t.Fatal("aborted UpdatePool changed the settings")
	}
	_, err = s.UpdatePool(ctx(t), "missing", func(*userpool.Pool) error { return nil })
	checkErr(t, "UpdatePool missing", err, userpool.ErrPoolNotFound)
}

func testCounters(t *testing.T, s userpool.Store) {
	const key = "login-fail:ip:192.0.2.1"
	for i := int64(1); i <= 3; i++ {
		n, end, err := s.IncrCounter(ctx(t), key, time.Minute, t0.Add(time.Duration(i)*time.Second))
		checkNoErr(t, "IncrCounter", err)
		if n != i || !end.Equal(t0.Add(time.Second+time.Minute)) {
			t.Fatalf("hit %d: count %d window end %v", i, n, end)
		}
	}
	n, end, err := s.GetCounter(ctx(t), key, t0.Add(30*time.Second))
	checkNoErr(t, "GetCounter", err)
	if n != 3 || !end.Equal(t0.Add(time.Second+time.Minute)) {
		t.Fatalf("GetCounter: %d %v", n, end)
	}
	// The window ends: the counter reads 0 and the next hit starts anew.
	n, _, _ = s.GetCounter(ctx(t), key, t0.Add(2*time.Minute))
	if n != 0 {
		t.Fatalf("ended window still counts %d", n)
	}
	n, end, err = s.IncrCounter(ctx(t), key, time.Minute, t0.Add(2*time.Minute))
	checkNoErr(t, "IncrCounter", err)
	if n != 1 || !end.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("new window: %d %v", n, end)
	}
	checkNoErr(t, "ResetCounter", s.ResetCounter(ctx(t), key))
	checkNoErr(t, "ResetCounter missing", s.ResetCounter(ctx(t), key))
	if n, _, _ := s.GetCounter(ctx(t), key, t0.Add(2*time.Minute)); n != 0 {
		t.Fatalf("reset counter reads %d", n)
	}

	// Purge deletes ended windows only.
	_, _, _ = s.IncrCounter(ctx(t), "old", time.Second, t0)
	_, _, _ = s.IncrCounter(ctx(t), "live", time.Hour, t0)
	purged, err := s.PurgeExpired(ctx(t), t0.Add(time.Minute))
	checkNoErr(t, "PurgeExpired", err)
	if purged < 1 {
		t.Fatalf("purged %d rows, want at least 1", purged)
	}
	if n, _, _ := s.GetCounter(ctx(t), "live", t0.Add(time.Minute)); n != 1 {
		t.Fatal("purge removed a live counter")
	}
}

func testAddCounter(t *testing.T, s userpool.Store) {
	n, end, err := s.AddCounter(ctx(t), "batch", 5, time.Minute, t0)
	checkNoErr(t, "AddCounter", err)
	if n != 5 || !end.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first add: %d %v", n, end)
	}
	if n, _, _ = s.AddCounter(ctx(t), "batch", 3, time.Minute, t0.Add(time.Second)); n != 8 {
		t.Fatalf("second add: %d, want 8", n)
	}
	if n, _, _ = s.IncrCounter(ctx(t), "batch", time.Minute, t0.Add(2*time.Second)); n != 9 {
		t.Fatalf("incr after adds: %d, want 9", n)
	}
	// A new window starts at n, not at 1.
	if n, end, _ = s.AddCounter(ctx(t), "batch", 4, time.Minute, t0.Add(time.Hour)); n != 4 || !end.Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("add in a new window: %d %v", n, end)
	}
	if _, _, err := s.AddCounter(ctx(t), "batch", 0, time.Minute, t0); err == nil {
		t.Fatal("AddCounter accepted n = 0")
	}
}

func testRaceCounter(t *testing.T, s userpool.Store) {
	const n = 32
	errs := together(n, func(int) error {
		_, _, err := s.IncrCounter(ctx(t), "race", time.Hour, t0)
		return err
	})
	for _, err := range errs {
		checkNoErr(t, "IncrCounter", err)
	}
	got, _, err := s.GetCounter(ctx(t), "race", t0)
	checkNoErr(t, "GetCounter", err)
	if got != n {
		t.Fatalf("%d concurrent hits counted as %d", n, got)
	}
}

func testAudit(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pa")
	other := newPool(t, s, "pb")
	events := []*userpool.AuditEvent{
		{PoolID: p.ID, UserID: "u1", Event: "login.success", ClientIP: "192.0.2.1", CreatedAt: t0},
		{PoolID: p.ID, UserID: "u1", Event: "login.failure", ClientIP: "192.0.2.1", Detail: map[string]string{"reason": "wrong_password"}, CreatedAt: t0.Add(time.Minute)},
		{PoolID: p.ID, UserID: "u2", Event: "login.success", CreatedAt: t0.Add(2 * time.Minute)},
		{PoolID: other.ID, UserID: "u1", Event: "login.success", CreatedAt: t0.Add(3 * time.Minute)},
	}
	for _, e := range events {
		checkNoErr(t, "AppendAudit", s.AppendAudit(ctx(t), e))
	}
	all, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID})
	checkNoErr(t, "ListAudit", err)
	if len(all) != 3 || all[0].UserID != "u2" || all[2].Event != "login.success" {
		t.Fatalf("ListAudit pool: %d events, newest first expected", len(all))
	}
	checkEqual(t, "audit event", events[1], all[1])
	byUser, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, UserID: "u1"})
	byEvent, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: "login.success"})
	byTime, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)})
	limited, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Limit: 1})
	if len(byUser) != 2 || len(byEvent) != 2 || len(byTime) != 1 || byTime[0].Event != "login.failure" || len(limited) != 1 {
		t.Fatalf("filters: user %d event %d time %d limit %d", len(byUser), len(byEvent), len(byTime), len(limited))
	}
	checkErr(t, "AppendAudit unknown pool", s.AppendAudit(ctx(t), &userpool.AuditEvent{PoolID: "nope", Event: "x", CreatedAt: t0}), userpool.ErrPoolNotFound)
}

// testSessionAndResetRecords: a session and a counter reset given as
// records of a user update are stored with it, and not at all when the
// update fails.
func testSessionAndResetRecords(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pr")
	u := newUser(t, s, p.ID, "u1", "rec@example.com", "", "")
	_, _, err := s.IncrCounter(ctx(t), "lf:acct:x", time.Hour, t0)
	checkNoErr(t, "IncrCounter", err)

	failed := &userpool.Session{ID: "s-failed", PoolID: p.ID, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { return userpool.ErrNotFound },
		failed, &userpool.CounterReset{Key: "lf:acct:x"})
	checkErr(t, "UpdateUser with a failing fn", err, userpool.ErrNotFound)
	_, err = s.GetSession(ctx(t), "s-failed")
	checkErr(t, "session of a failed update", err, userpool.ErrSessionNotFound)
	if n, _, _ := s.GetCounter(ctx(t), "lf:acct:x", t0); n != 1 {
		t.Fatalf("a failed update reset the counter (%d)", n)
	}

	ok := &userpool.Session{ID: "s-ok", PoolID: p.ID, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.LoginsCount++; return nil },
		ok, &userpool.CounterReset{Key: "lf:acct:x"})
	checkNoErr(t, "UpdateUser with records", err)
	got, err := s.GetSession(ctx(t), "s-ok")
	checkNoErr(t, "GetSession", err)
	if got.UserID != u.ID || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("stored session: %+v", got)
	}
	if n, _, _ := s.GetCounter(ctx(t), "lf:acct:x", t0); n != 0 {
		t.Fatalf("counter not reset with the update (%d)", n)
	}
}

// testSessionUser: GetSessionUser returns what GetSession, GetUser and
// (with values) ListUserValues return, for alive and ended sessions, users
// with and without values; unknown ids are ErrSessionNotFound.
func testSessionUser(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "psu")
	u := newUser(t, s, p.ID, "u1", "su@example.com", "", "")
	w := newUser(t, s, p.ID, "u2", "sw@example.com", "", "")
	newField(t, s, p.ID, "bio", userpool.TypeString)
	newField(t, s, p.ID, "age", userpool.TypeNumber)
	checkNoErr(t, "SetUserValues", s.SetUserValues(ctx(t), p.ID, u.ID, []*userpool.UserValue{
		{Key: "bio", DataType: userpool.TypeString, Value: `"hi"`, UpdatedAt: t0},
		{Key: "age", DataType: userpool.TypeNumber, Value: "15", UpdatedAt: t0.Add(time.Second)},
	}))
	newSession(t, s, u, "su-alive", t0.Add(time.Hour))
	newSession(t, s, w, "sw-alive", t0.Add(time.Hour))
	newSession(t, s, u, "su-revoked", t0.Add(time.Hour))
	checkNoErr(t, "RevokeSession", s.RevokeSession(ctx(t), "su-revoked", t0))

	for _, id := range []string{"su-alive", "sw-alive", "su-revoked"} {
		wantSess, err := s.GetSession(ctx(t), id)
		checkNoErr(t, "GetSession", err)
		wantUser, err := s.GetUser(ctx(t), p.ID, wantSess.UserID)
		checkNoErr(t, "GetUser", err)
		wantVals, err := s.ListUserValues(ctx(t), p.ID, wantSess.UserID)
		checkNoErr(t, "ListUserValues", err)
		for _, values := range []bool{false, true} {
			sess, user, vals, err := s.GetSessionUser(ctx(t), id, values)
			checkNoErr(t, "GetSessionUser "+id, err)
			checkEqual(t, "session of "+id, wantSess, sess)
			checkEqual(t, "user of "+id, wantUser, user)
			if values {
				checkEqual(t, "values of "+id, wantVals, vals)
			} else if vals != nil {
				t.Fatalf("GetSessionUser without values returned values: %+v", vals)
			}
		}
	}
	if vals, _ := s.ListUserValues(ctx(t), p.ID, u.ID); len(vals) != 2 {
		t.Fatalf("the user's values: %+v", vals)
	}
	// (Session ids come from signed tokens; these are still never a match.)
	for _, id := range []string{"nope", "", "su-alive' OR '1'='1", "su-%", strings.Repeat("x", 10000)} {
		for _, values := range []bool{false, true} {
			_, _, _, err := s.GetSessionUser(ctx(t), id, values)
			checkErr(t, fmt.Sprintf("GetSessionUser(%.20q)", id), err, userpool.ErrSessionNotFound)
		}
	}
}

// testGetCounters: GetCounters reads several counters in one call, in the
// order asked, with 0 for missing and ended ones, as GetCounter does.
func testGetCounters(t *testing.T, s userpool.Store) {
	_, _, err := s.AddCounter(ctx(t), "gc:a", 5, time.Minute, t0)
	checkNoErr(t, "AddCounter a", err)
	_, _, err = s.AddCounter(ctx(t), "gc:b", 2, time.Second, t0)
	checkNoErr(t, "AddCounter b", err)
	_, _, err = s.IncrCounter(ctx(t), "gc:c", time.Hour, t0)
	checkNoErr(t, "IncrCounter c", err)
	at := t0.Add(10 * time.Second) // b has ended
	keys := []string{"gc:b", "gc:missing", "gc:c", "gc:a", "gc:a", "gc:%", "gc:a' OR '1'='1"}
	got, err := s.GetCounters(ctx(t), keys, at)
	checkNoErr(t, "GetCounters", err)
	want := make([]int64, len(keys))
	for i, k := range keys {
		want[i], _, err = s.GetCounter(ctx(t), k, at)
		checkNoErr(t, "GetCounter", err)
	}
	checkEqual(t, "counts", want, got)
	checkEqual(t, "counts", []int64{0, 0, 1, 5, 5, 0, 0}, got)
	got, err = s.GetCounters(ctx(t), nil, at)
	checkNoErr(t, "GetCounters of none", err)
	if len(got) != 0 {
		t.Fatalf("GetCounters of none: %v", got)
	}
}
