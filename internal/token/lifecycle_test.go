package token

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// jwksKids lists the kids of m's JWKS in order.
func jwksKids(t *testing.T, m *Manager) []string {
	t.Helper()
	var set struct{ Keys []jwk }
	if err := json.Unmarshal(m.JWKS(context.Background()), &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	kid, _ := segment(t, tok, 0)["kid"].(string)
	return kid
}

// states maps each key's kid to its listed state.
func states(t *testing.T, m *Manager) map[string]userpool.SigningKeyState {
	t.Helper()
	infos, err := m.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]userpool.SigningKeyState{}
	for _, in := range infos {
		out[in.ID] = in.State
	}
	return out
}

func claimsAt(now time.Time, ttl time.Duration) Claims {
	return Claims{Subject: "u", SessionID: "s", PoolID: "p", IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

// TestRotationLifecycle follows one rotation on one replica: the new key
// is published at once and signs only after the lead time; the old key's
// tokens verify until they expire; the old key leaves the JWKS RetireGrace
// after the last of them expired, and Maintain erases it from the store.
func TestRotationLifecycle(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	clock := &fakeClock{t: t0}
	lead := 30 * time.Minute
	m, err := NewManager(context.Background(), store, issuer, clock.Now, Lifecycle{LeadTime: lead})
	if err != nil {
		t.Fatal(err)
	}
	oldID := testKey(t, 0).ID
	// A long token signed by the old key: it keeps the key published.
	ttl := 3 * time.Hour
	oldTok := mustIssue(t, m, claimsAt(t0, ttl))

	info, err := m.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State != userpool.KeyNext || !info.SignsFrom.Equal(t0.Add(lead)) || info.ID == oldID || info.Algorithm != "RS256" {
		t.Fatalf("Rotate = %+v; want a next key signing from %v", info, t0.Add(lead))
	}
	newID := info.ID
	if got := jwksKids(t, m); len(got) != 2 || got[0] != oldID || got[1] != newID {
		t.Fatalf("JWKS after rotating = %v; want [old (signing), new]", got)
	}
	if _, err := m.Rotate(context.Background()); !errors.Is(err, ErrRotationPending) {
		t.Fatalf("second Rotate while the new key waits: %v; want ErrRotationPending", err)
	}
	if s := states(t, m); s[oldID] != userpool.KeyCurrent || s[newID] != userpool.KeyNext {
		t.Fatalf("states = %v", s)
	}

	clock.Set(t0.Add(lead - time.Second))
	if kid := kidOf(t, mustIssue(t, m, claimsAt(clock.Now(), ttl))); kid != oldID {
		t.Fatalf("one second before the lead time passed, signed by %q; want the old key", kid)
	}
	lastOld := clock.Now().Add(ttl) // the latest expiry the old key signed

	clock.Set(t0.Add(lead))
	newTok := mustIssue(t, m, claimsAt(clock.Now(), 24*time.Hour))
	if kid := kidOf(t, newTok); kid != newID {
		t.Fatalf("once the lead time passed, signed by %q; want the new key", kid)
	}
	if got := jwksKids(t, m); len(got) != 2 || got[0] != newID || got[1] != oldID {
		t.Fatalf("JWKS once the new key signs = %v; want [new, old]", got)
	}
	if _, err := m.Verify(context.Background(), oldTok); err != nil {
		t.Fatalf("old key's token after the switch: %v", err)
	}
	if s := states(t, m); s[oldID] != userpool.KeyPrevious || s[newID] != userpool.KeyCurrent {
		t.Fatalf("states = %v", s)
	}
	// The retirement time is at or after the last expiry it signed plus
	// the grace, and within one expiry step of it.
	infos, _ := m.Keys(context.Background())
	retire := infos[0].RetiresAt
	if retire.Before(lastOld.Add(RetireGrace)) || retire.After(lastOld.Add(RetireGrace+expiryStep)) {
		t.Fatalf("old key retires at %v; want within [%v, %v]", retire, lastOld.Add(RetireGrace), lastOld.Add(RetireGrace+expiryStep))
	}

	// Up to the retirement the old key stays published; Maintain keeps it.
	clock.Set(retire.Add(-time.Second))
	if _, err := m.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, m); len(got) != 2 {
		t.Fatalf("JWKS a second before the retirement = %v; want both keys", got)
	}
	clock.Set(retire)
	if got := jwksKids(t, m); len(got) != 1 || got[0] != newID {
		t.Fatalf("JWKS at the retirement = %v; want only the new key", got)
	}
	if _, err := m.Verify(context.Background(), oldTok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("old key's token after retirement: %v; want ErrInvalid", err)
	}
	if _, err := m.Verify(context.Background(), newTok); err != nil {
		t.Fatalf("new key's token: %v", err)
	}
	if _, err := m.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	old := *store.keys[0]
	store.mu.Unlock()
	if old.RetiredAt.IsZero() || len(old.PrivatePEM) != 0 {
		t.Fatalf("after Maintain the old key is stored as %+v; want retired with no private key", old)
	}
	if s := states(t, m); s[oldID] != userpool.KeyRetired || s[newID] != userpool.KeyCurrent {
		t.Fatalf("states = %v", s)
	}
	// Thirty days on, the retired key is deleted.
	clock.Set(retire.Add(retiredKept + time.Minute))
	if _, err := m.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := states(t, m); len(s) != 1 {
		t.Fatalf("keys 30 days after the retirement: %v; want only the current one", s)
	}
}

// TestReplicasAgree: a key rotated in by one replica is published by the
// other within RefreshInterval, and both switch to it at the same time.
func TestReplicasAgree(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	clock := &fakeClock{t: t0}
	a := must(NewManager(context.Background(), store, issuer, clock.Now, Lifecycle{}))(t)
	b := must(NewManager(context.Background(), store, issuer, clock.Now, Lifecycle{}))(t)
	info, err := a.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, b); len(got) != 1 {
		t.Fatalf("b's JWKS right after a rotated: %v (b read the keys within the minute)", got)
	}
	clock.Set(t0.Add(RefreshInterval))
	if got := jwksKids(t, b); len(got) != 2 || got[1] != info.ID {
		t.Fatalf("b's JWKS a refresh interval after the rotation = %v; want the new key too", got)
	}
	clock.Set(info.SignsFrom)
	for name, m := range map[string]*Manager{"a": a, "b": b} {
		tok := mustIssue(t, m, claimsAt(clock.Now(), time.Hour))
		if kid := kidOf(t, tok); kid != info.ID {
			t.Errorf("%s signs with %q at the new key's start; want %q", name, kid, info.ID)
		}
		for vn, v := range map[string]*Manager{"a": a, "b": b} {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("%s's token on %s: %v", name, vn, err)
			}
		}
	}
}

// TestStaleReplicaDoesNotSignWithRetiredKey: a replica whose keys are
// stale still signs with a key the store has retired only if the store
// accepts the expiry record; it refuses, so the replica rereads the keys
// and signs with the current one.
func TestStaleReplicaDoesNotSignWithRetiredKey(t *testing.T) {
	t.Parallel()
	k0 := *testKey(t, 0)
	k1 := *testKey(t, 1) // signs from t0+1h
	store := &memKeys{keys: []*userpool.SigningKey{&k0, &k1}}
	clock := &fakeClock{t: t0.Add(30 * time.Minute)}
	m := must(NewManager(context.Background(), store, issuer, clock.Now, Lifecycle{}))(t)
	// Behind m's back, k0 is retired (as if clocks had been far apart).
	if ok, err := store.RetireSigningKey(context.Background(), k0.ID, t0, t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	tok, err := m.Issue(context.Background(), claimsAt(clock.Now(), time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, tok); kid != k1.ID {
		t.Fatalf("signed with %q after the store refused the retired key; want the other key %q", kid, k1.ID)
	}
	if got := jwksKids(t, m); len(got) != 1 || got[0] != k1.ID {
		t.Fatalf("JWKS after rereading = %v; want only %q", got, k1.ID)
	}
}

// TestAutomaticRotationOnce: replicas running Maintain at once when the
// current key is due store exactly one new key; later rounds store none
// until the interval has passed again from the new key's start.
func TestAutomaticRotationOnce(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	clock := &fakeClock{t: t0}
	lc := Lifecycle{LeadTime: time.Hour, RotateEvery: 24 * time.Hour}
	ms := make([]*Manager, 4)
	for i := range ms {
		ms[i] = must(NewManager(context.Background(), store, issuer, clock.Now, lc))(t)
	}
	clock.Set(t0.Add(24*time.Hour - time.Second))
	for _, m := range ms {
		if rotated, err := m.Maintain(context.Background()); err != nil || rotated {
			t.Fatalf("Maintain before the interval: rotated %v, %v", rotated, err)
		}
	}
	clock.Set(t0.Add(24 * time.Hour))
	var wg sync.WaitGroup
	rotated := make([]bool, len(ms))
	for i, m := range ms {
		wg.Go(func() {
			var err error
			if rotated[i], err = m.Maintain(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, r := range rotated {
		if r {
			n++
		}
	}
	if n != 1 || len(store.keys) != 2 {
		t.Fatalf("%d replicas rotated, %d keys stored; want 1 and 2", n, len(store.keys))
	}
	// While the new key waits, no replica even tries (a key generation
	// each round would be wasted work).
	clock.Set(t0.Add(24*time.Hour + 30*time.Minute))
	before := store.rotations.Load()
	for _, m := range ms {
		if r, err := m.Maintain(context.Background()); err != nil || r {
			t.Fatalf("Maintain while the new key waits: rotated %v, %v", r, err)
		}
	}
	if n := store.rotations.Load() - before; n != 0 {
		t.Fatalf("%d rotation attempts while a key waits; want 0", n)
	}
	// The new key signs from 25h; the next rotation is due at 49h.
	clock.Set(t0.Add(49*time.Hour - time.Second))
	if r, err := ms[0].Maintain(context.Background()); err != nil || r {
		t.Fatalf("Maintain before the new key's interval: rotated %v, %v", r, err)
	}
	clock.Set(t0.Add(49 * time.Hour))
	if r, err := ms[1].Maintain(context.Background()); err != nil || !r {
		t.Fatalf("Maintain once the new key's interval passed: rotated %v, %v", r, err)
	}
}

func TestLifecycleRejects(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	for _, lc := range []Lifecycle{{LeadTime: MinLeadTime - time.Second}, {LeadTime: -time.Hour}, {RotateEvery: -time.Hour}} {
		if _, err := NewManager(context.Background(), store, issuer, nil, lc); err == nil {
			t.Errorf("NewManager with %+v: no error", lc)
		}
	}
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestSigningKeyForRecordsExpiry: a token signed outside Issue through
// SigningKeyFor keeps its key published until it expires.
func TestSigningKeyForRecordsExpiry(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	clock := &fakeClock{t: t0}
	m := must(NewManager(context.Background(), store, issuer, clock.Now, Lifecycle{}))(t)
	exp := t0.Add(48 * time.Hour)
	kid, key, err := m.SigningKeyFor(context.Background(), exp)
	if err != nil || kid != testKey(t, 0).ID || key == nil {
		t.Fatalf("SigningKeyFor = %q, %v, %v", kid, key, err)
	}
	info, err := m.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(info.SignsFrom)
	infos, err := m.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if infos[0].State != userpool.KeyPrevious || infos[0].RetiresAt.Before(exp.Add(RetireGrace)) {
		t.Fatalf("old key %+v; want previous, retiring after %v", infos[0], exp.Add(RetireGrace))
	}
}
