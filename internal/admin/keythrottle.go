package admin

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// Wrong administrator keys are throttled per client address (docs/SECURITY.md):
// KeyFailureLimit wrong keys in a KeyFailureWindow are answered 401; past
// that, until the window ends, a wrong key is answered 429 with a
// Retry-After and the address's first refusal is audited. The count is a
// store counter, so replicas share it.
//
// A right key is still accepted from a throttled address. A key is 256
// random bits (or a configured 32 characters and more), so the throttle
// does not guard its entropy; it stops a flood from being answered as if
// each guess were worth checking, makes it visible, and must not lock the
// administrator out when an attacker shares their address (a NAT, or a
// proxy the server was not told to trust).
const (
	KeyFailureLimit  = 20
	KeyFailureWindow = time.Minute

	// AuditKeyThrottled is the audit event of an address's first throttled
	// key in a window, in the default pool's log (the administrator key is
	// not a pool's). Detail: limit, window.
	AuditKeyThrottled = "admin.key_throttled"

	// throttleMemory bounds the addresses this replica remembers as
	// throttled; past it, failures are counted in the store only.
	throttleMemory = 10_000

	// keyCacheAge is how long the stored keys' hashes read for a throttled
	// address are used again, for all throttled addresses together.
	keyCacheAge = time.Second
)

// keyThrottle remembers, per replica, which addresses are throttled until
// when, so that a flood of wrong keys past the limit costs no store write;
// and the stored keys' hashes, so that it costs (nearly) no store read.
type keyThrottle struct {
	mu    sync.Mutex
	until map[string]time.Time

	keys keyCache
}

// keyCache holds the stored keys' hashes as read at a time. Only keys
// presented from a throttled address are judged by it: a key stored or
// replaced on another replica counts for them within keyCacheAge, for
// every other address at once.
type keyCache struct {
	mu     sync.Mutex
	hashes []acceptedKey
	read   time.Time
	valid  bool
}

// get returns the hashes, read again through load when older than
// keyCacheAge. Callers wait for one read rather than each making one.
func (c *keyCache) get(now time.Time, load func() ([]acceptedKey, error)) ([]acceptedKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && !now.Before(c.read) && now.Sub(c.read) < keyCacheAge {
		return c.hashes, nil
	}
	hashes, err := load()
	if err != nil {
		return nil, err
	}
	c.hashes, c.read, c.valid = hashes, now, true
	return hashes, nil
}

func (t *keyThrottle) get(ip string, now time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.until[ip]
	if ok && !now.Before(u) {
		delete(t.until, ip)
		return time.Time{}, false
	}
	return u, ok
}

func (t *keyThrottle) set(ip string, until, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.until == nil {
		t.until = map[string]time.Time{}
	}
	if len(t.until) >= throttleMemory {
		for k, u := range t.until {
			if !now.Before(u) {
				delete(t.until, k)
			}
		}
		if len(t.until) >= throttleMemory {
			return
		}
	}
	t.until[ip] = until
}

// CheckKey accepts presented when it is an administrator key, comparing
// hashes in constant time; a wrong key counts against the allowance of
// the caller's address m.ClientIP (see KeyFailureLimit). An empty key is
// not a guess: it is refused without being counted. The throttle is
// looked at first: a throttled address's key is compared with hashes at
// most keyCacheAge old, so that its flood costs no store work, while its
// right key is still accepted.
func (a *Service) CheckKey(ctx context.Context, m auth.Meta, presented string) error {
	_, err := a.Authenticate(ctx, m, presented)
	return err
}

// keyHashes returns the accepted keys' hashes. Unless a key is
// configured, the stored keys are read on every call (a table of one row;
// administration requests are few), so that a key stored by another
// replica, or replaced by `authpool admin reset-key`, counts at once.
func (a *Service) keyHashes(ctx context.Context) ([][]byte, error) {
	a.mu.RLock()
	configured := a.configured
	a.mu.RUnlock()
	if configured != nil {
		return [][]byte{configured}, nil
	}
	stored, err := a.store.AdminKeys(ctx)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, 0, len(stored))
	for _, k := range stored {
		hashes = append(hashes, k.Hash)
	}
	return hashes, nil
}

// matchesAny compares presented's hash with every one of hashes in
// constant time.
func matchesAny(presented string, hashes [][]byte) bool {
	h := hashKey(presented)
	ok := 0
	for _, k := range hashes {
		ok |= subtle.ConstantTimeCompare(h, k)
	}
	return ok == 1
}

// keyFailure counts a wrong key of m's address and returns its refusal:
// 401 within the allowance, 429 past it.
func (a *Service) keyFailure(ctx context.Context, m auth.Meta) error {
	ip := auth.IPKey(m.ClientIP)
	now := a.now()
	if until, ok := a.throttle.get(ip, now); ok {
		return keyThrottled(until.Sub(now))
	}
	n, end, err := a.store.IncrCounter(ctx, "adminkey:"+ip, KeyFailureWindow, now)
	if err != nil {
		return err
	}
	if n <= KeyFailureLimit {
		return errAdminKeyInvalid
	}
	a.throttle.set(ip, end, now)
	if n == KeyFailureLimit+1 {
		a.log.LogAttrs(ctx, slog.LevelWarn, "administrator key failures throttled",
			slog.String("client_ip", m.ClientIP), slog.Int("limit", KeyFailureLimit), slog.Duration("window", KeyFailureWindow))
		if poolID, err := a.poolID(ctx, auth.Meta{PoolID: "default"}); err == nil {
			a.audit(ctx, m, poolID, "", AuditKeyThrottled, map[string]string{
				"limit": strconv.Itoa(KeyFailureLimit), "window": KeyFailureWindow.String(),
			})
		}
	}
	return keyThrottled(end.Sub(now))
}

// keyThrottled is the 429 refusal of a throttled address.
func keyThrottled(wait time.Duration) error {
	return userpool.RateLimited("admin_key", wait,
		"too many wrong administrator keys from this address: try again later")
}
