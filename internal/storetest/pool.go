package storetest

import (
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testPools(t *testing.T, s userpool.Store) {
	_, err := s.GetPool(ctx(t), "missing")
	checkErr(t, "GetPool missing", err, userpool.ErrPoolNotFound)

	want := map[string]*userpool.Pool{}
	for _, p := range []*userpool.Pool{
		{ID: "p1", Name: "First", IsDefault: true, CreatedAt: t0},
		{ID: "p2", Name: "Second", CreatedAt: t0.Add(time.Millisecond)},
	} {
		stored := *p
		checkNoErr(t, "CreatePool "+p.ID, s.CreatePool(ctx(t), &stored))
		want[p.ID] = p
		got, err := s.GetPool(ctx(t), p.ID)
		checkNoErr(t, "GetPool "+p.ID, err)
		checkEqual(t, "pool "+p.ID, p, got)
	}
	pools, err := s.ListPools(ctx(t))
	checkNoErr(t, "ListPools", err)
	if len(pools) != len(want) {
		t.Fatalf("ListPools returned %d pools, want %d", len(pools), len(want))
	}
	for _, got := range pools {
		if w, ok := want[got.ID]; !ok {
			t.Errorf("ListPools returned unknown pool %q", got.ID)
		} else {
			checkEqual(t, "listed pool "+got.ID, w, got)
		}
	}
}

func testEnsureDefaultPool(t *testing.T, s userpool.Store) {
	newPool(t, s, "other")
	first, err := s.EnsureDefaultPool(ctx(t), &userpool.Pool{ID: "d1", Name: "Default", CreatedAt: t0})
	checkNoErr(t, "EnsureDefaultPool", err)
	checkEqual(t, "default pool", &userpool.Pool{ID: "d1", Name: "Default", IsDefault: true, CreatedAt: t0}, first)

	again, err := s.EnsureDefaultPool(ctx(t), &userpool.Pool{ID: "d2", Name: "Another", CreatedAt: t0.Add(time.Millisecond)})
	checkNoErr(t, "EnsureDefaultPool again", err)
	checkEqual(t, "default pool after second call", first, again)
	_, err = s.GetPool(ctx(t), "d2")
	checkErr(t, "GetPool of the pool not created", err, userpool.ErrPoolNotFound)
	checkDefaultPools(t, s, 1)
}

// checkDefaultPools fails unless exactly want pools are marked default.
func checkDefaultPools(t *testing.T, s userpool.Store, want int) {
	t.Helper()
	pools, err := s.ListPools(ctx(t))
	checkNoErr(t, "ListPools", err)
	n := 0
	for _, p := range pools {
		if p.IsDefault {
			n++
		}
	}
	if n != want {
		t.Errorf("%d default pools, want %d", n, want)
	}
}

func testSigningKeys(t *testing.T, s userpool.Store) {
	keys, err := s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	if len(keys) != 0 {
		t.Fatalf("new store has %d signing keys", len(keys))
	}
	k1 := &userpool.SigningKey{ID: "k1", Algorithm: "RS256", PrivatePEM: []byte("-----BEGIN PRIVATE KEY-----\nk1\n-----END PRIVATE KEY-----\n"), CreatedAt: t0}
	k2 := &userpool.SigningKey{ID: "k2", Algorithm: "ES256", PrivatePEM: []byte("k2"), CreatedAt: t0.Add(time.Millisecond)}

	keys, err = s.AddSigningKeyIfNone(ctx(t), k1)
	checkNoErr(t, "AddSigningKeyIfNone k1", err)
	k1.SignsFrom = t0 // filled in from CreatedAt
	checkEqual(t, "keys after adding k1", []*userpool.SigningKey{k1}, keys)
	keys, err = s.AddSigningKeyIfNone(ctx(t), k2)
	checkNoErr(t, "AddSigningKeyIfNone k2", err)
	checkEqual(t, "keys after offering k2", []*userpool.SigningKey{k1}, keys)
	keys, err = s.SigningKeys(ctx(t))
	checkNoErr(t, "SigningKeys", err)
	checkEqual(t, "stored keys", []*userpool.SigningKey{k1}, keys)
}
