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

// testConsoleSessions: create, read, touch (never backwards), delete,
// purge of ended and idle sessions.
func testConsoleSessions(t *testing.T, s userpool.Store) {
	a := &userpool.ConsoleSession{IDHash: []byte("hash-a-0123456789012345678901234"), KeyID: "", KeyName: "admin",
		CreatedAt: t0, SeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	b := &userpool.ConsoleSession{IDHash: []byte("hash-b-0123456789012345678901234"), KeyID: "k1", KeyName: "ops", ReadOnly: true,
		CreatedAt: t0, SeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	checkNoErr(t, "CreateConsoleSession a", s.CreateConsoleSession(ctx(t), a))
	checkNoErr(t, "CreateConsoleSession b", s.CreateConsoleSession(ctx(t), b))
	got, err := s.GetConsoleSession(ctx(t), b.IDHash)
	checkNoErr(t, "GetConsoleSession", err)
	checkEqual(t, "session b", b, got)
	_, err = s.GetConsoleSession(ctx(t), []byte("unknown"))
	checkErr(t, "GetConsoleSession unknown", err, userpool.ErrNotFound)

	checkNoErr(t, "Touch", s.TouchConsoleSession(ctx(t), a.IDHash, t0.Add(30*time.Minute)))
	checkNoErr(t, "Touch earlier", s.TouchConsoleSession(ctx(t), a.IDHash, t0.Add(10*time.Minute)))
	got, err = s.GetConsoleSession(ctx(t), a.IDHash)
	checkNoErr(t, "GetConsoleSession a", err)
	if !got.SeenAt.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("SeenAt = %v, want the later touch %v", got.SeenAt, t0.Add(30*time.Minute))
	}

	// At t0+61m, idle since before t0+20m: b is idle (seen t0) and ended;
	// a was seen at t0+30m and lives.
	n, err := s.PurgeConsoleSessions(ctx(t), t0.Add(61*time.Minute), t0.Add(20*time.Minute))
	checkNoErr(t, "Purge", err)
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
	_, err = s.GetConsoleSession(ctx(t), b.IDHash)
	checkErr(t, "purged b", err, userpool.ErrNotFound)
	// The absolute end purges whatever the touches.
	n, err = s.PurgeConsoleSessions(ctx(t), t0.Add(12*time.Hour), t0)
	checkNoErr(t, "Purge at end", err)
	if n != 1 {
		t.Errorf("purged %d at the absolute end, want 1", n)
	}
	checkNoErr(t, "Create again", s.CreateConsoleSession(ctx(t), a))
	checkNoErr(t, "Delete", s.DeleteConsoleSession(ctx(t), a.IDHash))
	checkNoErr(t, "Delete again", s.DeleteConsoleSession(ctx(t), a.IDHash))
	_, err = s.GetConsoleSession(ctx(t), a.IDHash)
	checkErr(t, "deleted a", err, userpool.ErrNotFound)
}

// testNamedAdminKeys: names unique among live keys, revocation ends the
// key's console sessions (only its own) with its audit record, and a
// revoked name can be used again.
func testNamedAdminKeys(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	k1 := &userpool.NamedAdminKey{ID: "k1", Name: "ops", Hash: []byte("h1"), ReadOnly: true, CreatedAt: t0}
	k2 := &userpool.NamedAdminKey{ID: "k2", Name: "dev", Hash: []byte("h2"), CreatedAt: t0.Add(time.Millisecond)}
	checkNoErr(t, "create k1", s.CreateNamedAdminKey(ctx(t), k1))
	checkNoErr(t, "create k2", s.CreateNamedAdminKey(ctx(t), k2))
	err := s.CreateNamedAdminKey(ctx(t), &userpool.NamedAdminKey{ID: "k3", Name: "ops", Hash: []byte("h3"), CreatedAt: t0})
	if e := userpool.AsError(err); err == nil || e.Reason != "admin_key_name_taken" {
		t.Fatalf("duplicate name: %v, want admin_key_name_taken", err)
	}
	keys, err := s.NamedAdminKeys(ctx(t))
	checkNoErr(t, "NamedAdminKeys", err)
	checkEqual(t, "keys", []*userpool.NamedAdminKey{k1, k2}, keys)

	for i, id := range []string{"k1", "k2"} {
		checkNoErr(t, "session", s.CreateConsoleSession(ctx(t), &userpool.ConsoleSession{
			IDHash: []byte("session-of-" + id), KeyID: id, KeyName: id, CreatedAt: t0, SeenAt: t0, ExpiresAt: t0.Add(time.Hour + time.Duration(i)),
		}))
	}
	ev := &userpool.AuditEvent{PoolID: p.ID, Event: "admin.key.revoke", CreatedAt: t0}
	checkNoErr(t, "revoke k1", s.RevokeNamedAdminKey(ctx(t), "k1", t0.Add(time.Minute), ev))
	checkErr(t, "revoke k1 again", s.RevokeNamedAdminKey(ctx(t), "k1", t0.Add(time.Minute)), userpool.ErrNotFound)
	checkErr(t, "revoke unknown", s.RevokeNamedAdminKey(ctx(t), "nope", t0), userpool.ErrNotFound)
	_, err = s.GetConsoleSession(ctx(t), []byte("session-of-k1"))
	checkErr(t, "k1's session after revoke", err, userpool.ErrNotFound)
	_, err = s.GetConsoleSession(ctx(t), []byte("session-of-k2"))
	checkNoErr(t, "k2's session lives", err)
	evs, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: "admin.key.revoke"})
	checkNoErr(t, "ListAudit", err)
	if len(evs) != 1 {
		t.Errorf("revoke audited %d times, want 1", len(evs))
	}
	keys, err = s.NamedAdminKeys(ctx(t))
	checkNoErr(t, "NamedAdminKeys", err)
	if !keys[0].RevokedAt.Equal(t0.Add(time.Minute)) || !keys[1].RevokedAt.IsZero() {
		t.Errorf("revoked at: %v, %v", keys[0].RevokedAt, keys[1].RevokedAt)
	}
	checkNoErr(t, "reuse a revoked name", s.CreateNamedAdminKey(ctx(t), &userpool.NamedAdminKey{ID: "k4", Name: "ops", Hash: []byte("h4"), CreatedAt: t0}))
}

// testRaceNamedAdminKey: of concurrent creates of one name exactly one
// wins; the others are refused as taken, never an internal error.
func testRaceNamedAdminKey(t *testing.T, s userpool.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateNamedAdminKey(ctx(t), &userpool.NamedAdminKey{
				ID: fmt.Sprintf("k%d", i), Name: "same", Hash: fmt.Appendf(nil, "h%d", i), CreatedAt: t0,
			})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var e *userpool.Error
		switch {
		case err == nil:
			won++
		case errors.As(err, &e) && e.Reason == "admin_key_name_taken":
		default:
			t.Errorf("create: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates won, want 1", won)
	}
}

// testListUserPage: keyset paging newest first, prefix search on email,
// username (any case) and phone (with or without +), id match, filters,
// pools kept apart, LIKE wildcards taken literally.
func testListUserPage(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	specs := []struct{ email, username, phone string }{
		{"ann@example.com", "ann", "+15550001"},
		{"bob@example.com", "", "+15550002"},
		{"", "Carla_x", ""},
		{"dan%@example.com", "dan", ""},
		{"eve@other.org", "annette", "+44770000"},
	}
	for i, sp := range specs {
		u := &userpool.User{
			ID: fmt.Sprintf("u%d", i), PoolID: p.ID, Email: sp.email, Phone: sp.phone,
			Profile: userpool.Profile{Username: sp.username}, EmailVerified: sp.email != "",
			// Two users share a creation time: the id breaks the tie.
			CreatedAt: t0.Add(time.Duration(min(i, 3)) * time.Millisecond),
		}
		u.UpdatedAt = u.CreatedAt
		u.Blocked = i == 1
		checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), u))
	}
	newUser(t, s, other.ID, "o1", "ann@example.com", "ann", "")
	checkNoErr(t, "PutMFAFactor", s.PutMFAFactor(ctx(t), &userpool.MFAFactor{
		ID: "f1", PoolID: p.ID, UserID: "u2", Kind: "totp", Confirmed: true, CreatedAt: t0,
	}))

	ids := func(us []*userpool.User) string {
		var b strings.Builder
		for _, u := range us {
			b.WriteString(u.ID + " ")
		}
		return b.String()
	}
	list := func(q userpool.UserPage) string {
		t.Helper()
		q.PoolID = p.ID
		us, err := s.ListUserPage(ctx(t), q)
		checkNoErr(t, "ListUserPage", err)
		return ids(us)
	}
	// Newest first: u4 and u3 share a time, so u4 (the greater id) first.
	if got := list(userpool.UserPage{}); got != "u4 u3 u2 u1 u0 " {
		t.Errorf("all: %q", got)
	}
	// Keyset: after u3 (same time as u4) comes u2, never u4 again.
	if got := list(userpool.UserPage{Limit: 2}); got != "u4 u3 " {
		t.Errorf("page 1: %q", got)
	}
	u3 := t0.Add(3 * time.Millisecond)
	if got := list(userpool.UserPage{Limit: 2, AfterCreated: u3, AfterID: "u3"}); got != "u2 u1 " {
		t.Errorf("page 2: %q", got)
	}
	if got := list(userpool.UserPage{Limit: 2, AfterCreated: t0, AfterID: "u0"}); got != "" {
		t.Errorf("past the end: %q", got)
	}
	for _, tc := range []struct{ search, want string }{
		{"ann", "u4 u0 "},  // email ann@, username annette
		{"ANN@", "u0 "},    // any case
		{"carla_", "u2 "},  // "_" is no wildcard
		{"c%", ""},         // nor is "%"
		{"dan%", "u3 "},    // a literal % in an email
		{"+4477", "u4 "},   // phone with +
		{"1555", "u1 u0 "}, // and without
		{"u3", "u3 "},      // an id
		{"example", ""},    // a prefix, not a substring
		{"zzz", ""},        // nothing
		{"ann@example.com", "u0 "},
	} {
		if got := list(userpool.UserPage{Search: tc.search}); got != tc.want {
			t.Errorf("search %q: %q, want %q", tc.search, got, tc.want)
		}
	}
	if got := list(userpool.UserPage{Blocked: true}); got != "u1 " {
		t.Errorf("blocked: %q", got)
	}
	// u2 and u4... u2 has no email nor phone; u4 has an unverified phone.
	if got := list(userpool.UserPage{Unverified: true}); got != "u4 u1 u0 " {
		t.Errorf("unverified: %q", got)
	}
	if got := list(userpool.UserPage{HasMFA: true}); got != "u2 " {
		t.Errorf("has MFA: %q", got)
	}
	if got := list(userpool.UserPage{Search: "ann", HasMFA: true}); got != "" {
		t.Errorf("search with a filter: %q", got)
	}
}

// testPoolStats: users per day from their creation, sign-ins, failures
// and CAPTCHA demands from the audit log, per pool, within the window.
func testPoolStats(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	now := t0
	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	for i, d := range []int{0, 0, 1, 9} {
		u := &userpool.User{ID: fmt.Sprintf("u%d", i), PoolID: p.ID, Email: fmt.Sprintf("u%d@example.com", i), CreatedAt: day(d), UpdatedAt: day(d)}
		checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), u))
	}
	newUser(t, s, other.ID, "o1", "o@example.com", "", "")
	for _, e := range []struct {
		pool, event string
		d           int
	}{
		{p.ID, userpool.AuditLoginSuccess, 0}, {p.ID, userpool.AuditLoginSuccess, 0}, {p.ID, userpool.AuditLoginSuccess, 2},
		{p.ID, userpool.AuditLoginFailure, 1}, {p.ID, userpool.AuditCaptchaRequired, 1},
		{p.ID, userpool.AuditLoginSuccess, 30}, {other.ID, userpool.AuditLoginSuccess, 0},
	} {
		checkNoErr(t, "AppendAudit", s.AppendAudit(ctx(t), &userpool.AuditEvent{PoolID: e.pool, Event: e.event, CreatedAt: day(e.d)}))
	}
	st, err := s.PoolStats(ctx(t), p.ID, now, 3)
	checkNoErr(t, "PoolStats", err)
	want := &userpool.PoolStats{
		Users: 4, NewUsers: []int{0, 1, 2}, SignIns: []int{1, 0, 2}, FailedLogins: []int{0, 1, 0}, CaptchaDemands: []int{0, 1, 0},
	}
	checkEqual(t, "stats", want, st)
}

// testListUserIdentities: a user's identities, by provider and subject,
// and no other user's.
func testListUserIdentities(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	items := []*userpool.ImportItem{
		{User: &userpool.User{ID: "u1", Email: "a@example.com", CreatedAt: t0, UpdatedAt: t0}, ExternalID: "x1", Identities: []*userpool.Identity{
			{Provider: "google", Subject: "g1", Data: "{}", CreatedAt: t0}, {Provider: "apple", Subject: "a1", Data: `{"k":1}`, CreatedAt: t0},
		}},
		{User: &userpool.User{ID: "u2", Email: "b@example.com", CreatedAt: t0, UpdatedAt: t0}, ExternalID: "x2", Identities: []*userpool.Identity{
			{Provider: "google", Subject: "g2", Data: "{}", CreatedAt: t0},
		}},
	}
	checkNoErr(t, "ImportUsers", s.ImportUsers(ctx(t), p.ID, "test", items, false))
	ids, err := s.ListIdentities(ctx(t), p.ID, "u1")
	checkNoErr(t, "ListUserIdentities", err)
	checkEqual(t, "identities", []*userpool.Identity{items[0].Identities[1], items[0].Identities[0]}, ids)
	ids, err = s.ListIdentities(ctx(t), "other", "u1")
	checkNoErr(t, "ListUserIdentities other pool", err)
	if len(ids) != 0 {
		t.Errorf("another pool's identities: %+v", ids)
	}
}
