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
	if err == nil {
		t.Fatal("UpdateUser with a session of a missing user succeeded")
	}
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
