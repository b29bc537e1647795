package auth

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// countingStore is the part of a Store the limiter uses: one shared counter
// per key, like the real table, recording how many writes reached it.
type countingStore struct {
	userpool.Store
	mu     sync.Mutex
	count  map[string]int64
	end    map[string]time.Time
	writes int
}

func (c *countingStore) AddCounter(_ context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.count == nil {
		c.count, c.end = map[string]int64{}, map[string]time.Time{}
	}
	if !now.Before(c.end[key]) {
		c.count[key], c.end[key] = 0, now.Add(window)
	}
	c.count[key] += n
	return c.count[key], c.end[key], nil
}

var tl0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestLimiterSmallLimitsAreExact: with a limit of 9, every hit is written,
// so replicas sharing the store together allow exactly 9.
func TestLimiterSmallLimitsAreExact(t *testing.T) {
	st := &countingStore{}
	a, b := &limiter{store: st}, &limiter{store: st}
	allowed := 0
	for i := range 20 {
		l := a
		if i%3 == 1 {
			l = b
		}
		n, _, err := l.hit(context.Background(), "k", 9, time.Minute, tl0)
		if err != nil {
			t.Fatal(err)
		}
		if n <= 9 {
			allowed++
		}
	}
	if allowed != 9 || st.writes != 20 {
		t.Fatalf("allowed %d (want 9), writes %d (want 20)", allowed, st.writes)
	}
}

// TestLimiterConcurrentHitsAreNotLost: many goroutines on one replica, a
// limit of 120: exactly 120 are allowed, whatever the interleaving of
// local counting and writes under way.
func TestLimiterConcurrentHitsAreNotLost(t *testing.T) {
	st := &countingStore{}
	l := &limiter{store: st}
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 400 {
		wg.Go(func() {
			n, _, err := l.hit(context.Background(), "k", 120, time.Minute, tl0)
			if err != nil {
				t.Error(err)
			}
			if n <= 120 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 120 {
		t.Fatalf("allowed %d of 400 against a limit of 120", allowed)
	}
	if st.count["k"] != 400 {
		t.Fatalf("store counted %d hits, want 400", st.count["k"])
	}
}

// TestLimiterBatchesFarFromTheLimit: far below a large limit, hits are
// counted locally and flushed together; every hit reaches the store.
func TestLimiterBatchesFarFromTheLimit(t *testing.T) {
	st := &countingStore{}
	l := &limiter{store: st}
	ctx := context.Background()
	for i := range 1000 {
		n, _, err := l.hit(ctx, "k", 1_000_000, time.Minute, tl0)
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(i+1) {
			t.Fatalf("hit %d counted as %d", i+1, n)
		}
	}
	if st.writes != 1 {
		t.Fatalf("%d store writes for 1000 hits within the sync interval, want 1", st.writes)
	}
	// After the sync interval the next hit flushes everything.
	n, _, _ := l.hit(ctx, "k", 1_000_000, time.Minute, tl0.Add(limiterSync))
	if n != 1001 || st.count["k"] != 1001 || st.writes != 2 {
		t.Fatalf("after sync: n %d, store %d, writes %d", n, st.count["k"], st.writes)
	}
}

// TestLimiterNearTheLimitIsExact: once the estimate passes half the limit,
// every hit is written, so the limit refuses at exactly max+1.
func TestLimiterNearTheLimitIsExact(t *testing.T) {
	st := &countingStore{}
	l := &limiter{store: st}
	var last int64
	for range 120 {
		n, _, _ := l.hit(context.Background(), "k", 100, time.Minute, tl0)
		last = n
	}
	if last != 120 || st.count["k"] != 120 {
		t.Fatalf("last count %d, store %d: hits past the limit must reach the store", last, st.count["k"])
	}
	// A new window starts over and drops nothing of the new one.
	n, end, _ := l.hit(context.Background(), "k", 100, time.Minute, tl0.Add(time.Minute))
	if n != 1 || !end.Equal(tl0.Add(2*time.Minute)) {
		t.Fatalf("new window: %d %v", n, end)
	}
}

// slowStore answers after random delays, so that concurrent writes land
// and answer in any order, as on PostgreSQL with many connections.
type slowStore struct{ countingStore }

func (c *slowStore) AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	a, b, err := c.countingStore.AddCounter(ctx, key, n, window, now)
	time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	return a, b, err
}

// TestLimiterNeverAdmitsMoreThanTheLimit hammers one key with concurrent
// hits whose writes land out of order: a small limit is exact, a batched
// one never lets more than the limit through (it may refuse a few early).
func TestLimiterNeverAdmitsMoreThanTheLimit(t *testing.T) {
	for _, tc := range []struct {
		limit, hits int64
		exact       bool
	}{{120, 200, true}, {1000, 1600, false}} {
		for round := range 20 {
			st := &slowStore{}
			l := &limiter{store: st}
			var allowed atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range tc.hits {
				wg.Go(func() {
					<-start
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
					if n, _, _ := l.hit(context.Background(), "k", tc.limit, time.Minute, tl0); n <= tc.limit {
						allowed.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			got := allowed.Load()
			if got > tc.limit || (tc.exact && got != tc.limit) || got < tc.limit-tc.limit/8 {
				t.Fatalf("limit %d, round %d: %d allowed", tc.limit, round, got)
			}
			if st.count["k"] != tc.hits {
				t.Fatalf("limit %d, round %d: store counted %d of %d hits", tc.limit, round, st.count["k"], tc.hits)
			}
		}
	}
}

// failingStore fails its first write, like a request aborted mid-write.
type failingStore struct {
	countingStore
	failed bool
}

func (c *failingStore) AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	if !c.failed && c.writes > 0 {
		c.failed = true
		return 0, time.Time{}, context.Canceled
	}
	return c.countingStore.AddCounter(ctx, key, n, window, now)
}

// TestLimiterKeepsHitsOfAFailedWrite: hits counted locally and carried by a
// write that fails stay counted; the next write stores them.
func TestLimiterKeepsHitsOfAFailedWrite(t *testing.T) {
	st := &failingStore{}
	l := &limiter{store: st}
	ctx := context.Background()
	for range 10 { // the first is written, the other nine batched
		if _, _, err := l.hit(ctx, "k", 1_000_000, time.Minute, tl0); err != nil {
			t.Fatal(err)
		}
	}
	// The flush (after the sync interval) fails...
	if _, _, err := l.hit(ctx, "k", 1_000_000, time.Minute, tl0.Add(limiterSync)); err == nil {
		t.Fatal("the failing write did not fail")
	}
	// ...and the next one carries everything: 1 + 9 + the failed hit's own
	// (refused with an error, so not counted) + this one.
	n, _, err := l.hit(ctx, "k", 1_000_000, time.Minute, tl0.Add(limiterSync))
	if err != nil {
		t.Fatal(err)
	}
	if st.count["k"] != 11 || n != 11 {
		t.Fatalf("store %d, answer %d: want 11 hits counted", st.count["k"], n)
	}
}

// gatedStore holds chosen writes (numbered in the order they reach it)
// before they land and before they answer, so a test can order landings
// and answers of concurrent writes exactly.
type gatedStore struct {
	countingStore
	mu    sync.Mutex
	calls int
	gates map[int]*writeGate
}

type writeGate struct{ entered, land, landed, answer chan struct{} }

func newWriteGate() *writeGate {
	return &writeGate{make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})}
}

func (c *gatedStore) AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	g := c.gates[c.calls]
	c.calls++
	c.mu.Unlock()
	if g == nil {
		return c.countingStore.AddCounter(ctx, key, n, window, now)
	}
	close(g.entered)
	<-g.land
	a, b, err := c.countingStore.AddCounter(ctx, key, n, window, now)
	close(g.landed)
	<-g.answer
	return a, b, err
}

// TestLimiterFlushAnsweredFirstStillCounts: a write W lands before a flush
// F that carries hits this replica already let through, but F answers
// first. W's answer from the store does not include F's hits, and F's
// answer took them off the hits "not yet in the store", so W must still
// be raised by them, or the replica admits more than the limit.
func TestLimiterFlushAnsweredFirstStillCounts(t *testing.T) {
	const limit = 1000
	st := &gatedStore{gates: map[int]*writeGate{1: newWriteGate(), 878: newWriteGate()}}
	l := &limiter{store: st}
	ctx := context.Background()
	admitted := 0
	hit := func(now time.Time) int64 {
		n, _, err := l.hit(ctx, "k", limit, time.Minute, now)
		if err != nil {
			t.Error(err)
		}
		if n <= limit {
			admitted++
		}
		return n
	}
	// Write 0, then 123 hits counted here (an eighth of the limit).
	for range 124 {
		hit(tl0)
	}
	if st.writes != 1 {
		t.Fatalf("%d writes for the first 124 hits, want 1", st.writes)
	}
	t1 := tl0.Add(limiterSync)
	type answer struct {
		n        int64
		admitted bool
	}
	async := func() chan answer {
		ch := make(chan answer, 1)
		go func() {
			n, _, err := l.hit(ctx, "k", limit, time.Minute, t1)
			if err != nil {
				t.Error(err)
			}
			ch <- answer{n, n <= limit}
		}()
		return ch
	}
	// Write 1 is the flush F: it carries the 123 hits and its own, and
	// is held before it lands.
	f, fg := async(), st.gates[1]
	<-fg.entered
	// Writes 2..877 land and answer in turn (store 2..877).
	for range 876 {
		hit(t1)
	}
	// Write 878 (W) lands at 878, then waits to answer.
	w, wgate := async(), st.gates[878]
	close(wgate.land)
	<-wgate.landed
	// F lands after W (store 1002) but answers before it.
	close(fg.land)
	<-fg.landed
	close(fg.answer)
	fa := <-f
	close(wgate.answer)
	wa := <-w
	for _, a := range []answer{fa, wa} {
		if a.admitted {
			admitted++
		}
	}
	if st.count["k"] != 1002 {
		t.Fatalf("store counted %d hits, want 1002", st.count["k"])
	}
	if admitted > limit {
		t.Fatalf("%d admitted against a limit of %d (W answered %d, F %d): W's answer left out F's hits", admitted, limit, wa.n, fa.n)
	}
}

// TestLimiterFlush: a flush (shutdown) writes every batched hit of a
// window still open, with the window it was counted in; nothing of an
// ended window; a failed flush keeps its hits for the next write; a second
// flush writes nothing more.
func TestLimiterFlush(t *testing.T) {
	st := &failingStore{}
	l := &limiter{store: st}
	ctx := context.Background()
	for range 10 { // one write, nine batched
		if _, _, err := l.hit(ctx, "open", 1_000_000, time.Minute, tl0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.flush(ctx, tl0); err == nil {
		t.Fatal("the failing flush reported no error")
	}
	if st.count["open"] != 1 {
		t.Fatalf("store %d after a failed flush", st.count["open"])
	}
	for range 5 { // a short window that will have ended at the flush
		if _, _, err := l.hit(ctx, "short", 1_000_000, time.Second, tl0); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.flush(ctx, tl0.Add(2*time.Second))
	if err != nil || n != 9 {
		t.Fatalf("flushed %d (%v), want the 9 batched hits of the open window", n, err)
	}
	if st.count["open"] != 10 || st.count["short"] != 1 {
		t.Fatalf("store: open %d (want 10), short %d (want 1: its batched hits belong to an ended window)", st.count["open"], st.count["short"])
	}
	if st.end["open"] != tl0.Add(time.Minute) {
		t.Fatalf("window end %v", st.end["open"])
	}
	if n, err := l.flush(ctx, tl0.Add(2*time.Second)); err != nil || n != 0 {
		t.Fatalf("a second flush wrote %d (%v)", n, err)
	}
	// The estimate after the flush still counts every hit once.
	got, _, err := l.hit(ctx, "open", 1_000_000, time.Minute, tl0.Add(2*time.Second))
	if err != nil || got != 11 {
		t.Fatalf("after the flush a hit answers %d (%v), want 11", got, err)
	}
}
