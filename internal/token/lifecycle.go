package token

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// The timing of the key lifecycle (docs/OIDC.md "Signing keys").
const (
	// DefaultLeadTime is how long a new key is published before it signs,
	// unless Lifecycle.LeadTime says otherwise.
	DefaultLeadTime = time.Hour
	// MinLeadTime bounds Lifecycle.LeadTime from below: every replica must
	// have read a new key (RefreshInterval) before any signs with it, with
	// room for clocks that differ by a minute or two.
	MinLeadTime = 5 * time.Minute
	// RefreshInterval is the longest a replica uses the keys it read
	// before reading them again: a key another replica rotated in is
	// published here at most this long after.
	RefreshInterval = time.Minute
	// RetireGrace is how long a previous key stays published after the
	// last expiry of the tokens it signed (and after its successor began
	// signing): a refresh interval plus differences between clocks.
	RetireGrace = 5 * time.Minute
	// expiryStep is how far ahead of a token's expiry a key's recorded
	// last expiry is moved, so that a replica writes it about once per
	// step rather than once per token.
	expiryStep = 10 * time.Minute
	// retiredKept is how long a retired key (its private half erased) is
	// still listed before it is deleted.
	retiredKept = 30 * 24 * time.Hour
	// refreshRetry spaces the attempts to reread the keys while the store
	// fails; the keys read last stay in use meanwhile.
	refreshRetry = 10 * time.Second
)

// Lifecycle configures key rotation. The zero value means the defaults:
// DefaultLeadTime and no automatic rotation.
type Lifecycle struct {
	// LeadTime is how long a rotated-in key is published before it signs;
	// at least MinLeadTime.
	LeadTime time.Duration
	// RotateEvery, when positive, makes Maintain rotate once the current
	// key has signed this long.
	RotateEvery time.Duration
}

// ErrRotationPending is Rotate's answer while a rotated-in key waits for
// its lead time (code 1410).
var ErrRotationPending = userpool.Errorf(userpool.CodeKeyRotationPending, "key_rotation_pending",
	"a new signing key is already waiting for its lead time; rotate again once it signs")

// keyState is one snapshot of the stored keys with the view of them at
// one time: which key signs, which are published. It is immutable.
type keyState struct {
	loadedAt time.Time // the clock when the keys were read
	stored   []*userpool.SigningKey
	private  map[string]*rsa.PrivateKey // keys not retired in the store

	// The view is valid for a clock in [from, until).
	from, until time.Time
	current     *userpool.SigningKey
	signKey     *rsa.PrivateKey
	published   map[string]*rsa.PublicKey
	jwks        []byte
	publicPEM   string
	// retiresAt holds, for each previous key, when it leaves the JWKS.
	retiresAt map[string]time.Time
}

// parseState reads the stored keys: the ones not retired must parse.
func parseState(stored []*userpool.SigningKey, loadedAt time.Time) (*keyState, error) {
	st := &keyState{loadedAt: loadedAt, stored: stored, private: make(map[string]*rsa.PrivateKey, len(stored))}
	seen := map[string]bool{}
	for _, k := range stored {
		if seen[k.ID] {
			return nil, fmt.Errorf("token: two signing keys with kid %q", k.ID)
		}
		seen[k.ID] = true
		if !k.RetiredAt.IsZero() {
			continue
		}
		priv, err := parseKey(k)
		if err != nil {
			return nil, fmt.Errorf("token: signing key %q: %w", k.ID, err)
		}
		st.private[k.ID] = priv
	}
	if len(st.private) == 0 {
		return nil, errors.New("token: every stored signing key is retired")
	}
	return st, nil
}

// signOrder is the keys not retired in the store, in the order they sign.
func (st *keyState) signOrder() []*userpool.SigningKey {
	var ks []*userpool.SigningKey
	for _, k := range st.stored {
		if k.RetiredAt.IsZero() {
			ks = append(ks, k)
		}
	}
	slices.SortStableFunc(ks, func(a, b *userpool.SigningKey) int {
		if c := a.SignsFrom.Compare(b.SignsFrom); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return ks
}

// at returns the snapshot with its view at now: the signing key is the
// last one whose SignsFrom has come (the first one if none has); a key
// after it is published (it waits to sign); a key before it is published
// until RetireGrace after both its successor's SignsFrom and its own
// LastExpiry (lastExpiry may raise the latter with what this replica
// recorded since the read).
func (st *keyState) at(now time.Time, lastExpiry func(id string, stored time.Time) time.Time) (*keyState, error) {
	order := st.signOrder()
	cur := 0
	for i, k := range order {
		if !k.SignsFrom.After(now) {
			cur = i
		}
	}
	v := *st
	v.from, v.until = time.Time{}, time.Time{}
	v.current, v.signKey = order[cur], st.private[order[cur].ID]
	v.published = make(map[string]*rsa.PublicKey, len(order))
	v.retiresAt = map[string]time.Time{}
	narrow := func(t time.Time) {
		if t.After(now) {
			if v.until.IsZero() || t.Before(v.until) {
				v.until = t
			}
		} else if t.After(v.from) {
			v.from = t
		}
	}
	ids := []string{v.current.ID}
	for i, k := range order {
		narrow(k.SignsFrom)
		if i < cur {
			end := order[i+1].SignsFrom
			if e := lastExpiry(k.ID, k.LastExpiry); e.After(end) {
				end = e
			}
			retire := end.Add(RetireGrace)
			v.retiresAt[k.ID] = retire
			narrow(retire)
			if !now.Before(retire) {
				continue
			}
		}
		v.published[k.ID] = &st.private[k.ID].PublicKey
		if i != cur {
			ids = append(ids, k.ID)
		}
	}
	var err error
	// The signing key goes first in the JWKS: clients that naively take
	// the first key then pick the one in use.
	if v.jwks, err = jwks(ids, v.published); err != nil {
		return nil, fmt.Errorf("token: render JWKS: %w", err)
	}
	if v.publicPEM, err = publicPEM(&v.signKey.PublicKey); err != nil {
		return nil, fmt.Errorf("token: render public key: %w", err)
	}
	return &v, nil
}

// valid says whether the view holds at now.
func (st *keyState) valid(now time.Time) bool {
	return !now.Before(st.from) && (st.until.IsZero() || now.Before(st.until))
}

// expiryMarks remembers the last expiries this replica recorded in the
// store, so that it writes one only when a token would pass it.
type expiryMarks struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (e *expiryMarks) get(id string, stored time.Time) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.m[id]; t.After(stored) {
		return t
	}
	return stored
}

func (e *expiryMarks) raise(id string, t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]time.Time{}
	}
	if t.After(e.m[id]) {
		e.m[id] = t
	}
}

// state returns the keys in use now: read again from the store when the
// last read is RefreshInterval old (one caller reads while the others go
// on with the keys they have), and viewed at now.
func (m *Manager) state(ctx context.Context) *keyState {
	now := m.now()
	st := m.cur.Load()
	if now.Sub(st.loadedAt) >= RefreshInterval || now.Before(st.loadedAt) {
		if last := m.lastTry.Load(); last == nil || now.Sub(*last) >= refreshRetry || now.Before(*last) {
			if m.refreshMu.TryLock() {
				m.lastTry.Store(&now)
				if fresh, err := m.reload(ctx, now); err == nil {
					st = fresh
				}
				m.refreshMu.Unlock()
			}
		}
	}
	if st.valid(now) {
		return st
	}
	v, err := st.at(now, m.marks.get)
	if err != nil {
		return st // only rendering failed; keep the last good view
	}
	m.install(st, v)
	return v
}

// reload reads the keys from the store and installs them viewed at now.
func (m *Manager) reload(ctx context.Context, now time.Time) (*keyState, error) {
	stored, err := m.ks.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: load signing keys: %w", err)
	}
	st, err := parseState(stored, now)
	if err != nil {
		return nil, err
	}
	v, err := st.at(now, m.marks.get)
	if err != nil {
		return nil, err
	}
	m.install(m.cur.Load(), v)
	return v, nil
}

// install makes v the state in use. When a key left the published set,
// the cache of verified tokens is emptied, so that no token of a retired
// key passes from it.
func (m *Manager) install(old, v *keyState) {
	m.cur.Store(v)
	if old == nil {
		return
	}
	for id := range old.published {
		if _, ok := v.published[id]; !ok {
			m.verified.clear()
			return
		}
	}
}

// signingKey returns the key to sign a token that expires at exp, after
// recording in the store that this key signed until exp when the record
// is behind (moved expiryStep ahead, so that this is rare). A key the
// store says is retired is never used: the keys are read again and the
// new signing key is tried once.
func (m *Manager) signingKey(ctx context.Context, exp time.Time) (*keyState, error) {
	st := m.state(ctx)
	for try := 0; ; try++ {
		k := st.current
		if exp.After(m.marks.get(k.ID, k.LastExpiry)) {
			mark := exp.Add(expiryStep)
			err := m.ks.NoteSigningKeyExpiry(ctx, k.ID, mark)
			if errors.Is(err, userpool.ErrNotFound) && try == 0 {
				if st, err = m.reload(ctx, m.now()); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("token: record signing key expiry: %w", err)
			}
			m.marks.raise(k.ID, mark)
		}
		return st, nil
	}
}

// Rotate stores a new key that is published at once and signs after the
// lead time; the current key signs until then. It returns
// ErrRotationPending while a rotated-in key still waits to sign.
func (m *Manager) Rotate(ctx context.Context) (userpool.SigningKeyInfo, error) {
	now := m.now()
	k, err := generateKey(now)
	if err != nil {
		return userpool.SigningKeyInfo{}, err
	}
	k.SignsFrom = now.Add(m.lc.LeadTime)
	_, added, err := m.ks.RotateSigningKey(ctx, k, now)
	if err != nil {
		return userpool.SigningKeyInfo{}, fmt.Errorf("token: rotate: %w", err)
	}
	if !added {
		return userpool.SigningKeyInfo{}, ErrRotationPending
	}
	infos, err := m.Keys(ctx)
	if err != nil {
		return userpool.SigningKeyInfo{}, err
	}
	for _, in := range infos {
		if in.ID == k.ID {
			return in, nil
		}
	}
	return userpool.SigningKeyInfo{}, fmt.Errorf("token: rotated key %q not stored", k.ID)
}

// Keys reads the keys from the store and describes each, oldest first.
func (m *Manager) Keys(ctx context.Context) ([]userpool.SigningKeyInfo, error) {
	now := m.now()
	st, err := m.reload(ctx, now)
	if err != nil {
		return nil, err
	}
	order := st.signOrder()
	rank := map[string]int{}
	for i, k := range order {
		rank[k.ID] = i
	}
	cur := rank[st.current.ID]
	out := make([]userpool.SigningKeyInfo, 0, len(st.stored))
	for _, k := range st.stored {
		in := userpool.SigningKeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, SignsFrom: k.SignsFrom}
		switch i, live := rank[k.ID]; {
		case !live:
			in.State, in.RetiresAt = userpool.KeyRetired, k.RetiredAt
		case i == cur:
			in.State = userpool.KeyCurrent
		case i > cur:
			in.State = userpool.KeyNext
		default:
			in.RetiresAt = st.retiresAt[k.ID]
			in.State = userpool.KeyPrevious
			if _, ok := st.published[k.ID]; !ok {
				in.State = userpool.KeyRetired
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// Maintain runs one round of the key upkeep every replica does in the
// background (Server runs it every RefreshInterval; running it on several
// replicas at once is safe): it rereads the keys, rotates when the
// current key has signed for RotateEvery and no key waits, marks the keys
// past their retirement retired in the store (erasing their private
// half), and deletes keys retired long ago. It reports whether it
// rotated.
func (m *Manager) Maintain(ctx context.Context) (rotated bool, err error) {
	now := m.now()
	st, err := m.reload(ctx, now)
	if err != nil {
		return false, err
	}
	order := st.signOrder()
	waiting := order[len(order)-1].SignsFrom.After(now) // a key waits to sign: nothing to do
	if every := m.lc.RotateEvery; every > 0 && !waiting && !now.Before(st.current.SignsFrom.Add(every)) {
		k, err := generateKey(now)
		if err != nil {
			return false, err
		}
		k.SignsFrom = now.Add(m.lc.LeadTime)
		// Stored only while every key began signing at least RotateEvery
		// ago: of replicas doing this at once, one stores its key.
		if _, rotated, err = m.ks.RotateSigningKey(ctx, k, now.Add(-every)); err != nil {
			return false, fmt.Errorf("token: rotate: %w", err)
		}
	}
	for id, at := range st.retiresAt {
		if now.Before(at) {
			continue
		}
		// The store refuses when a token of the key (recorded since this
		// replica's read) expires after now - RetireGrace.
		if _, err := m.ks.RetireSigningKey(ctx, id, now, now.Add(-RetireGrace)); err != nil {
			return rotated, fmt.Errorf("token: retire signing key: %w", err)
		}
	}
	if _, err := m.ks.DeleteRetiredSigningKeys(ctx, now.Add(-retiredKept)); err != nil {
		return rotated, fmt.Errorf("token: delete retired signing keys: %w", err)
	}
	_, err = m.reload(ctx, now)
	return rotated, err
}

// SigningKeyFor returns the current signing key for a token that expires
// at exp, after recording that expiry as Issue does, so that the key stays
// published until the token has expired. It is for signers other than
// Issue (the OpenID provider's); they must name the key by its kid.
func (m *Manager) SigningKeyFor(ctx context.Context, exp time.Time) (kid string, key *rsa.PrivateKey, err error) {
	st, err := m.signingKey(ctx, exp)
	if err != nil {
		return "", nil, err
	}
	return st.current.ID, st.signKey, nil
}
