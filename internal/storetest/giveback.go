package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// testCounterGiveBack: a CounterGiveBack given with a user update takes
// one off its counter in the update's transaction and is marked Sent; an
// update that fails leaves the counter and Sent alone (the caller then
// gives the place back itself); it never takes a counter below zero nor
// touches an ended one; and records written without a user update
// (WriteRecords) carry it too.
func testCounterGiveBack(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pgb")
	u := newUser(t, s, p.ID, "u1", "gb@example.com", "", "")
	const key = "lf:chg:pgb:u:u1:1"
	for range 2 {
		_, _, err := s.IncrCounter(ctx(t), key, time.Hour, t0)
		checkNoErr(t, "IncrCounter", err)
	}
	count := func() int64 {
		t.Helper()
		n, _, err := s.GetCounter(ctx(t), key, t0)
		checkNoErr(t, "GetCounter", err)
		return n
	}

	g := &userpool.CounterGiveBack{Key: key, At: t0}
	refused := errors.New("refused")
	_, err := s.UpdateUser(ctx(t), p.ID, u.ID, func(*userpool.User) error { return refused }, g)
	if !errors.Is(err, refused) {
		t.Fatalf("UpdateUser with a failing fn: %v", err)
	}
	if g.Sent || count() != 2 {
		t.Fatalf("failed update: Sent %v, counter %d (want false, 2)", g.Sent, count())
	}
	// A later record failing rolls the give-back back too.
	bad := &userpool.Session{PoolID: p.ID, UserID: "no-such-user", ExpiresAt: t0.Add(time.Hour)}
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.LoginsCount++; return nil }, g, bad)
	checkErr(t, "UpdateUser with a session of a missing user", err, userpool.ErrUserNotFound)
	if g.Sent || count() != 2 {
		t.Fatalf("update failed by a later record: Sent %v, counter %d (want false, 2)", g.Sent, count())
	}

	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.LoginsCount++; return nil }, g)
	checkNoErr(t, "UpdateUser with a give-back", err)
	if !g.Sent || count() != 1 {
		t.Fatalf("update: Sent %v, counter %d (want true, 1)", g.Sent, count())
	}

	g2 := &userpool.CounterGiveBack{Key: key, At: t0}
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), g2))
	g3 := &userpool.CounterGiveBack{Key: key, At: t0}
	checkNoErr(t, "WriteRecords at zero", s.WriteRecords(ctx(t), g3))
	if !g2.Sent || !g3.Sent || count() != 0 {
		t.Fatalf("give-backs: Sent %v %v, counter %d (want true true 0: never below zero)", g2.Sent, g3.Sent, count())
	}

	// A counter whose window ended is left alone (as DecrCounter leaves it).
	const ended = "lf:chg:pgb:u:u1:0"
	_, _, err = s.IncrCounter(ctx(t), ended, time.Minute, t0)
	checkNoErr(t, "IncrCounter", err)
	checkNoErr(t, "WriteRecords ended", s.WriteRecords(ctx(t), &userpool.CounterGiveBack{Key: ended, At: t0.Add(2 * time.Minute)}))
	if n, _, _ := s.GetCounter(ctx(t), ended, t0); n != 1 {
		t.Fatalf("a give-back after the window's end changed the counter: %d", n)
	}
}

// testLoginRecords: the records of a login (its session, a webhook event
// fanned out to two subscriptions, an audit event, a counter reset and
// the charge's give-back) written with one user update are all there
// afterwards; when one of them fails (a session of a missing user, an
// audit event of a missing pool) none is, and the error is the one the
// record alone gives. (PostgreSQL sends them as one statement.)
func testLoginRecords(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "plr")
	u := newUser(t, s, p.ID, "u1", "lr@example.com", "", "")
	newSubscription(t, s, p.ID, "login", true, "user.login")
	newSubscription(t, s, p.ID, "all", true, "*")
	newSubscription(t, s, p.ID, "off", false, "*")
	const fails, charge = "lf:acct:plr:u:u1", "lf:chg:plr:u:u1:9"
	_, _, err := s.IncrCounter(ctx(t), fails, time.Hour, t0)
	checkNoErr(t, "IncrCounter", err)
	_, _, err = s.IncrCounter(ctx(t), charge, time.Hour, t0)
	checkNoErr(t, "IncrCounter", err)
	counter := func(key string) int64 {
		t.Helper()
		n, _, err := s.GetCounter(ctx(t), key, t0)
		checkNoErr(t, "GetCounter", err)
		return n
	}
	records := func(sessID, userID, auditPool string) (*userpool.Event, *userpool.CounterGiveBack, []userpool.Record) {
		ev := event(p.ID, "user.login")
		g := &userpool.CounterGiveBack{Key: charge, At: t0}
		return ev, g, []userpool.Record{
			&userpool.Session{ID: sessID, PoolID: p.ID, UserID: userID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
			ev,
			&userpool.AuditEvent{PoolID: auditPool, UserID: u.ID, Event: "login.success", CreatedAt: t0},
			&userpool.CounterReset{Key: fails},
			g,
		}
	}
	update := func(recs []userpool.Record) error {
		_, err := s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.LoginsCount++; return nil }, recs...)
		return err
	}
	nothingWritten := func(what, sessID string, ev *userpool.Event, g *userpool.CounterGiveBack) {
		t.Helper()
		if _, err := s.GetSession(ctx(t), sessID); !errors.Is(err, userpool.ErrSessionNotFound) {
			t.Errorf("%s: session stored (%v)", what, err)
		}
		if ev.ID != "" {
			if ds, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID, EventID: ev.ID}); len(ds) != 0 {
				t.Errorf("%s: %d deliveries stored", what, len(ds))
			}
		}
		if a, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID}); len(a) != 0 {
			t.Errorf("%s: %d audit events stored", what, len(a))
		}
		if counter(fails) != 1 || counter(charge) != 1 || g.Sent {
			t.Errorf("%s: counters %d %d, give-back sent %v (want 1 1 false)", what, counter(fails), counter(charge), g.Sent)
		}
		if got, _ := s.GetUser(ctx(t), p.ID, u.ID); got.LoginsCount != 0 {
			t.Errorf("%s: user updated", what)
		}
	}

	ev, g, recs := records("lr-missing-user", "no-such-user", p.ID)
	checkErr(t, "login records with a session of a missing user", update(recs), userpool.ErrUserNotFound)
	nothingWritten("session of a missing user", "lr-missing-user", ev, g)
	ev, g, recs = records("lr-missing-pool", u.ID, "no-such-pool")
	checkErr(t, "login records with an audit event of a missing pool", update(recs), userpool.ErrPoolNotFound)
	nothingWritten("audit event of a missing pool", "lr-missing-pool", ev, g)

	ev, g, recs = records("lr-ok", u.ID, p.ID)
	checkNoErr(t, "login records", update(recs))
	if _, err := s.GetSession(ctx(t), "lr-ok"); err != nil {
		t.Errorf("session: %v", err)
	}
	checkEqual(t, "user.login goes to", []string{"all", "login"}, deliveriesOf(t, s, p.ID, ev))
	if a, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: "login.success"}); len(a) != 1 {
		t.Errorf("audit events: %d, want 1", len(a))
	}
	if counter(fails) != 0 || counter(charge) != 0 || !g.Sent {
		t.Errorf("counters %d %d, give-back sent %v (want 0 0 true)", counter(fails), counter(charge), g.Sent)
	}
}
