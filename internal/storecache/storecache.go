// Package storecache keeps, in process memory, what every request reads from
// the store and rarely changes: a pool's row with its settings, its field
// definitions and its pipelines, and (opt-in, PostgreSQL only) the live
// sessions this replica has seen. It wraps a userpool.Store; everything it
// does not cache passes through.
//
// Cached data is dropped when it changes: at once for this process's own
// writes (sqlstore.SetChangeWatcher: the store calls back after each such
// write, whoever made it), and through the store's change feed
// (sqlstore.WatchChanges) for other replicas' writes. While the feed is not listening (at start, after
// a lost connection) nothing is served from memory: every read goes to the
// store, and what was cached before is forgotten, because changes may have
// gone unheard.
//
// A read that raced with a change must not put the old value back after the
// change was heard: every fill remembers the generation it started in and
// is kept only if no change was heard since.
package storecache

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/authpool/authpool/internal/userpool"
)

// Limits on what is kept. When a map is full, arbitrary entries make
// room, so memory stays bounded however many pools or sessions there are
// (and however large their pipelines): about 4 + 4 + 8 MiB of pool data,
// and MaxSessions sessions of about 400 bytes.
const (
	// MaxPools bounds the pools kept, and the pools whose fields and
	// pipelines (per stage) are kept.
	MaxPools = 4096
	// MaxSessions bounds the sessions kept.
	MaxSessions = 50_000

	maxPoolBytes     = 4 << 20
	maxFieldBytes    = 4 << 20
	maxPipelineBytes = 8 << 20
)

// Store is a userpool.Store with the caches in front. Its zero value is not
// usable; see New.
type Store struct {
	userpool.Store

	sessions bool // cache sessions too

	mu sync.RWMutex
	// up is whether the change feed is listening; while false, nothing is
	// served from or put into the maps.
	up bool
	// gen counts the changes heard; a fill is kept only when gen did not
	// move while it read.
	gen       uint64
	pools     *bounded[string, *userpool.Pool]
	fields    *bounded[string, []*userpool.Field]
	pipelines *bounded[pipelineKey, []*userpool.Pipeline]
	// anyMFA is, per pool, whether an administrator requires MFA of any
	// of its users (MFARequiredFor).
	anyMFA *bounded[string, bool]
	sess   map[string]*userpool.Session
	byUser map[userKey]map[string]struct{}

	hits, misses atomic.Int64
	ups          atomic.Int64

	// counter, when set (SQLite), is read before pool data is served from
	// memory; a count other than the last one seen drops every pool's data.
	counter   func(ctx context.Context) (int64, bool, error)
	lastCount atomic.Int64
}

// CheckCounter makes the cache read count before serving pool data from
// memory (sqlstore.ChangeCount on SQLite: one read of a one-row table in
// place of the pool, fields and pipelines reads), so that another
// process's change on the same file is seen at once rather than within the
// poll interval.
func (c *Store) CheckCounter(count func(ctx context.Context) (int64, bool, error)) {
	c.counter = count
}

// fresh drops every pool's data when the counter moved; false means the
// counter could not be read and memory must not be trusted.
func (c *Store) fresh(ctx context.Context) bool {
	if c.counter == nil {
		return true
	}
	n, ok, err := c.counter(ctx)
	if err != nil {
		return false
	}
	if ok && c.lastCount.Swap(n) != n {
		c.PoolChanged("")
	}
	return true
}

type pipelineKey struct {
	pool  string
	stage userpool.PipelineStage
}

type userKey struct{ pool, user string }

// New wraps st. With sessions, GetSession answers from memory for live
// sessions this process has seen; it must only be set when the change feed
// announces session changes (PostgreSQL). The caches serve nothing until
// the feed says it is Up.
func New(st userpool.Store, sessions bool) *Store {
	c := &Store{Store: st, sessions: sessions}
	c.reset()
	return c
}

// Stats reports how many reads were answered from memory and how many went
// to the store.
func (c *Store) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Listening reports whether the caches serve from memory (the change feed
// is listening) and how many times the feed has come up.
func (c *Store) Listening() (up bool, ups int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.up, c.ups.Load()
}

// reset forgets everything. Callers hold mu (or own c exclusively).
func (c *Store) reset() {
	c.gen++
	c.pools = newBounded[string, *userpool.Pool](MaxPools, maxPoolBytes)
	c.fields = newBounded[string, []*userpool.Field](MaxPools, maxFieldBytes)
	c.pipelines = newBounded[pipelineKey, []*userpool.Pipeline](4*MaxPools, maxPipelineBytes)
	c.anyMFA = newBounded[string, bool](MaxPools, 64*MaxPools)
	c.sess = map[string]*userpool.Session{}
	c.byUser = map[userKey]map[string]struct{}{}
}

// The sqlstore.ChangeWatcher methods.

// Up starts serving from memory, with nothing remembered from before.
func (c *Store) Up() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
	c.up = true
	c.ups.Add(1)
}

// Down stops serving from memory and forgets everything.
func (c *Store) Down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
	c.up = false
}

// PoolChanged forgets the pool's data ("" forgets every pool's).
func (c *Store) PoolChanged(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropPool(id)
}

// SessionChanged forgets the session.
func (c *Store) SessionChanged(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropSession(id)
}

func (c *Store) dropPool(id string) {
	if id == "" {
		c.pools.clear()
		c.fields.clear()
		c.pipelines.clear()
		c.anyMFA.clear()
		return
	}
	c.pools.del(id)
	c.fields.del(id)
	c.anyMFA.del(id)
	for _, k := range c.pipelines.keys() {
		if k.pool == id {
			c.pipelines.del(k)
		}
	}
}

func (c *Store) dropSession(id string) {
	s, ok := c.sess[id]
	if !ok {
		return
	}
	delete(c.sess, id)
	k := userKey{s.PoolID, s.UserID}
	delete(c.byUser[k], id)
	if len(c.byUser[k]) == 0 {
		delete(c.byUser, k)
	}
}

// UserSessionsChanged forgets the user's sessions but keep.
func (c *Store) UserSessionsChanged(poolID, userID, keep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropUser(poolID, userID, keep)
}

func (c *Store) dropUser(poolID, userID, keep string) {
	for id := range c.byUser[userKey{poolID, userID}] {
		if id != keep {
			c.dropSession(id)
		}
	}
}

// keep stores a fill when nothing changed since gen.
func (c *Store) keep(gen uint64, put func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up && c.gen == gen {
		put()
	}
}

// Estimated sizes in bytes: the strings plus a fixed overhead per value.
func poolSize(p *userpool.Pool) int { return 512 + len(p.ID) + len(p.Name) }

func fieldsSize(fs []*userpool.Field) int {
	n := 64
	for _, f := range fs {
		n += 160 + len(f.PoolID) + len(f.Key) + len(f.Label) + len(f.Description)
	}
	return n
}

func pipelinesSize(ps []*userpool.Pipeline) int {
	n := 64
	for _, p := range ps {
		n += 256 + len(p.ID) + len(p.PoolID) + len(p.Name) + len(p.Script) + len(p.URL) + len(p.Secret)
		for _, h := range p.AllowedHosts {
			n += 16 + len(h)
		}
		for k, v := range p.Env {
			n += 32 + len(k) + len(v)
		}
	}
	return n
}

// Pools.

// GetPool answers from memory when it can.
func (c *Store) GetPool(ctx context.Context, id string) (*userpool.Pool, error) {
	if !c.fresh(ctx) {
		return c.Store.GetPool(ctx, id)
	}
	c.mu.RLock()
	p, ok := c.pools.get(id)
	gen, up := c.gen, c.up
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
		cp := *p
		return &cp, nil
	}
	c.misses.Add(1)
	p, err := c.Store.GetPool(ctx, id)
	if err != nil || !up {
		return p, err
	}
	cp := *p
	c.keep(gen, func() {
		c.pools.put(id, &cp, poolSize(&cp))
	})
	return p, nil
}

// Fields.

// ListFields answers from memory when it can.
func (c *Store) ListFields(ctx context.Context, poolID string) ([]*userpool.Field, error) {
	if !c.fresh(ctx) {
		return c.Store.ListFields(ctx, poolID)
	}
	c.mu.RLock()
	fs, ok := c.fields.get(poolID)
	gen, up := c.gen, c.up
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
		return cloneFields(fs), nil
	}
	c.misses.Add(1)
	fs, err := c.Store.ListFields(ctx, poolID)
	if err != nil || !up {
		return fs, err
	}
	kept := cloneFields(fs)
	c.keep(gen, func() {
		c.fields.put(poolID, kept, fieldsSize(kept))
	})
	return fs, nil
}

// ListUserValues answers that there are none, without a read, when the
// pool's field definitions are served from memory and there are none:
// values exist only for defined fields (the store's ListUserValues joins
// them), so a pool without fields, the common case, needs no read of the
// user's values after each login. Otherwise the values are read. Not on
// SQLite (CheckCounter), where knowing the fields from memory costs a read
// of the change counter, as much as the values read it would replace.
func (c *Store) ListUserValues(ctx context.Context, poolID, userID string) ([]*userpool.UserValue, error) {
	if c.counter == nil {
		c.mu.RLock()
		up := c.up
		c.mu.RUnlock()
		if up {
			if fs, err := c.ListFields(ctx, poolID); err == nil && len(fs) == 0 {
				return nil, nil
			}
		}
	}
	return c.Store.ListUserValues(ctx, poolID, userID)
}

// anyMFARequired is the store's per-pool question behind MFARequiredFor
// (sqlstore.Store answers it).
type anyMFARequired interface {
	AnyMFARequired(ctx context.Context, poolID string) (bool, error)
}

// MFARequiredFor answers false without a read when no user of the pool is
// required to pass MFA by an administrator, which the cache knows per pool
// (the common case: the flag is rare, and a login asks it every time).
// Otherwise, and on SQLite (as ListUserValues), the user's flag is read.
func (c *Store) MFARequiredFor(ctx context.Context, poolID, userID string) (bool, error) {
	probe, ok := c.Store.(anyMFARequired)
	if c.counter != nil || !ok {
		return c.Store.MFARequiredFor(ctx, poolID, userID)
	}
	c.mu.RLock()
	anyReq, known := c.anyMFA.get(poolID)
	gen, up := c.gen, c.up
	c.mu.RUnlock()
	if !up {
		return c.Store.MFARequiredFor(ctx, poolID, userID)
	}
	if known {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
		var err error
		if anyReq, err = probe.AnyMFARequired(ctx, poolID); err != nil {
			return false, err
		}
		c.keep(gen, func() { c.anyMFA.put(poolID, anyReq, 64) })
	}
	if !anyReq {
		return false, nil
	}
	return c.Store.MFARequiredFor(ctx, poolID, userID)
}

// GetField answers from the pool's cached definitions when they are in
// memory; otherwise it reads the one field.
func (c *Store) GetField(ctx context.Context, poolID, key string) (*userpool.Field, error) {
	if !c.fresh(ctx) {
		return c.Store.GetField(ctx, poolID, key)
	}
	c.mu.RLock()
	fs, ok := c.fields.get(poolID)
	c.mu.RUnlock()
	if !ok {
		return c.Store.GetField(ctx, poolID, key)
	}
	c.hits.Add(1)
	for _, f := range fs {
		if f.Key == key {
			cp := *f
			return &cp, nil
		}
	}
	// Not among the definitions as they were when cached: ask the store,
	// which answers ErrNotFound or the definition created meanwhile.
	return c.Store.GetField(ctx, poolID, key)
}

func cloneFields(fs []*userpool.Field) []*userpool.Field {
	out := make([]*userpool.Field, len(fs))
	for i, f := range fs {
		cp := *f
		out[i] = &cp
	}
	return out
}

// Pipelines.

// ListPipelines answers from memory when it can.
func (c *Store) ListPipelines(ctx context.Context, poolID string, stage userpool.PipelineStage) ([]*userpool.Pipeline, error) {
	k := pipelineKey{poolID, stage}
	if !c.fresh(ctx) {
		return c.Store.ListPipelines(ctx, poolID, stage)
	}
	c.mu.RLock()
	ps, ok := c.pipelines.get(k)
	gen, up := c.gen, c.up
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
		return clonePipelines(ps), nil
	}
	c.misses.Add(1)
	ps, err := c.Store.ListPipelines(ctx, poolID, stage)
	if err != nil || !up {
		return ps, err
	}
	kept := clonePipelines(ps)
	c.keep(gen, func() {
		c.pipelines.put(k, kept, pipelinesSize(kept))
	})
	return ps, nil
}

func clonePipelines(ps []*userpool.Pipeline) []*userpool.Pipeline {
	out := make([]*userpool.Pipeline, len(ps))
	for i, p := range ps {
		cp := *p
		cp.AllowedHosts = slices.Clone(p.AllowedHosts)
		cp.Env = maps.Clone(p.Env)
		out[i] = &cp
	}
	return out
}

// Sessions (only when enabled).

// GetSession answers from memory for a live session this process has seen.
// Only sessions that were alive when read are kept: the caller still
// judges expiry (Session.Alive), and an expiry can only move through
// ExtendSession, which is announced.
func (c *Store) GetSession(ctx context.Context, id string) (*userpool.Session, error) {
	if !c.sessions {
		return c.Store.GetSession(ctx, id)
	}
	c.mu.RLock()
	s, ok := c.sess[id]
	gen, up := c.gen, c.up
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
		cp := *s
		return &cp, nil
	}
	c.misses.Add(1)
	s, err := c.Store.GetSession(ctx, id)
	if err != nil || !up || !s.RevokedAt.IsZero() {
		return s, err
	}
	c.keep(gen, func() { c.putSession(s) })
	return s, nil
}

func (c *Store) putSession(s *userpool.Session) {
	if len(c.sess) >= MaxSessions {
		for id := range c.sess {
			c.dropSession(id)
			break
		}
	}
	cp := *s
	// What a check needs; the client's address and agent stay in the store.
	cp.ClientIP, cp.UserAgent = "", ""
	c.sess[s.ID] = &cp
	k := userKey{s.PoolID, s.UserID}
	if c.byUser[k] == nil {
		c.byUser[k] = map[string]struct{}{}
	}
	c.byUser[k][s.ID] = struct{}{}
}
