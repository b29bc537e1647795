package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/userpool"
)

// newJob is a queued message whose payload is sealed as the server seals
// it: binary, any byte value.
func newJob(t *testing.T, sealer *courier.Sealer, poolID, id string, at time.Time, plain string) *userpool.MessageJob {
	t.Helper()
	return &userpool.MessageJob{ID: id, PoolID: poolID, Channel: "email", Payload: sealer.Seal(id, []byte(plain)), CreatedAt: at, NextAttemptAt: at}
}

func testSealer(t *testing.T) *courier.Sealer {
	t.Helper()
	s, err := courier.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testMessageQueue: a job is written with its code in one transaction
// (neither without the other), kept byte for byte and never in plain text,
// claimed by one worker under a lease, retried with a later due time,
// reclaimed when a lease lapses, and deleted only by its holder, with the
// records that report it.
func testMessageQueue(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	sealer := testSealer(t)
	const plain = `{"to":"ada@example.com","code":"493012"}`
	a := newJob(t, sealer, p.ID, "job-a", t0, plain)
	b := newJob(t, sealer, p.ID, "job-b", t0.Add(time.Second), plain)
	sealedA := bytes.Clone(a.Payload)
	checkNoErr(t, "WriteRecords(code, job)", s.WriteRecords(ctx(t), newCode(p.ID, "email:RESET_PASSWORD", "ada@example.com", "h1", t0.Add(time.Hour)), a))
	checkNoErr(t, "WriteRecords(job)", s.WriteRecords(ctx(t), b))
	if _, err := peekCode(t, s, p.ID, "email:RESET_PASSWORD", "ada@example.com"); err != nil {
		t.Fatalf("the code written with its job: %v", err)
	}

	// All or nothing: a job with a code for a missing pool is not stored.
	err := s.WriteRecords(ctx(t), newJob(t, sealer, p.ID, "job-orphan", t0, plain), newCode("no-such-pool", "sms", "+8613800138000", "h", t0.Add(time.Hour)))
	checkErr(t, "WriteRecords with a code of a missing pool", err, userpool.ErrPoolNotFound)
	if n, err := s.CountDueMessages(ctx(t), t0.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("CountDueMessages = %d, %v; want 2 (the failed write stored no job)", n, err)
	}
	if n, _ := s.CountDueMessages(ctx(t), t0.Add(-time.Second)); n != 0 {
		t.Fatalf("%d jobs due before they were queued", n)
	}

	const lease = time.Minute
	got, err := s.ClaimMessages(ctx(t), "w1", t0, lease, 10)
	checkNoErr(t, "ClaimMessages", err)
	if len(got) != 1 || got[0].ID != "job-a" || got[0].ClaimedBy != "w1" || !got[0].ClaimedUntil.Equal(t0.Add(lease)) ||
		got[0].PoolID != p.ID || got[0].Channel != "email" || got[0].Attempts != 0 || !got[0].CreatedAt.Equal(t0) {
		t.Fatalf("claim at t0: %+v", got)
	}
	if !bytes.Equal(got[0].Payload, sealedA) {
		t.Fatal("the payload did not come back byte for byte")
	}
	if bytes.Contains(got[0].Payload, []byte("ada@example.com")) || bytes.Contains(got[0].Payload, []byte("493012")) {
		t.Fatal("the payload is stored in plain text")
	}
	if opened, err := sealer.Open("job-a", got[0].Payload); err != nil || string(opened) != plain {
		t.Fatalf("the stored payload does not open: %v", err)
	}
	// Held: another worker gets only the other job, and nothing more while
	// the lease holds.
	got2, _ := s.ClaimMessages(ctx(t), "w2", t0.Add(time.Second), lease, 10)
	if len(got2) != 1 || got2[0].ID != "job-b" {
		t.Fatalf("second claimer got %+v", got2)
	}
	if again, _ := s.ClaimMessages(ctx(t), "w3", t0.Add(lease-time.Millisecond), lease, 10); len(again) != 0 {
		t.Fatalf("claimed while leased: %+v", again)
	}

	// Retry: only the holder records it; the job is due again later.
	checkErr(t, "RetryMessage by another worker", s.RetryMessage(ctx(t), "job-a", "w2", 1, t0.Add(10*time.Second), "x"), userpool.ErrNotFound)
	checkNoErr(t, "RetryMessage", s.RetryMessage(ctx(t), "job-a", "w1", 1, t0.Add(10*time.Second), "SMTP 451"))
	if got, _ := s.ClaimMessages(ctx(t), "w3", t0.Add(9*time.Second), lease, 10); len(got) != 0 {
		t.Fatalf("claimed before its retry was due: %+v", got)
	}
	got, _ = s.ClaimMessages(ctx(t), "w3", t0.Add(10*time.Second), lease, 10)
	if len(got) != 1 || got[0].ID != "job-a" || got[0].Attempts != 1 || got[0].LastError != "SMTP 451" || got[0].ClaimedBy != "w3" {
		t.Fatalf("claim of the retry: %+v", got)
	}

	// A lapsed lease lets another worker take the job over; the old holder
	// can then neither retry nor delete it.
	got, _ = s.ClaimMessages(ctx(t), "w4", t0.Add(10*time.Second+lease), lease, 10)
	if len(got) != 2 {
		t.Fatalf("after the leases lapsed: %+v", got)
	}
	checkErr(t, "DeleteMessage by a former holder", s.DeleteMessage(ctx(t), "job-a", "w3"), userpool.ErrNotFound)

	// Delete writes its records in the same transaction; a record that
	// fails leaves the job in place.
	ev := &userpool.AuditEvent{PoolID: p.ID, Event: userpool.AuditCodeSent, CreatedAt: t0}
	checkNoErr(t, "DeleteMessage", s.DeleteMessage(ctx(t), "job-a", "w4", ev))
	evs, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: userpool.AuditCodeSent})
	if err != nil || len(evs) != 1 {
		t.Fatalf("the record written with the deletion: %v %d", err, len(evs))
	}
	bad := &userpool.ValueChange{PoolID: p.ID, UserID: "no-such-user", Set: []*userpool.UserValue{{Key: "nope", Value: "1", DataType: "STRING"}}}
	if err := s.DeleteMessage(ctx(t), "job-b", "w4", bad); err == nil {
		t.Fatal("DeleteMessage with a failing record succeeded")
	}
	checkErr(t, "DeleteMessage of a deleted job", s.DeleteMessage(ctx(t), "job-a", "w4"), userpool.ErrNotFound)
	if n, _ := s.CountDueMessages(ctx(t), t0.Add(time.Hour)); n != 1 {
		t.Fatalf("%d jobs left, want job-b (its failed deletion rolled back)", n)
	}
	checkNoErr(t, "DeleteMessage", s.DeleteMessage(ctx(t), "job-b", "w4"))
	if n, _ := s.CountDueMessages(ctx(t), t0.Add(time.Hour)); n != 0 {
		t.Fatalf("%d jobs left after deleting them all", n)
	}
}

// testRaceClaimMessages lets several workers claim from one queue at once
// until it is empty: every job must be claimed exactly once.
func testRaceClaimMessages(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	sealer := testSealer(t)
	const jobs = 60
	var recs []userpool.Record
	for i := range jobs {
		recs = append(recs, newJob(t, sealer, p.ID, fmt.Sprintf("job-%02d", i), t0, "m"))
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
			got, err := s.ClaimMessages(ctx(t), worker, t0, time.Hour, 3)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, j := range got {
				if prev, ok := claimed[j.ID]; ok {
					dupes = append(dupes, fmt.Sprintf("%s by %s and %s", j.ID, prev, worker))
				}
				claimed[j.ID] = worker
				if j.ClaimedBy != worker {
					dupes = append(dupes, fmt.Sprintf("%s returned to %s claimed by %s", j.ID, worker, j.ClaimedBy))
				}
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil && !errors.Is(err, userpool.ErrNotFound) {
			t.Errorf("ClaimMessages: %v", err)
		}
	}
	for _, d := range dupes {
		t.Errorf("claimed twice: %s", d)
	}
	if len(claimed) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(claimed), jobs)
	}
}
