package pipeline

import (
	"context"
	"sync"
	"time"
)

// slots are the script runs a server allows at once, shared fairly by the
// user pools: one pool holds at most perPool of them, so a pool whose
// scripts are slow (or busy-wait until their limit) leaves the rest to the
// others, and the runs that wait are served first come, first served among
// the pools still under their share.
type slots struct {
	mu      sync.Mutex
	free    int
	perPool int
	held    map[string]int // by pool
	queue   []*slotWait
}

type slotWait struct {
	pool    string
	granted chan struct{} // closed when the slot is the waiter's
}

func newSlots(total, perPool int) *slots {
	return &slots{free: total, perPool: perPool, held: map[string]int{}}
}

// acquire waits until pool may take a slot, at most until deadline (the
// run's own time limit: waiting counts against it) or ctx's end; false
// when none came.
func (s *slots) acquire(ctx context.Context, pool string, deadline time.Time) bool {
	s.mu.Lock()
	if len(s.queue) == 0 && s.free > 0 && s.held[pool] < s.perPool {
		s.take(pool)
		s.mu.Unlock()
		return true
	}
	w := &slotWait{pool: pool, granted: make(chan struct{})}
	s.queue = append(s.queue, w)
	s.grant() // the queue may hold only pools at their share
	s.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-w.granted:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-w.granted: // granted as the wait ended: give it back
		s.release(pool)
	default:
		for i, q := range s.queue {
			if q == w {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
	}
	return false
}

// done gives pool's slot back.
func (s *slots) done(pool string) {
	s.mu.Lock()
	s.release(pool)
	s.mu.Unlock()
}

func (s *slots) take(pool string) {
	s.free--
	s.held[pool]++
}

func (s *slots) release(pool string) {
	s.free++
	if s.held[pool]--; s.held[pool] <= 0 {
		delete(s.held, pool)
	}
	s.grant()
}

// grant hands free slots to the first waiters whose pool is under its
// share.
func (s *slots) grant() {
	for i := 0; i < len(s.queue) && s.free > 0; {
		w := s.queue[i]
		if s.held[w.pool] >= s.perPool {
			i++
			continue
		}
		s.take(w.pool)
		close(w.granted)
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
	}
}
