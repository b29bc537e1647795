package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// TestPoolsShareSlotsFairly: pool A's scripts busy-wait in every slot they
// can get, yet pool B's fast script runs at once: one pool holds at most
// its share of the slots.
func TestPoolsShareSlotsFairly(t *testing.T) {
	r := NewRunner(nil, Config{Concurrency: 2}, nil, nil)
	slow := script(`async function pipe(user, context, callback) { var t = Date.now(); while (Date.now() - t < 2500) {} callback(null, user) }`)
	slow.Timeout = 3 * time.Second
	quick := script(`async function pipe(user, context, callback) { callback(null, user) }`)
	quick.Timeout = 1500 * time.Millisecond

	a := input()
	a.PoolID = "a"
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { r.Try(context.Background(), slow, a) })
	}
	// Pool A has taken all it may and queues the rest.
	for deadline := time.Now().Add(5 * time.Second); ; {
		r.slots.mu.Lock()
		held, queued := r.slots.held["a"], len(r.slots.queue)
		r.slots.mu.Unlock()
		if held >= 1 && queued >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool A holds %d slots with %d queued", held, queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := input()
	b.PoolID = "b"
	if tr := r.Try(context.Background(), quick, b); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("pool B while pool A is busy: %s %q", tr.Outcome, tr.Message)
	}
	wg.Wait()
}

// TestSlotsQueue: a waiter gets a freed slot only under its pool's share,
// first come first served; one that gives up leaves the queue.
func TestSlotsQueue(t *testing.T) {
	s := newSlots(2, 1)
	bg := context.Background()
	soon := func() time.Time { return time.Now().Add(50 * time.Millisecond) }
	if !s.acquire(bg, "a", soon()) || !s.acquire(bg, "b", soon()) {
		t.Fatal("free slots not taken")
	}
	if s.acquire(bg, "c", soon()) {
		t.Fatal("a third slot of two")
	}
	if len(s.queue) != 0 {
		t.Fatalf("a waiter that gave up is still queued: %d", len(s.queue))
	}
	got := make(chan string, 2)
	go func() {
		if s.acquire(bg, "a", time.Now().Add(5*time.Second)) {
			got <- "a"
		}
	}()
	for {
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	go func() {
		if s.acquire(bg, "c", time.Now().Add(5*time.Second)) {
			got <- "c"
		}
	}()
	// b's slot frees: a is first in the queue but at its share, so c gets
	// it; then a's first slot frees and the second a gets it.
	time.Sleep(20 * time.Millisecond)
	s.done("b")
	if w := <-got; w != "c" {
		t.Fatalf("the freed slot went to %s", w)
	}
	s.done("a")
	if w := <-got; w != "a" {
		t.Fatalf("the freed slot went to %s", w)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if s.acquire(ctx, "d", time.Now().Add(time.Second)) {
		t.Fatal("a cancelled wait got a slot")
	}
}

// fakeStore holds one pool's pipelines and records nothing.
type fakeStore struct{ ps []*userpool.Pipeline }

func (f fakeStore) ListPipelines(context.Context, string, userpool.PipelineStage) ([]*userpool.Pipeline, error) {
	return f.ps, nil
}
func (fakeStore) AppendPipelineLog(context.Context, *userpool.PipelineLog, int) error { return nil }
func (fakeStore) AppendAudit(context.Context, *userpool.AuditEvent) error             { return nil }

// TestRunBusyIsUnavailable: a flow whose pipeline gets no slot within its
// time limit is refused as busy (1008, with a time to retry), not as a
// failure of the server.
func TestRunBusyIsUnavailable(t *testing.T) {
	p := script(`async function pipe(user, context, callback) { callback(null, user) }`)
	p.Timeout = 100 * time.Millisecond
	r := NewRunner(fakeStore{ps: []*userpool.Pipeline{p}}, Config{Concurrency: 1}, nil, nil)
	r.slots.acquire(context.Background(), "p1", time.Now().Add(time.Second))
	_, err := r.Run(context.Background(), input())
	var le *userpool.LimitError
	if e := userpool.AsError(err); e.Code != userpool.CodeUnavailable || e.Reason != "pipelines_busy" || !errors.As(err, &le) || le.RetryAfter() <= 0 {
		t.Fatalf("run without a slot: %v", err)
	}
	r.slots.done("p1")
	if _, err := r.Run(context.Background(), input()); err != nil {
		t.Fatalf("run with a slot: %v", err)
	}
}
