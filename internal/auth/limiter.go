package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// limiter counts rate-limit hits in the store's shared counters without a
// store write per request where that matters. Limits below limiterBatchMin
// (registrations, logins, CAPTCHAs: hundreds a minute) write every hit and
// are exact across replicas. For large limits (token checks: thousands a
// minute, where a write per check would cost more than the check itself),
// while a counter is far from its limit (this replica's estimate after the
// hit at most an eighth of it) hits are counted here and flushed with the
// next write, at the latest after limiterSync (while one write is under
// way the other hits wait for it, not write too: when it took longer, the
// first hit after it answered writes them); past that every hit is
// written. Answers are raised by the hits this replica allowed but the
// store may not have seen yet (a flush that answered while a write was
// under way may have landed after it), so a replica never lets through
// more than the limit; with several replicas, each can hold back less
// than an eighth of the limit, and racing flushes can refuse a few hits
// early rather than admit late ones.
type limiter struct {
	store userpool.Store

	mu sync.Mutex
	m  map[string]*limitEntry
}

// limiterBatchMin is the smallest limit whose hits are batched.
const limiterBatchMin = 1000

// limiterSync is how stale a local count may get before a hit flushes it.
const limiterSync = 250 * time.Millisecond

// limiterMaxKeys bounds the local table; past it, entries of ended windows
// are dropped (their unflushed hits belong to windows that are over).
const limiterMaxKeys = 50_000

type limitEntry struct {
	count    int64 // the highest count the store has answered
	inflight int64 // hits in writes under way
	pending  int64 // hits counted here, not yet written
	// unflushed are hits this replica allowed without a write (pending,
	// or carried by a write not yet answered). A write's answer does not
	// include them when it lands before their flush, so answers are
	// raised by them: a hit allowed here earlier must not free a place
	// for a later one.
	unflushed int64
	// flushed counts the carried hits of writes that have answered. A
	// write lands in the store before or after another one answers, and
	// its own answer cannot tell which: so it is raised by every carried
	// hit whose write answered while it was under way (see hit).
	flushed int64
	end     time.Time // when the store's window ends
	synced  time.Time // when count was read
	window  time.Duration
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
	e.window = window
	// A write under way will sync the count when it answers: while it
	// is, the other hits count here too, instead of each writing (under
	// load a write takes milliseconds, and every hit meanwhile wrote).
	syncing := e.inflight > 0
	if limit >= limiterBatchMin && now.Before(e.end) && (now.Sub(e.synced) < limiterSync || syncing) && 8*(e.estimate()+1) <= limit {
		e.pending++
		e.unflushed++
		n, end := e.estimate(), e.end
		l.mu.Unlock()
		return n, end, nil
	}
	add, carried := int64(1), int64(0)
	if now.Before(e.end) {
		carried = e.pending
	} else {
		// What was pending belongs to a window that is over.
		e.unflushed -= e.pending
	}
	add += carried
	e.pending = 0
	// Counted as under way before the write starts, so that hits counted
	// here meanwhile see it in the estimate.
	e.inflight += add
	flushedBefore := e.flushed
	l.mu.Unlock()

	n, end, err := l.store.AddCounter(ctx, key, add, window, now)

	l.mu.Lock()
	defer l.mu.Unlock()
	e.inflight -= add
	if err != nil {
		// The carried hits were let through but never reached the store:
		// keep them pending for the next write (a client that aborts its
		// request must not erase them).
		e.pending += carried
		return 0, time.Time{}, err
	}
	e.unflushed -= carried // in the store now
	e.flushed += carried
	switch {
	case end.After(e.end): // the first answer, or a new window
		e.end, e.count = end, n
	case end.Equal(e.end):
		// Concurrent writes answer in any order: keep the highest count.
		e.count = max(e.count, n)
	}
	e.synced = now
	// This hit's count is the store's answer, raised by the hits allowed
	// here that the store may not have seen when this write landed: those
	// still unflushed, and those carried by other writes that answered
	// while this one was under way (they may have landed after it; when
	// they landed before, they are counted twice, which refuses early).
	return n + e.unflushed + (e.flushed - flushedBefore - carried), end, nil
}

// flush writes every hit counted here and not yet written whose window
// has not ended, so that a replica that stops (shutdown) leaves the
// shared counters as it found them: the hits it allowed. It returns the
// number of hits written; a failed write keeps its hits pending and is
// reported.
func (l *limiter) flush(ctx context.Context, now time.Time) (int64, error) {
	type job struct {
		key    string
		e      *limitEntry
		n      int64
		window time.Duration
	}
	l.mu.Lock()
	var jobs []job
	for k, e := range l.m {
		if e.pending > 0 && now.Before(e.end) {
			jobs = append(jobs, job{key: k, e: e, n: e.pending, window: e.window})
			e.inflight += e.pending
			e.pending = 0
		}
	}
	l.mu.Unlock()
	var written int64
	var errs []error
	for _, j := range jobs {
		_, _, err := l.store.AddCounter(ctx, j.key, j.n, j.window, now)
		l.mu.Lock()
		j.e.inflight -= j.n
		if err != nil {
			j.e.pending += j.n
			errs = append(errs, err)
		} else {
			j.e.unflushed -= j.n
			j.e.flushed += j.n
			written += j.n
		}
		l.mu.Unlock()
	}
	return written, errors.Join(errs...)
}

// FlushCounters writes the rate-limit hits this replica counted in memory
// (limiter.go) to the store. The server calls it when it shuts down, once
// no request is being served.
func (s *Service) FlushCounters(ctx context.Context) (int64, error) {
	return s.limits.flush(ctx, s.now())
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
