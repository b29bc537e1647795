package auth

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// The per-account budget of password checks in flight.
//
// A password login takes a charge against its account before its password
// is checked: the charge counters count the checks under way, and a charge
// is granted only while charges plus the failures already counted stay
// within LoginFailureThreshold. A failure is
// counted before its charge is released, and a charge is taken before the
// failures are read, so a parallel burst of guesses, on any number of
// replicas, gets at most threshold password checks (see grant).
//
// An attempt that finds the budget taken by checks in flight does not
// fail: it waits for them to resolve. A right password gives its charge
// back (and resets the failures, as before), a wrong one turns it into a
// failure. The wait ends as soon as a charge can be had, or when the
// failures alone reach the threshold (then the CAPTCHA applies at once, as
// it would have without the wait). It also ends, the attempt then being
// treated as over the threshold (2000, or its CAPTCHA is checked), when
// no check of the account has resolved for loginStall, and at the latest
// after loginWaitCap or at the request's deadline. The wait is bounded by
// progress rather than by a fixed time because a burst of right passwords
// on a loaded server resolves slowly but steadily; an attacker cannot
// stretch it, since a wrong password resolves as a failure, and enough
// failures end every wait at once.
//
// Waiting holds no database connection and no hashing slot: waiters
// sleep. The store is the source of truth; a replica wakes its own waiters
// when one of its attempts resolves, and polls the store every loginPoll
// for attempts resolved on other replicas. Per account, only one waiter
// of a replica (the one holding the turn) watches the store; the others
// queue behind it, so a burst costs one read per poll, not one per waiter.
//
// The charges are counted per window of time (chargeWindow, aligned to
// the epoch): a charge taken in window i adds one to the key
// "lf:chg:<pool>:<account>:<i>" and is given back to that same key, and
// the charges held are those of the current window and the one before.
// So a window ending never forgets a charge still held (a charge counts
// for at least chargeWindow, far longer than a password check), and a
// give-back never takes a place from a later window's count. (One counter
// that restarted when its window ended did both: at the window's edge a
// burst got up to twice the threshold of checks, issue 10 review finding
// 2.) A charge whose give-back was lost, because a replica died in
// mid-check, holds its place for at most two windows.

const (
	// loginStall ends a wait in which no check of the account resolved
	// for that long: the checks ahead are stuck (a replica died in
	// mid-check, or the server is overwhelmed).
	loginStall = 5 * time.Second
	// loginWaitCap bounds a wait in all, well within the server's write
	// timeout (60 s).
	loginWaitCap = 20 * time.Second
	// loginPoll is how often a waiter reads the store for attempts
	// resolved on other replicas.
	loginPoll = 25 * time.Millisecond
	// chargeWindow is the length of a charge counter's window. A charge
	// lives for one password check (the wait for a place comes before
	// it), which must take less than chargeWindow: a charge still held
	// two windows after it was taken no longer counts. The window also
	// bounds how long the charges of a replica that died in mid-check
	// hold a place (at most two windows).
	chargeWindow = time.Minute
)

// chargeKey names the account's budget: its waiters, and the prefix of
// its charge counters.
func chargeKey(poolID, acct string) string { return "lf:chg:" + poolID + ":" + acct }

func (g *loginGuard) chargeKey() string { return chargeKey(g.poolID, g.acct) }

// chargeWindowAt is the index of the charge window holding t.
func chargeWindowAt(t time.Time) int64 { return t.UnixNano() / int64(chargeWindow) }

// windowKey is the charge counter of window i.
func (g *loginGuard) windowKey(i int64) string {
	return g.chargeKey() + ":" + strconv.FormatInt(i, 10)
}

// reserve gives the attempt a place in its account's budget, waiting for
// one when checks in flight hold it. On return either g.charged is set, or
// g.overBudget (the failures reached the threshold, or the wait ended).
func (g *loginGuard) reserve(ctx context.Context) error {
	ok, err := g.grant(ctx)
	if ok || err != nil || g.overBudget {
		return err
	}
	start := time.Now()
	hard := start.Add(loginWaitCap)
	if d, has := ctx.Deadline(); has && d.Before(hard) {
		hard = d
	}
	key := g.chargeKey()
	w := &g.s.waits
	e := w.join(key)
	defer w.leave(key, e)
	g.waited = true

	head := false
	lastN := int64(-1)
	poll := time.NewTicker(loginPoll)
	defer poll.Stop()
	for {
		// Taken before the store is read, so a release after the read
		// still wakes us.
		freed := w.freed(e)
		wait := time.Until(w.deadline(e, start, hard))
		if wait <= 0 {
			g.overBudget = true
			return nil
		}
		timer := time.NewTimer(wait)
		if !head {
			// Queued behind this replica's head waiter: wake on a release
			// here (to watch the deadline move) or when the turn is ours.
			select {
			case e.turn <- struct{}{}:
				head = true
				// Passing the turn on lets the next waiter look at once:
				// the budget may have room for it too.
				defer func() { <-e.turn }()
			case <-freed:
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			}
			timer.Stop()
			continue
		}
		room, n, err := g.room(ctx)
		if err != nil || g.overBudget {
			timer.Stop()
			return err
		}
		if lastN >= 0 && n < lastN {
			// Checks resolved on another replica.
			w.progressed(e)
		}
		lastN = n
		if room {
			if ok, err := g.grant(ctx); ok || err != nil || g.overBudget {
				timer.Stop()
				return err
			}
		}
		select {
		case <-freed:
		case <-poll.C:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		timer.Stop()
	}
}

// grant takes a charge and keeps it when the charges (this one included)
// and the failures counted are within the threshold; otherwise it gives
// the charge back and, when the failures alone reach the threshold, sets
// g.overBudget.
//
// Why at most threshold checks: the charge is counted before the failures
// are read, and a failing attempt counts its failure before it releases
// its charge. So when the last of threshold+1 granted attempts took its
// charge, each earlier one still held its charge (counted in n) or had
// already counted its failure (in f): n+f > threshold, and it would not
// have been granted. Only a right password, which resets the failures,
// makes room for more.
func (g *loginGuard) grant(ctx context.Context) (bool, error) {
	limit := int64(g.set.LoginFailureThreshold)
	now := g.s.now()
	i := chargeWindowAt(now)
	// The counter lives two windows from its first charge, so it is still
	// there (never restarted) while window i+1 reads it as the one before.
	n, _, err := g.s.store.IncrCounter(ctx, g.windowKey(i), 2*chargeWindow, now)
	if err != nil {
		return false, err
	}
	g.chargeWin = i
	// The window before and the failures, read in one statement after the
	// charge is counted (never in the increment's own statement: its
	// snapshot would precede the increment, which the argument above needs
	// to come first).
	var f int64
	c, err := g.s.store.GetCounters(ctx, []string{g.windowKey(i - 1), g.acctFailKey()}, now)
	if err == nil {
		n += c[0]
		f = c[1]
	}
	if err == nil && n+f <= limit {
		g.charged, g.acctFails = true, f
		return true, nil
	}
	g.giveBack(ctx)
	if err != nil {
		return false, err
	}
	g.acctFails = f
	g.overBudget = f >= limit
	return false, nil
}

// room reads whether the budget looks free, so that a waiter writes only
// when a charge may be had, and the checks in flight n; it sets
// g.overBudget when the failures alone reach the threshold.
func (g *loginGuard) room(ctx context.Context) (bool, int64, error) {
	limit := int64(g.set.LoginFailureThreshold)
	now := g.s.now()
	i := chargeWindowAt(now)
	c, err := g.s.store.GetCounters(ctx, []string{g.acctFailKey(), g.windowKey(i - 1), g.windowKey(i)}, now)
	if err != nil {
		return false, 0, err
	}
	f, n := c[0], c[1]+c[2]
	if f >= limit {
		g.acctFails, g.overBudget = f, true
		return false, 0, nil
	}
	return n+f < limit, n, nil
}

// release ends the attempt's charge once it has resolved: a failure was
// counted by fail before, a success reset the failures. Every exit of a
// password login calls it (deferred). It wakes this replica's waiters.
// A login that wrote its give-back with its own transaction (settles)
// has given the charge back already.
// When fail could not count the failure, the charge is kept instead: it
// stands for the failure until its window ends.
func (g *loginGuard) release(ctx context.Context) {
	if g == nil || !g.charged {
		return
	}
	g.charged = false
	if !g.keepCharge && (g.gave == nil || !g.gave.Sent) {
		g.giveBack(ctx)
	}
	g.s.waits.resolved(g.chargeKey())
}

// giveBack takes the attempt's charge off the counter of the window it
// was taken in (grant). It must happen even when the client has gone
// away: a lost give-back holds a place until that counter ends.
func (g *loginGuard) giveBack(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := g.s.store.DecrCounter(ctx, g.windowKey(g.chargeWin), g.s.now()); err != nil {
		g.s.log.LogAttrs(ctx, slog.LevelWarn, "giving back a login charge failed", slog.String("error", err.Error()))
	}
}

// waiters are this replica's attempts waiting for a place in an account's
// budget, by charge key.
type waiters struct {
	mu sync.Mutex
	m  map[string]*waitEntry
}

type waitEntry struct {
	// turn is held by the one waiter that watches the store; the others
	// queue to send on it.
	turn chan struct{}
	// released is closed (and replaced) when an attempt on this replica
	// gives back a charge of the account.
	released chan struct{}
	// progress is when a check of the account was last seen to resolve.
	progress time.Time
	refs     int
}

func (w *waiters) join(key string) *waitEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[string]*waitEntry)
	}
	e := w.m[key]
	if e == nil {
		e = &waitEntry{turn: make(chan struct{}, 1), released: make(chan struct{})}
		w.m[key] = e
	}
	e.refs++
	return e
}

func (w *waiters) leave(key string, e *waitEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(w.m, key)
	}
}

func (w *waiters) freed(e *waitEntry) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return e.released
}

// resolved wakes the waiters of key, if any.
func (w *waiters) resolved(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.m[key]; e != nil {
		close(e.released)
		e.released = make(chan struct{})
		e.progress = time.Now()
	}
}

// progressed records a check resolved on another replica.
func (w *waiters) progressed(e *waitEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e.progress = time.Now()
}

// deadline is when a wait that began at start ends: loginStall after the
// later of start and the last progress seen, and never after hard.
func (w *waiters) deadline(e *waitEntry, start, hard time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := start
	if e.progress.After(d) {
		d = e.progress
	}
	d = d.Add(loginStall)
	if hard.Before(d) {
		return hard
	}
	return d
}
