package auth

import (
	"context"
	"sync"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// limiter counts rate-limit hits in the store's shared counters without a
// store write per request. While a counter is far from its limit (this
// replica's estimate after the hit at most an eighth of it), hits are
// counted here and flushed with the next write, which happens at the latest
// after limiterSync. Past that every hit goes to the store. So limits below
// 16 are always exact, and a larger limit is exact across up to 8 replicas
// (each holds back less than an eighth before it writes every hit); beyond
// that, each further replica can let through at most an eighth of the limit
// more per window. The token-check limit (thousands a minute) is where this
// matters: a write per check would cost more than the check itself.
type limiter struct {
	store userpool.Store

	mu sync.Mutex
	m  map[string]*limitEntry
}

// limiterSync is how stale a local count may get before a hit flushes it.
const limiterSync = 250 * time.Millisecond

// limiterMaxKeys bounds the local table; past it, entries of ended windows
// are dropped (their unflushed hits belong to windows that are over).
const limiterMaxKeys = 50_000

type limitEntry struct {
	count    int64     // the highest count the store has answered
	inflight int64     // hits in writes under way
	pending  int64     // hits counted here, not yet written
	end      time.Time // when the store's window ends
	synced   time.Time // when count was read
}

// estimate is what the shared counter holds at least, as far as this
// replica knows.
func (e *limitEntry) estimate() int64 { return e.count + e.inflight + e.pending }

// hit counts one hit of key against limit per window and returns the
// count (the store's, plus this replica's unflushed hits) and when the
// window ends.
func (l *limiter) hit(ctx context.Context, key string, limit int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	l.mu.Lock()
	e := l.entry(key, now)
	if now.Before(e.end) && now.Sub(e.synced) < limiterSync && 8*(e.estimate()+1) <= limit {
		e.pending++
		n, end := e.estimate(), e.end
		l.mu.Unlock()
		return n, end, nil
	}
	add := int64(1)
	if now.Before(e.end) {
		add += e.pending
	} // else what was pending belongs to a window that is over
	e.pending = 0
	// Counted as under way before the write starts, so that hits counted
	// here meanwhile see it in the estimate.
	e.inflight += add
	l.mu.Unlock()

	n, end, err := l.store.AddCounter(ctx, key, add, window, now)

	l.mu.Lock()
	defer l.mu.Unlock()
	e.inflight -= add
	if err != nil {
		return 0, time.Time{}, err
	}
	switch {
	case end.After(e.end): // the first answer, or a new window
		e.end, e.count = end, n
	case end.Equal(e.end):
		// Concurrent writes answer in any order: keep the highest count.
		e.count = max(e.count, n)
	}
	e.synced = now
	// This hit's own count is the store's answer: exact, whatever else is
	// under way.
	return n, end, nil
}

// entry returns key's entry, making one (and room for it) when needed.
// l.mu is held.
func (l *limiter) entry(key string, now time.Time) *limitEntry {
	if e := l.m[key]; e != nil {
		return e
	}
	if l.m == nil {
		l.m = make(map[string]*limitEntry)
	}
	if len(l.m) >= limiterMaxKeys {
		// Writes under way keep their entry pointer; dropping it from the
		// table only forgets what they will answer.
		for k, x := range l.m {
			if !now.Before(x.end) && x.inflight == 0 {
				delete(l.m, k)
			}
		}
		if len(l.m) >= limiterMaxKeys {
			clear(l.m)
		}
	}
	e := new(limitEntry)
	l.m[key] = e
	return e
}
