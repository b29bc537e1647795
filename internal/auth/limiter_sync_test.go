package auth

import (
	"context"
	"sync"
	"testing"
	"time"
)

// heldStore is a countingStore whose writes wait, once held, until
// released: a sync write under way on a loaded database.
type heldStore struct {
	countingStore
	held    chan struct{} // closed to let held writes answer
	entered chan struct{} // one send per held write
	hold    bool
}

func (c *heldStore) AddCounter(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	c.countingStore.mu.Lock()
	hold := c.hold
	c.countingStore.mu.Unlock()
	if hold {
		c.entered <- struct{}{}
		<-c.held
	}
	return c.countingStore.AddCounter(ctx, key, n, window, now)
}

// TestLimiterOneSyncAtATime: when the local count is due for a sync, one
// hit writes it; while that write is under way, the other hits of a large
// limit far from it are counted here, not written each (a write per hit
// until the first answered was a burst of writes every limiterSync under
// load, each costing more than the token check it counted). Every hit
// still reaches the store, with the next flush.
func TestLimiterOneSyncAtATime(t *testing.T) {
	st := &heldStore{held: make(chan struct{}), entered: make(chan struct{}, 64)}
	l := &limiter{store: st}
	ctx := context.Background()
	const limit = 1_000_000
	if _, _, err := l.hit(ctx, "k", limit, time.Minute, tl0); err != nil {
		t.Fatal(err)
	}
	st.countingStore.mu.Lock()
	st.hold = true
	st.countingStore.mu.Unlock()
	later := tl0.Add(limiterSync)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := l.hit(ctx, "k", limit, time.Minute, later); err != nil {
			t.Error(err)
		}
	})
	<-st.entered // the sync write is under way, and held
	const others = 50
	done := make(chan int64, others)
	for range others {
		go func() {
			n, _, err := l.hit(ctx, "k", limit, time.Minute, later)
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
	}
	for range others {
		select {
		case <-done:
		case <-st.entered:
			t.Fatal("a second write started while the sync write was under way")
		case <-time.After(10 * time.Second):
			t.Fatal("hits waited for the sync write under way")
		}
	}
	close(st.held)
	wg.Wait()
	st.countingStore.mu.Lock()
	writes := st.writes
	st.countingStore.mu.Unlock()
	if writes != 2 {
		t.Fatalf("%d writes, want 2 (the first hit, the sync)", writes)
	}
	if _, err := l.flush(ctx, later); err != nil {
		t.Fatal(err)
	}
	if got := st.count["k"]; got != 2+others {
		t.Fatalf("store counts %d hits after the flush, want %d", got, 2+others)
	}
}
