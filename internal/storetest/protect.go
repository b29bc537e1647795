package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func newCaptcha(t *testing.T, s userpool.Store, poolID, id string, expires time.Time) *userpool.Captcha {
	t.Helper()
	c := &userpool.Captcha{ID: id, PoolID: poolID, AnswerHash: "hash-of-" + id, CreatedAt: t0, ExpiresAt: expires}
	checkNoErr(t, "CreateCaptcha "+id, s.CreateCaptcha(ctx(t), c))
	return c
}

func testCaptchas(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	want := newCaptcha(t, s, p.ID, "c1", t0.Add(5*time.Minute))

	// Another pool cannot use it, and the failed take leaves it in place.
	_, err := s.TakeCaptcha(ctx(t), other.ID, "c1", t0)
	checkErr(t, "TakeCaptcha other pool", err, userpool.ErrNotFound)
	got, err := s.TakeCaptcha(ctx(t), p.ID, "c1", t0.Add(time.Minute))
	checkNoErr(t, "TakeCaptcha", err)
	checkEqual(t, "taken captcha", want, got)
	_, err = s.TakeCaptcha(ctx(t), p.ID, "c1", t0.Add(time.Minute))
	checkErr(t, "TakeCaptcha twice", err, userpool.ErrNotFound)
	_, err = s.TakeCaptcha(ctx(t), p.ID, "missing", t0)
	checkErr(t, "TakeCaptcha missing", err, userpool.ErrNotFound)

	// Expiry is exclusive: at ExpiresAt the CAPTCHA is gone.
	newCaptcha(t, s, p.ID, "c2", t0.Add(time.Minute))
	_, err = s.TakeCaptcha(ctx(t), p.ID, "c2", t0.Add(time.Minute))
	checkErr(t, "TakeCaptcha expired", err, userpool.ErrNotFound)

	// PurgeExpired removes expired CAPTCHAs and keeps live ones.
	newCaptcha(t, s, p.ID, "live", t0.Add(time.Hour))
	n, err := s.PurgeExpired(ctx(t), t0.Add(2*time.Minute))
	checkNoErr(t, "PurgeExpired", err)
	if n != 1 {
		t.Fatalf("PurgeExpired deleted %d rows, want 1 (the expired CAPTCHA)", n)
	}
	if _, err := s.TakeCaptcha(ctx(t), p.ID, "live", t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("purge removed a live CAPTCHA: %v", err)
	}

	err = s.CreateCaptcha(ctx(t), &userpool.Captcha{ID: "c3", PoolID: "nope", AnswerHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)})
	checkErr(t, "CreateCaptcha unknown pool", err, userpool.ErrPoolNotFound)
	newCaptcha(t, s, p.ID, "dup", t0.Add(time.Minute))
	if err := s.CreateCaptcha(ctx(t), &userpool.Captcha{ID: "dup", PoolID: p.ID, AnswerHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err == nil {
		t.Fatal("CreateCaptcha accepted a duplicate id")
	}
}

func testRaceTakeCaptcha(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newCaptcha(t, s, p.ID, "once", t0.Add(time.Hour))
	const n = 16
	errs := together(n, func(int) error {
		_, err := s.TakeCaptcha(ctx(t), p.ID, "once", t0)
		return err
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		checkErr(t, "concurrent TakeCaptcha", err, userpool.ErrNotFound)
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent takes got the CAPTCHA, want exactly 1", wins, n)
	}
}

// testAuditWithChanges checks that events given to a write are stored
// exactly when the write is.
func testAuditWithChanges(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	ev := func(name string) *userpool.AuditEvent {
		return &userpool.AuditEvent{PoolID: p.ID, UserID: "u1", Event: name, ClientIP: "192.0.2.9", Detail: map[string]string{"k": "v"}, CreatedAt: t0}
	}
	count := func(name string) int {
		t.Helper()
		got, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: name})
		checkNoErr(t, "ListAudit", err)
		return len(got)
	}

	u := &userpool.User{ID: "u1", PoolID: p.ID, Email: "audit@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateUser with audit", s.CreateUser(ctx(t), u, ev("create.ok")))
	dup := &userpool.User{ID: "u2", PoolID: p.ID, Email: "audit@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkErr(t, "CreateUser duplicate", s.CreateUser(ctx(t), dup, ev("create.dup")), userpool.ErrEmailTaken)

	_, err := s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.Nickname = "n"; return nil }, ev("update.ok"))
	checkNoErr(t, "UpdateUser with audit", err)
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(*userpool.User) error { return userpool.ErrNotFound }, ev("update.aborted"))
	checkErr(t, "UpdateUser fn error", err, userpool.ErrNotFound)
	_, err = s.UpdateUser(ctx(t), p.ID, "missing", func(*userpool.User) error { return nil }, ev("update.missing"))
	checkErr(t, "UpdateUser missing", err, userpool.ErrUserNotFound)

	newSession(t, s, u, "s1", t0.Add(time.Hour))
	_, err = s.ExtendSession(ctx(t), "s1", t0, t0.Add(2*time.Hour), ev("extend.ok"))
	checkNoErr(t, "ExtendSession with audit", err)
	_, err = s.ExtendSession(ctx(t), "missing", t0, t0.Add(2*time.Hour), ev("extend.missing"))
	checkErr(t, "ExtendSession missing", err, userpool.ErrSessionNotFound)
	checkNoErr(t, "RevokeSession with audit", s.RevokeSession(ctx(t), "s1", t0, ev("revoke.ok")))
	checkErr(t, "RevokeSession again", s.RevokeSession(ctx(t), "s1", t0, ev("revoke.again")), userpool.ErrSessionNotFound)

	for name, want := range map[string]int{
		"create.ok": 1, "create.dup": 0, "update.ok": 1, "update.aborted": 0, "update.missing": 0,
		"extend.ok": 1, "extend.missing": 0, "revoke.ok": 1, "revoke.again": 0,
	} {
		if got := count(name); got != want {
			t.Errorf("event %s stored %d times, want %d", name, got, want)
		}
	}
	got, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: "update.ok"})
	checkNoErr(t, "ListAudit", err)
	want := ev("update.ok")
	want.ID = got[0].ID
	checkEqual(t, "event stored with a change", want, got[0])

	// The user changed only by the successful update.
	stored, err := s.GetUser(ctx(t), p.ID, u.ID)
	checkNoErr(t, "GetUser", err)
	if stored.Nickname != "n" {
		t.Fatalf("nickname %q after updates", stored.Nickname)
	}
}

func testAuditPurge(t *testing.T, s userpool.Store) {
	pools := []*userpool.Pool{newPool(t, s, "p1"), newPool(t, s, "p2")}
	for i := range 6 {
		e := &userpool.AuditEvent{PoolID: pools[i%2].ID, Event: fmt.Sprintf("e%d", i), CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		checkNoErr(t, "AppendAudit", s.AppendAudit(ctx(t), e))
	}
	// Events at t0, t0+1h and t0+2h are older than the cut; t0+3h is not
	// (the bound is exclusive).
	n, err := s.PurgeAudit(ctx(t), t0.Add(3*time.Hour))
	checkNoErr(t, "PurgeAudit", err)
	if n != 3 {
		t.Fatalf("PurgeAudit deleted %d events, want 3", n)
	}
	left := 0
	for _, p := range pools {
		got, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID})
		checkNoErr(t, "ListAudit", err)
		for _, e := range got {
			if e.CreatedAt.Before(t0.Add(3 * time.Hour)) {
				t.Errorf("event %s of %v survived the purge", e.Event, e.CreatedAt)
			}
		}
		left += len(got)
	}
	if left != 3 {
		t.Fatalf("%d events left, want 3", left)
	}
	if n, err := s.PurgeAudit(ctx(t), t0); err != nil || n != 0 {
		t.Fatalf("PurgeAudit with nothing to delete: %d, %v", n, err)
	}
}
