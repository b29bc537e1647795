package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// testSigningKeyLifecycle: a rotation is stored only while no key waits to
// sign; a key's recorded expiry only rises; retirement erases the private
// key, waits for the recorded expiry, and stops further expiry notes; old
// retired keys are deleted.
func testSigningKeyLifecycle(t *testing.T, s userpool.Store) {
	k1 := &userpool.SigningKey{ID: "k1", Algorithm: "RS256", PrivatePEM: []byte("pem1"), CreatedAt: t0}
	_, err := s.AddSigningKeyIfNone(ctx(t), k1)
	checkNoErr(t, "AddSigningKeyIfNone", err)
	k1.SignsFrom = t0

	// k2 waits an hour before it signs.
	t1 := t0.Add(10 * time.Minute)
	k2 := &userpool.SigningKey{ID: "k2", Algorithm: "RS256", PrivatePEM: []byte("pem2"), CreatedAt: t1, SignsFrom: t1.Add(time.Hour)}
	keys, added, err := s.RotateSigningKey(ctx(t), k2, t1)
	checkNoErr(t, "RotateSigningKey k2", err)
	if !added {
		t.Fatal("RotateSigningKey k2 stored nothing")
	}
	checkEqual(t, "keys after rotating", []*userpool.SigningKey{k1, k2}, keys)

	// While k2 waits, another rotation (as of any time before k2 signs)
	// stores nothing.
	k3 := &userpool.SigningKey{ID: "k3", Algorithm: "RS256", PrivatePEM: []byte("pem3"), CreatedAt: t1.Add(time.Minute), SignsFrom: t1.Add(time.Hour + time.Minute)}
	for _, latest := range []time.Time{t1.Add(time.Minute), t1.Add(time.Hour - time.Millisecond)} {
		keys, added, err = s.RotateSigningKey(ctx(t), k3, latest)
		checkNoErr(t, "RotateSigningKey k3", err)
		if added {
			t.Fatalf("RotateSigningKey as of %v stored k3 while k2 waits to sign", latest)
		}
		checkEqual(t, "keys after a refused rotation", []*userpool.SigningKey{k1, k2}, keys)
	}

	// Expiries only rise, to the millisecond.
	e1 := t0.Add(24 * time.Hour)
	checkNoErr(t, "NoteSigningKeyExpiry", s.NoteSigningKeyExpiry(ctx(t), "k1", e1))
	checkNoErr(t, "NoteSigningKeyExpiry earlier", s.NoteSigningKeyExpiry(ctx(t), "k1", e1.Add(-time.Hour)))
	checkErr(t, "NoteSigningKeyExpiry of a missing key", s.NoteSigningKeyExpiry(ctx(t), "nope", e1), userpool.ErrNotFound)
	k1.LastExpiry = e1

	// Not retired while a token it signed may still be valid.
	ok, err := s.RetireSigningKey(ctx(t), "k1", e1, e1.Add(-time.Millisecond))
	checkNoErr(t, "RetireSigningKey early", err)
	if ok {
		t.Fatal("RetireSigningKey retired k1 before its last expiry")
	}
	keys, err = s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	checkEqual(t, "keys after a refused retirement", []*userpool.SigningKey{k1, k2}, keys)

	retired := e1.Add(5 * time.Minute)
	ok, err = s.RetireSigningKey(ctx(t), "k1", retired, e1)
	checkNoErr(t, "RetireSigningKey", err)
	if !ok {
		t.Fatal("RetireSigningKey did not retire k1 once its tokens expired")
	}
	ok, err = s.RetireSigningKey(ctx(t), "k1", retired.Add(time.Hour), retired.Add(time.Hour))
	checkNoErr(t, "RetireSigningKey again", err)
	if ok {
		t.Fatal("RetireSigningKey retired k1 twice")
	}
	checkErr(t, "NoteSigningKeyExpiry of a retired key", s.NoteSigningKeyExpiry(ctx(t), "k1", e1.Add(time.Hour)), userpool.ErrNotFound)
	k1.RetiredAt, k1.PrivatePEM = retired, nil
	keys, err = s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	if len(keys[0].PrivatePEM) != 0 {
		t.Fatalf("retired key keeps %d bytes of private key", len(keys[0].PrivatePEM))
	}
	keys[0].PrivatePEM = nil // empty, whichever way the driver spells it
	checkEqual(t, "keys after retiring k1", []*userpool.SigningKey{k1, k2}, keys)

	// Once k2 signs, a rotation is stored again.
	keys, added, err = s.RotateSigningKey(ctx(t), k3, k2.SignsFrom)
	checkNoErr(t, "RotateSigningKey k3", err)
	if !added {
		t.Fatal("RotateSigningKey did not store k3 once k2 signs")
	}
	keys[0].PrivatePEM = nil
	checkEqual(t, "keys after rotating again", []*userpool.SigningKey{k1, k2, k3}, keys)

	n, err := s.DeleteRetiredSigningKeys(ctx(t), retired)
	checkNoErr(t, "DeleteRetiredSigningKeys", err)
	if n != 0 {
		t.Fatalf("DeleteRetiredSigningKeys before the retirement deleted %d", n)
	}
	n, err = s.DeleteRetiredSigningKeys(ctx(t), retired.Add(time.Millisecond))
	checkNoErr(t, "DeleteRetiredSigningKeys", err)
	if n != 1 {
		t.Fatalf("DeleteRetiredSigningKeys deleted %d keys, want 1", n)
	}
	keys, err = s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	checkEqual(t, "keys after deleting the retired one", []*userpool.SigningKey{k2, k3}, keys)
}

// testRaceRotateSigningKey: replicas rotating at once store exactly one
// key, and every one of them reads it.
func testRaceRotateSigningKey(t *testing.T, s userpool.Store) {
	_, err := s.AddSigningKeyIfNone(ctx(t), &userpool.SigningKey{ID: "k0", Algorithm: "RS256", PrivatePEM: []byte("pem"), CreatedAt: t0})
	checkNoErr(t, "AddSigningKeyIfNone", err)
	const n = 8
	now := t0.Add(24 * time.Hour)
	results := make([][]*userpool.SigningKey, n)
	added := make([]bool, n)
	errs := together(n, func(i int) error {
		var err error
		results[i], added[i], err = s.RotateSigningKey(ctx(t), &userpool.SigningKey{
			ID: fmt.Sprintf("k%d", i+1), Algorithm: "RS256", PrivatePEM: fmt.Appendf(nil, "pem %d", i), CreatedAt: now, SignsFrom: now.Add(time.Hour),
		}, now)
		return err
	})
	winners := 0
	for i, err := range errs {
		checkNoErr(t, fmt.Sprintf("RotateSigningKey %d", i), err)
		if added[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d concurrent rotations stored %d keys, want 1", n, winners)
	}
	for i, keys := range results {
		if len(keys) != 2 || keys[1].ID != results[0][1].ID {
			t.Errorf("RotateSigningKey %d returned %v, want the keys caller 0 got", i, keys)
		}
	}
	keys, err := s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	if len(keys) != 2 {
		t.Errorf("%d keys stored, want 2", len(keys))
	}
}
