package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func newSubscription(t *testing.T, s userpool.Store, poolID, id string, enabled bool, events ...string) *userpool.WebhookSubscription {
	t.Helper()
	w := &userpool.WebhookSubscription{
		ID: id, PoolID: poolID, URL: "https://hooks.example.com/" + id, Events: events,
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Enabled: enabled, CreatedAt: t0, UpdatedAt: t0,
	}
	checkNoErr(t, "CreateSubscription "+id, s.CreateSubscription(ctx(t), w))
	return w
}

func event(poolID, typ string) *userpool.Event {
	return &userpool.Event{PoolID: poolID, Type: typ, Payload: []byte(`{"type":"` + typ + `","data":{}}`), CreatedAt: t0}
}

// deliveriesOf returns the subscription ids the event was fanned out to.
func deliveriesOf(t *testing.T, s userpool.Store, poolID string, e *userpool.Event) []string {
	t.Helper()
	if e.ID == "" {
		t.Fatal("the store did not fill the event's ID")
	}
	ds, err := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: poolID, EventID: e.ID})
	checkNoErr(t, "ListDeliveries", err)
	var subs []string
	for _, d := range ds {
		if d.ID != e.ID+":"+d.SubscriptionID || d.EventID != e.ID || d.Type != e.Type || string(d.Payload) != string(e.Payload) ||
			d.Status != userpool.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(e.CreatedAt) {
			t.Errorf("delivery of %s: %+v", e.Type, d)
		}
		subs = append(subs, d.SubscriptionID)
	}
	slices.Sort(subs)
	return subs
}

func testSubscriptions(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	want := newSubscription(t, s, p.ID, "w1", true, "user.login", "user.logout")
	got, err := s.GetSubscription(ctx(t), p.ID, "w1")
	checkNoErr(t, "GetSubscription", err)
	checkEqual(t, "subscription round trip", want, got)
	newSubscription(t, s, p.ID, "w2", false, "*")
	newSubscription(t, s, other.ID, "w3", true, "*")
	list, err := s.ListSubscriptions(ctx(t), p.ID)
	checkNoErr(t, "ListSubscriptions", err)
	if len(list) != 2 || list[0].ID != "w1" || list[1].ID != "w2" {
		t.Fatalf("ListSubscriptions: %d", len(list))
	}
	_, err = s.GetSubscription(ctx(t), other.ID, "w1")
	checkErr(t, "GetSubscription other pool", err, userpool.ErrNotFound)

	up, err := s.UpdateSubscription(ctx(t), p.ID, "w1", func(w *userpool.WebhookSubscription) error {
		w.URL, w.Events, w.Secret, w.Enabled = "https://new.example.com/h", []string{"user.deleted"}, "whsec_bmV3", false
		w.UpdatedAt = t0.Add(time.Hour)
		return nil
	})
	checkNoErr(t, "UpdateSubscription", err)
	got, _ = s.GetSubscription(ctx(t), p.ID, "w1")
	checkEqual(t, "subscription after update", up, got)
	_, err = s.UpdateSubscription(ctx(t), p.ID, "w1", func(w *userpool.WebhookSubscription) error {
		w.Enabled = true
		return userpool.ErrNotFound
	})
	checkErr(t, "UpdateSubscription fn error", err, userpool.ErrNotFound)
	if got, _ = s.GetSubscription(ctx(t), p.ID, "w1"); got.Enabled {
		t.Error("aborted UpdateSubscription changed the subscription")
	}
	_, err = s.UpdateSubscription(ctx(t), p.ID, "w1", func(w *userpool.WebhookSubscription) error {
		w.Events = []string{"a,b"}
		return nil
	})
	if err == nil {
		t.Error("an event type with a comma was stored")
	}
	checkErr(t, "CreateSubscription unknown pool", s.CreateSubscription(ctx(t), &userpool.WebhookSubscription{
		PoolID: "nope", URL: "https://x", Events: []string{"*"}, CreatedAt: t0,
	}), userpool.ErrPoolNotFound)
	checkNoErr(t, "DeleteSubscription", s.DeleteSubscription(ctx(t), p.ID, "w1"))
	checkErr(t, "DeleteSubscription again", s.DeleteSubscription(ctx(t), p.ID, "w1"), userpool.ErrNotFound)
	checkErr(t, "DeleteSubscription other pool", s.DeleteSubscription(ctx(t), p.ID, "w3"), userpool.ErrNotFound)
}

// testOutboxFanOut checks that an event becomes one delivery per enabled,
// listening subscription of its pool, written with the change it reports.
func testOutboxFanOut(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	newSubscription(t, s, p.ID, "login", true, "user.login", "user.logout")
	newSubscription(t, s, p.ID, "all", true, "*")
	newSubscription(t, s, p.ID, "off", false, "*")
	newSubscription(t, s, p.ID, "failed", true, "user.login_failed")
	newSubscription(t, s, other.ID, "elsewhere", true, "*")

	reg := event(p.ID, "user.registered")
	u := &userpool.User{ID: "u1", PoolID: p.ID, Email: "ann@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateUser with event", s.CreateUser(ctx(t), u, reg))
	checkEqual(t, "user.registered goes to", []string{"all"}, deliveriesOf(t, s, p.ID, reg))

	login := event(p.ID, "user.login")
	audit := &userpool.AuditEvent{PoolID: p.ID, UserID: "u1", Event: "login.success", CreatedAt: t0}
	_, err := s.UpdateUser(ctx(t), p.ID, "u1", func(x *userpool.User) error {
		x.LoginsCount++
		// fn may complete the event: it is inserted after fn returns.
		login.Payload = []byte(fmt.Sprintf(`{"type":"user.login","logins":%d}`, x.LoginsCount))
		return nil
	}, login, audit)
	checkNoErr(t, "UpdateUser with event and audit", err)
	checkEqual(t, "user.login goes to", []string{"all", "login"}, deliveriesOf(t, s, p.ID, login))
	if ds, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID, EventID: login.ID}); len(ds) == 0 || string(ds[0].Payload) != `{"type":"user.login","logins":1}` {
		t.Errorf("payload completed in fn was not stored")
	}
	if a, _ := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: "login.success"}); len(a) != 1 {
		t.Errorf("audit record of UpdateUser: %d events", len(a))
	}

	// "_" in a type is not a LIKE wildcard: user.loginXfailed is not
	// user.login_failed.
	odd := event(p.ID, "user.loginXfailed")
	failed := event(p.ID, "user.login_failed")
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), odd, failed))
	checkEqual(t, "user.loginXfailed goes to", []string{"all"}, deliveriesOf(t, s, p.ID, odd))
	checkEqual(t, "user.login_failed goes to", []string{"all", "failed"}, deliveriesOf(t, s, p.ID, failed))

	newSession(t, s, u, "s1", t0.Add(time.Hour))
	ext := event(p.ID, "session.extended")
	_, err = s.ExtendSession(ctx(t), "s1", t0, t0.Add(2*time.Hour), ext)
	checkNoErr(t, "ExtendSession with event", err)
	checkEqual(t, "ExtendSession event goes to", []string{"all"}, deliveriesOf(t, s, p.ID, ext))
	logout := event(p.ID, "user.logout")
	checkNoErr(t, "RevokeSession with event", s.RevokeSession(ctx(t), "s1", t0, logout))
	checkEqual(t, "user.logout goes to", []string{"all", "login"}, deliveriesOf(t, s, p.ID, logout))
	del := event(p.ID, "user.deleted")
	checkNoErr(t, "DeleteUser with event", s.DeleteUser(ctx(t), p.ID, "u1", del))
	checkEqual(t, "user.deleted goes to", []string{"all"}, deliveriesOf(t, s, p.ID, del))

	// An event of a pool without subscriptions stores nothing.
	quiet := newPool(t, s, "p3")
	lone := event(quiet.ID, "user.login")
	checkNoErr(t, "WriteRecords without subscribers", s.WriteRecords(ctx(t), lone))
	if got := deliveriesOf(t, s, quiet.ID, lone); len(got) != 0 {
		t.Errorf("event without subscribers stored %d deliveries", len(got))
	}
	if ds, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: other.ID}); len(ds) != 0 {
		t.Errorf("another pool's subscription got %d deliveries", len(ds))
	}
}

// testOutboxRollback checks that a change that fails stores none of its
// records, and records that fail undo the change.
func testOutboxRollback(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "all", true, "*")
	newUser(t, s, p.ID, "u1", "ben@example.com", "ben", "")
	count := func() int {
		ds, err := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID})
		checkNoErr(t, "ListDeliveries", err)
		return len(ds)
	}
	dup := &userpool.User{ID: "u2", PoolID: p.ID, Email: "BEN@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkErr(t, "CreateUser duplicate", s.CreateUser(ctx(t), dup, event(p.ID, "user.registered")), userpool.ErrEmailTaken)
	_, err := s.UpdateUser(ctx(t), p.ID, "u1", func(*userpool.User) error { return userpool.ErrNotFound }, event(p.ID, "user.updated"))
	checkErr(t, "UpdateUser fn error", err, userpool.ErrNotFound)
	checkErr(t, "RevokeSession missing", s.RevokeSession(ctx(t), "none", t0, event(p.ID, "user.logout")), userpool.ErrSessionNotFound)
	checkErr(t, "DeleteUser missing", s.DeleteUser(ctx(t), p.ID, "none", event(p.ID, "user.deleted")), userpool.ErrUserNotFound)
	if n := count(); n != 0 {
		t.Errorf("failed changes stored %d deliveries", n)
	}

	// A record that cannot be stored aborts the change it accompanies.
	bad := &userpool.Event{PoolID: p.ID, Type: "user.updated", Payload: []byte("not json"), CreatedAt: t0}
	_, err = s.UpdateUser(ctx(t), p.ID, "u1", func(x *userpool.User) error { x.Nickname = "changed"; return nil }, bad)
	if err == nil {
		t.Fatal("UpdateUser with an invalid event succeeded")
	}
	if u, _ := s.GetUser(ctx(t), p.ID, "u1"); u.Nickname == "changed" {
		t.Error("the change was stored although its event was not")
	}
	badAudit := &userpool.AuditEvent{PoolID: "nope", Event: "x", CreatedAt: t0}
	u3 := &userpool.User{ID: "u3", PoolID: p.ID, Email: "cy@example.com", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(ctx(t), u3, event(p.ID, "user.registered"), badAudit); err == nil {
		t.Fatal("CreateUser with an unstorable audit record succeeded")
	}
	_, err = s.GetUser(ctx(t), p.ID, "u3")
	checkErr(t, "user of the aborted CreateUser", err, userpool.ErrUserNotFound)
	if n := count(); n != 0 {
		t.Errorf("aborted changes stored %d deliveries", n)
	}
	// Writing one event twice would deliver it twice: refused.
	e := event(p.ID, "user.login")
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), e))
	if err := s.WriteRecords(ctx(t), e); err == nil {
		t.Error("the same event was written twice")
	}
	if n := count(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

func testDeliveryLifecycle(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "w", true, "*")
	newSubscription(t, s, p.ID, "paused", false, "*")
	early := event(p.ID, "user.login")
	late := event(p.ID, "user.logout")
	late.CreatedAt = t0.Add(time.Minute)
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), early, late))
	// The paused subscription got nothing (it was disabled when the events
	// were written), so both deliveries belong to w.

	const lease = 30 * time.Second
	got, err := s.ClaimDeliveries(ctx(t), "w1", t0, lease, 10)
	checkNoErr(t, "ClaimDeliveries", err)
	if len(got) != 1 || got[0].EventID != early.ID || got[0].ClaimedBy != "w1" || !got[0].ClaimedUntil.Equal(t0.Add(lease)) {
		t.Fatalf("claim at t0: %+v", got)
	}
	d := got[0]
	if again, _ := s.ClaimDeliveries(ctx(t), "w2", t0.Add(lease-time.Millisecond), lease, 10); len(again) != 0 {
		t.Fatalf("a claimed delivery was claimed again while the claim held: %+v", again)
	}

	// A failed attempt: pending again, due later, claim released.
	a1 := &userpool.DeliveryAttempt{DeliveryID: d.ID, Number: 1, Worker: "w1", StatusCode: 500, Error: "HTTP 500", Duration: 12 * time.Millisecond, CreatedAt: t0.Add(time.Second)}
	checkNoErr(t, "RecordAttempt retry", s.RecordAttempt(ctx(t), a1, userpool.DeliveryPending, t0.Add(time.Hour)))
	d2, err := s.GetDelivery(ctx(t), p.ID, d.ID)
	checkNoErr(t, "GetDelivery", err)
	if d2.Status != userpool.DeliveryPending || d2.Attempts != 1 || !d2.NextAttemptAt.Equal(t0.Add(time.Hour)) ||
		d2.ClaimedBy != "" || !d2.ClaimedUntil.IsZero() || d2.LastError != "HTTP 500" || !d2.FinishedAt.IsZero() {
		t.Fatalf("after a failed attempt: %+v", d2)
	}
	// Not due before its time; then claimable by anyone.
	got, _ = s.ClaimDeliveries(ctx(t), "w2", t0.Add(2*time.Minute), lease, 10)
	if len(got) != 1 || got[0].EventID != late.ID {
		t.Fatalf("claim at t0+2m: %+v", got)
	}
	lateD := got[0]
	// At t0+1h the first is due again and the second's claim has lapsed.
	got, _ = s.ClaimDeliveries(ctx(t), "w2", t0.Add(time.Hour), lease, 10)
	if len(got) != 2 || got[0].ID != lateD.ID || got[1].ID != d.ID {
		t.Fatalf("claim at t0+1h: %d deliveries, want both, oldest due first", len(got))
	}

	// A claim that lapsed is taken over; the first worker's late result is
	// recorded as an attempt but does not move the delivery.
	got, _ = s.ClaimDeliveries(ctx(t), "w3", t0.Add(time.Hour+lease), lease, 10)
	if len(got) != 2 {
		t.Fatalf("lapsed claims taken over: %d, want 2", len(got))
	}
	stale := &userpool.DeliveryAttempt{DeliveryID: d.ID, Number: 2, Worker: "w2", StatusCode: 200, CreatedAt: t0.Add(time.Hour + lease + time.Second)}
	checkNoErr(t, "RecordAttempt by a worker that lost its claim", s.RecordAttempt(ctx(t), stale, userpool.DeliveryDelivered, time.Time{}))
	if d3, _ := s.GetDelivery(ctx(t), p.ID, d.ID); d3.Status != userpool.DeliveryPending || d3.ClaimedBy != "w3" {
		t.Fatalf("a stale result moved the delivery: %+v", d3)
	}
	ok := &userpool.DeliveryAttempt{DeliveryID: d.ID, Number: 2, Worker: "w3", StatusCode: 204, Duration: time.Millisecond, CreatedAt: t0.Add(2 * time.Hour)}
	checkNoErr(t, "RecordAttempt delivered", s.RecordAttempt(ctx(t), ok, userpool.DeliveryDelivered, time.Time{}))
	d4, _ := s.GetDelivery(ctx(t), p.ID, d.ID)
	if d4.Status != userpool.DeliveryDelivered || d4.Attempts != 2 || !d4.FinishedAt.Equal(t0.Add(2*time.Hour)) || d4.ClaimedBy != "" || d4.LastError != "" {
		t.Fatalf("after delivery: %+v", d4)
	}
	gaveUp := &userpool.DeliveryAttempt{DeliveryID: lateD.ID, Number: 1, Worker: "w3", Error: "connection refused", CreatedAt: t0.Add(2 * time.Hour)}
	checkNoErr(t, "RecordAttempt failed", s.RecordAttempt(ctx(t), gaveUp, userpool.DeliveryFailed, time.Time{}))
	if got, _ := s.ClaimDeliveries(ctx(t), "w4", t0.Add(24*time.Hour), lease, 10); len(got) != 0 {
		t.Fatalf("finished deliveries were claimed: %+v", got)
	}

	attempts, err := s.ListDeliveryAttempts(ctx(t), p.ID, d.ID)
	checkNoErr(t, "ListDeliveryAttempts", err)
	if len(attempts) != 3 || attempts[0].ID >= attempts[1].ID {
		t.Fatalf("%d attempts, want 3 in order", len(attempts))
	}
	a1.PoolID = p.ID
	checkEqual(t, "first attempt", a1, attempts[0])
	if attempts[1].Worker != "w2" || attempts[2].StatusCode != 204 {
		t.Errorf("attempts: %+v %+v", attempts[1], attempts[2])
	}
	checkErr(t, "RecordAttempt unknown delivery", s.RecordAttempt(ctx(t), &userpool.DeliveryAttempt{DeliveryID: "nope", Worker: "w", CreatedAt: t0}, userpool.DeliveryDelivered, time.Time{}), userpool.ErrNotFound)

	// Filters.
	byStatus, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID, Status: userpool.DeliveryFailed})
	bySub, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID, SubscriptionID: "w"})
	limited, _ := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID, Limit: 1})
	if len(byStatus) != 1 || byStatus[0].ID != lateD.ID || len(bySub) != 2 || len(limited) != 1 || limited[0].ID != lateD.ID {
		t.Errorf("filters: status %d, subscription %d, limit %d", len(byStatus), len(bySub), len(limited))
	}

	// Redeliver revives a failed delivery with a fresh round.
	re, err := s.Redeliver(ctx(t), p.ID, lateD.ID, t0.Add(3*time.Hour))
	checkNoErr(t, "Redeliver", err)
	if re.Status != userpool.DeliveryPending || re.Attempts != 0 || !re.NextAttemptAt.Equal(t0.Add(3*time.Hour)) || !re.FinishedAt.IsZero() {
		t.Fatalf("after redeliver: %+v", re)
	}
	_, err = s.Redeliver(ctx(t), "p2", lateD.ID, t0)
	checkErr(t, "Redeliver other pool", err, userpool.ErrNotFound)
	_, err = s.GetDelivery(ctx(t), p.ID, "nope")
	checkErr(t, "GetDelivery missing", err, userpool.ErrNotFound)

	// A disabled subscription's deliveries wait.
	_, err = s.UpdateSubscription(ctx(t), p.ID, "w", func(w *userpool.WebhookSubscription) error { w.Enabled = false; return nil })
	checkNoErr(t, "disable subscription", err)
	if got, _ := s.ClaimDeliveries(ctx(t), "w5", t0.Add(4*time.Hour), lease, 10); len(got) != 0 {
		t.Fatalf("a disabled subscription's delivery was claimed: %+v", got)
	}

	// Purge: finished deliveries past retention go with their attempts;
	// pending ones stay whatever their age.
	purgeAt := t0.Add(2*time.Hour + userpool.DeliveryRetention)
	_, err = s.PurgeExpired(ctx(t), purgeAt)
	checkNoErr(t, "PurgeExpired", err)
	_, err = s.GetDelivery(ctx(t), p.ID, d.ID)
	checkErr(t, "purged delivery", err, userpool.ErrNotFound)
	if attempts, _ := s.ListDeliveryAttempts(ctx(t), p.ID, d.ID); len(attempts) != 0 {
		t.Errorf("%d attempts outlived their delivery", len(attempts))
	}
	_, err = s.GetDelivery(ctx(t), p.ID, lateD.ID)
	checkNoErr(t, "pending delivery after purge", err)

	// Deleting the subscription deletes its deliveries.
	checkNoErr(t, "DeleteSubscription", s.DeleteSubscription(ctx(t), p.ID, "w"))
	_, err = s.GetDelivery(ctx(t), p.ID, lateD.ID)
	checkErr(t, "delivery of a deleted subscription", err, userpool.ErrNotFound)
}

// testRaceClaimDeliveries lets several workers claim from one outbox at
// once until it is empty: every delivery must be claimed exactly once.
func testRaceClaimDeliveries(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "a", true, "*")
	newSubscription(t, s, p.ID, "b", true, "user.login")
	const events = 60
	var recs []userpool.Record
	for range events {
		recs = append(recs, event(p.ID, "user.login"))
	}
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), recs...))

	const workers = 8
	var (
		mu      sync.Mutex
		claimed = map[string]string{}
		dupes   []string
	)
	errs := together(workers, func(i int) error {
		worker := fmt.Sprintf("worker-%d", i)
		for {
			got, err := s.ClaimDeliveries(ctx(t), worker, t0, time.Hour, 3)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, d := range got {
				if prev, ok := claimed[d.ID]; ok {
					dupes = append(dupes, fmt.Sprintf("%s by %s and %s", d.ID, prev, worker))
				}
				claimed[d.ID] = worker
				if d.ClaimedBy != worker {
					dupes = append(dupes, fmt.Sprintf("%s returned to %s claimed by %s", d.ID, worker, d.ClaimedBy))
				}
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("ClaimDeliveries: %v", err)
		}
	}
	for _, d := range dupes {
		t.Errorf("claimed twice: %s", d)
	}
	if len(claimed) != 2*events {
		t.Errorf("%d deliveries claimed, want %d", len(claimed), 2*events)
	}
}

// testNewDeliveries: a write that commits due deliveries (an event that
// fans out, through every method that takes records; a redelivery;
// released claims) closes the channel taken before it, so a dispatcher
// that found the outbox empty is woken at once; an event no subscription
// listens to, and a write that is rolled back, do not.
func testNewDeliveries(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "w", true, "user.login", "user.updated", "user.registered")
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	ch := s.NewDeliveries()
	checkNoErr(t, "WriteRecords unheard", s.WriteRecords(ctx(t), event(p.ID, "user.logout")))
	if closed(ch) {
		t.Error("an event nobody listens to woke the dispatcher")
	}
	u := &userpool.User{ID: "u1", PoolID: p.ID, Email: "a@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), u, event(p.ID, "user.registered")))
	if !closed(ch) {
		t.Fatal("CreateUser with a delivered event did not wake the dispatcher")
	}
	ch = s.NewDeliveries()
	if closed(ch) {
		t.Fatal("a fresh channel is closed already")
	}
	_, err := s.UpdateUser(ctx(t), p.ID, "u1", func(x *userpool.User) error { return errors.New("refused") }, event(p.ID, "user.updated"))
	if err == nil || closed(ch) {
		t.Fatalf("a rolled-back update (%v) woke the dispatcher", err)
	}
	_, err = s.UpdateUser(ctx(t), p.ID, "u1", func(x *userpool.User) error { x.Nickname = "n"; return nil }, event(p.ID, "user.updated"))
	checkNoErr(t, "UpdateUser", err)
	if !closed(ch) {
		t.Fatal("UpdateUser with a delivered event did not wake the dispatcher")
	}
	ch = s.NewDeliveries()
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), event(p.ID, "user.login")))
	if !closed(ch) {
		t.Fatal("WriteRecords with a delivered event did not wake the dispatcher")
	}

	// Claims released are due at once, to any worker; a claim that has
	// passed to another worker is not released.
	const lease = time.Hour
	got, err := s.ClaimDeliveries(ctx(t), "w1", t0, lease, 10)
	checkNoErr(t, "ClaimDeliveries", err)
	if len(got) != 3 {
		t.Fatalf("claimed %d deliveries, want 3", len(got))
	}
	ch = s.NewDeliveries()
	checkNoErr(t, "ReleaseDeliveries", s.ReleaseDeliveries(ctx(t), "w1", []string{got[0].ID, got[1].ID}))
	if !closed(ch) {
		t.Error("ReleaseDeliveries did not wake the dispatcher")
	}
	checkNoErr(t, "ReleaseDeliveries by another worker", s.ReleaseDeliveries(ctx(t), "w9", []string{got[2].ID}))
	again, err := s.ClaimDeliveries(ctx(t), "w2", t0, lease, 10)
	checkNoErr(t, "ClaimDeliveries after release", err)
	if len(again) != 2 || again[0].ID == got[2].ID || again[1].ID == got[2].ID {
		t.Fatalf("after release claimed %d deliveries, want the two released", len(again))
	}

	// A redelivery is due at once.
	done := &userpool.DeliveryAttempt{DeliveryID: got[2].ID, Number: 1, Worker: "w1", StatusCode: 200, CreatedAt: t0}
	checkNoErr(t, "RecordAttempt", s.RecordAttempt(ctx(t), done, userpool.DeliveryDelivered, time.Time{}))
	ch = s.NewDeliveries()
	_, err = s.Redeliver(ctx(t), p.ID, got[2].ID, t0)
	checkNoErr(t, "Redeliver", err)
	if !closed(ch) {
		t.Error("Redeliver did not wake the dispatcher")
	}
}

// testRecordAttempts: a batch of results is recorded as one
// RecordAttempt each would: a delivered one finishes, a retry is due
// later, one whose claim passed to another worker keeps that worker's
// state, and one whose delivery is gone is skipped without failing the
// others.
func testRecordAttempts(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "w", true, "*")
	checkNoErr(t, "WriteRecords", s.WriteRecords(ctx(t), event(p.ID, "a"), event(p.ID, "b"), event(p.ID, "c")))
	const lease = time.Minute
	got, err := s.ClaimDeliveries(ctx(t), "w1", t0, lease, 10)
	checkNoErr(t, "ClaimDeliveries", err)
	if len(got) != 3 {
		t.Fatalf("claimed %d, want 3", len(got))
	}
	// The third's claim lapses and w2 takes it.
	taken, err := s.ClaimDeliveries(ctx(t), "w2", t0.Add(lease), lease, 10)
	checkNoErr(t, "ClaimDeliveries w2", err)
	if len(taken) != 3 {
		t.Fatalf("w2 claimed %d, want 3", len(taken))
	}
	// w2 records the first two itself before w1's late batch arrives; w1
	// still holds none of them, so w1's results are history only.
	at := t0.Add(lease + time.Second)
	ok := userpool.AttemptResult{Attempt: &userpool.DeliveryAttempt{DeliveryID: got[0].ID, Number: 1, Worker: "w2", StatusCode: 204, CreatedAt: at}, Status: userpool.DeliveryDelivered}
	retry := userpool.AttemptResult{Attempt: &userpool.DeliveryAttempt{DeliveryID: got[1].ID, Number: 1, Worker: "w2", StatusCode: 503, Error: "HTTP 503", CreatedAt: at}, Status: userpool.DeliveryPending, NextAttemptAt: at.Add(time.Hour)}
	late := userpool.AttemptResult{Attempt: &userpool.DeliveryAttempt{DeliveryID: got[2].ID, Number: 1, Worker: "w1", StatusCode: 200, CreatedAt: at}, Status: userpool.DeliveryDelivered}
	gone := userpool.AttemptResult{Attempt: &userpool.DeliveryAttempt{DeliveryID: "nope", Number: 1, Worker: "w2", CreatedAt: at}, Status: userpool.DeliveryDelivered}
	checkNoErr(t, "RecordAttempts", s.RecordAttempts(ctx(t), []userpool.AttemptResult{late, gone, ok, retry}))
	if ok.Attempt.ID == 0 || retry.Attempt.ID == 0 || late.Attempt.ID == 0 || gone.Attempt.ID != 0 {
		t.Errorf("attempt ids: ok %d, retry %d, late %d, gone %d", ok.Attempt.ID, retry.Attempt.ID, late.Attempt.ID, gone.Attempt.ID)
	}
	d0, _ := s.GetDelivery(ctx(t), p.ID, got[0].ID)
	d1, _ := s.GetDelivery(ctx(t), p.ID, got[1].ID)
	d2, _ := s.GetDelivery(ctx(t), p.ID, got[2].ID)
	if d0.Status != userpool.DeliveryDelivered || !d0.FinishedAt.Equal(at) || d0.ClaimedBy != "" {
		t.Errorf("delivered: %+v", d0)
	}
	if d1.Status != userpool.DeliveryPending || !d1.NextAttemptAt.Equal(at.Add(time.Hour)) || d1.LastError != "HTTP 503" || d1.ClaimedBy != "" {
		t.Errorf("retry: %+v", d1)
	}
	if d2.Status != userpool.DeliveryPending || d2.ClaimedBy != "w2" || d2.Attempts != 0 {
		t.Errorf("a result of a lost claim moved the delivery: %+v", d2)
	}
	if as, _ := s.ListDeliveryAttempts(ctx(t), p.ID, got[2].ID); len(as) != 1 || as[0].Worker != "w1" {
		t.Errorf("the late attempt was not kept: %+v", as)
	}
	err = s.RecordAttempts(ctx(t), []userpool.AttemptResult{{Attempt: ok.Attempt, Status: "bogus"}})
	if err == nil {
		t.Error("an unknown status was accepted")
	}
}
