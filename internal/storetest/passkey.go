package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testPasskeys(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	u := newUser(t, s, p.ID, "u1", "pk@example.com", "", "")
	v := newUser(t, s, p.ID, "u2", "pk2@example.com", "", "")
	w := newUser(t, s, other.ID, "u3", "pk@example.com", "", "")
	k1 := &userpool.Passkey{ID: "k1", PoolID: p.ID, UserID: u.ID, CredentialID: []byte{1, 2, 3}, PublicKey: []byte("cose"),
		AttestationType: "none", AttestationFormat: "none", AAGUID: make([]byte, 16), SignCount: 4000000000,
		Transports: []string{"internal", "hybrid"}, UserPresent: true, UserVerified: true, BackupEligible: true, BackupState: true,
		Name: "Laptop", CreatedAt: t0}
	if err := s.CreatePasskey(ctx(t), k1); err != nil {
		t.Fatal(err)
	}
	// One credential id is one passkey in a pool, whoever registers it;
	// another pool may hold the same id.
	dup := *k1
	dup.ID, dup.UserID = "k2", v.ID
	if err := s.CreatePasskey(ctx(t), &dup); !errors.Is(err, userpool.ErrPasskeyExists) {
		t.Fatalf("same credential twice: %v", err)
	}
	elsewhere := *k1
	elsewhere.ID, elsewhere.PoolID, elsewhere.UserID = "k3", other.ID, w.ID
	if err := s.CreatePasskey(ctx(t), &elsewhere); err != nil {
		t.Fatalf("same credential in another pool: %v", err)
	}
	missing := *k1
	missing.ID, missing.UserID, missing.CredentialID = "k4", "nobody", []byte{9}
	if err := s.CreatePasskey(ctx(t), &missing); !errors.Is(err, userpool.ErrUserNotFound) {
		t.Fatalf("passkey of a missing user: %v", err)
	}
	k5 := &userpool.Passkey{ID: "k5", PoolID: p.ID, UserID: u.ID, CredentialID: []byte{5}, PublicKey: []byte("cose5"),
		AttestationType: "none", AttestationFormat: "none", Name: "Phone", CreatedAt: t0.Add(time.Second)}
	if err := s.CreatePasskey(ctx(t), k5); err != nil {
		t.Fatal(err)
	}
	ks, err := s.ListPasskeys(ctx(t), p.ID, u.ID)
	if err != nil || len(ks) != 2 || ks[0].ID != "k1" || ks[1].ID != "k5" {
		t.Fatalf("list: %+v, %v", ks, err)
	}
	got := ks[0]
	if !bytes.Equal(got.CredentialID, k1.CredentialID) || string(got.PublicKey) != "cose" || got.SignCount != 4000000000 ||
		!slices.Equal(got.Transports, []string{"internal", "hybrid"}) || !got.BackupEligible || !got.BackupState || !got.UserVerified ||
		!got.UserPresent || got.Name != "Laptop" || !got.CreatedAt.Equal(t0) || !got.LastUsedAt.IsZero() || len(got.AAGUID) != 16 {
		t.Fatalf("read back: %+v", got)
	}
	if ks[1].Transports != nil {
		t.Fatalf("no transports read back as %q", ks[1].Transports)
	}
	if g, err := s.GetPasskeyByCredential(ctx(t), p.ID, []byte{1, 2, 3}); err != nil || g.ID != "k1" {
		t.Fatalf("by credential: %+v, %v", g, err)
	}
	if _, err := s.GetPasskeyByCredential(ctx(t), p.ID, []byte{7}); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("unknown credential: %v", err)
	}
	// Rename and delete only the user's own passkeys.
	if err := s.RenamePasskey(ctx(t), p.ID, v.ID, "k1", "stolen"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("rename another's passkey: %v", err)
	}
	if err := s.RenamePasskey(ctx(t), p.ID, u.ID, "k1", "Work laptop"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx(t), p.ID, v.ID, "k5"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("delete another's passkey: %v", err)
	}
	// A use moves the counter only from the value it verified against.
	use := &userpool.PasskeyUse{PoolID: p.ID, ID: "k1", Prev: 4000000000, SignCount: 4000000001, BackupState: false, UserVerified: true, At: t0.Add(time.Minute)}
	if err := s.WriteRecords(ctx(t), use); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecords(ctx(t), use); !errors.Is(err, userpool.ErrPasskeyChanged) {
		t.Fatalf("a use from a stale counter: %v", err)
	}
	g, _ := s.GetPasskeyByCredential(ctx(t), p.ID, []byte{1, 2, 3})
	if g.SignCount != 4000000001 || g.BackupState || g.Name != "Work laptop" || !g.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after use: %+v", g)
	}
	if err := s.DeletePasskey(ctx(t), p.ID, u.ID, "k5"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx(t), p.ID, u.ID, "k5"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// A reset of every factor removes the passkeys, and counts them.
	if n, err := s.DeleteMFAFactors(ctx(t), p.ID, u.ID, ""); err != nil || n != 1 {
		t.Fatalf("reset: %d, %v", n, err)
	}
	if ks, _ := s.ListPasskeys(ctx(t), p.ID, u.ID); len(ks) != 0 {
		t.Fatalf("passkeys after reset: %+v", ks)
	}
	if ks, _ := s.ListPasskeys(ctx(t), other.ID, w.ID); len(ks) != 1 {
		t.Fatalf("another pool's passkey after reset: %+v", ks)
	}
}

func testWebAuthnCeremonies(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	c := &userpool.WebAuthnCeremony{ID: "c1", PoolID: p.ID, Purpose: userpool.CeremonyMFA, UserID: "u1", Binding: "mfa1",
		Session: []byte(`{"challenge":"x"}`), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.CreateWebAuthnCeremony(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeWebAuthnCeremony(ctx(t), other.ID, "c1"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("taken from another pool: %v", err)
	}
	got, err := s.TakeWebAuthnCeremony(ctx(t), p.ID, "c1")
	if err != nil || got.Purpose != userpool.CeremonyMFA || got.UserID != "u1" || got.Binding != "mfa1" ||
		string(got.Session) != `{"challenge":"x"}` || !got.ExpiresAt.Equal(t0.Add(5*time.Minute)) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("take: %+v, %v", got, err)
	}
	if _, err := s.TakeWebAuthnCeremony(ctx(t), p.ID, "c1"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("taken twice: %v", err)
	}
	// Expired ceremonies are purged with the other short-lived rows.
	if err := s.CreateWebAuthnCeremony(ctx(t), &userpool.WebAuthnCeremony{ID: "c2", PoolID: p.ID, Purpose: userpool.CeremonyLogin,
		Session: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeExpired(ctx(t), t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeWebAuthnCeremony(ctx(t), p.ID, "c2"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("expired ceremony after purge: %v", err)
	}
}

func testRacePasskeys(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "race@example.com", "", "")
	const n = 12
	if err := s.CreateWebAuthnCeremony(ctx(t), &userpool.WebAuthnCeremony{ID: "c1", PoolID: p.ID, Purpose: userpool.CeremonyLogin,
		Session: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	errs := together(n, func(int) error { _, err := s.TakeWebAuthnCeremony(ctx(t), p.ID, "c1"); return err })
	if ok := count(errs); ok != 1 {
		t.Fatalf("ceremony taken %d times", ok)
	}
	if err := s.CreatePasskey(ctx(t), &userpool.Passkey{ID: "k1", PoolID: p.ID, UserID: u.ID, CredentialID: []byte{1}, PublicKey: []byte("k"),
		AttestationType: "none", AttestationFormat: "none", SignCount: 1, Name: "k", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	errs = together(n, func(i int) error {
		return s.WriteRecords(ctx(t), &userpool.PasskeyUse{PoolID: p.ID, ID: "k1", Prev: 1, SignCount: uint32(2 + i), At: t0})
	})
	if ok := count(errs); ok != 1 {
		t.Fatalf("one counter value used %d times", ok)
	}
	errs = together(n, func(i int) error {
		return s.CreatePasskey(ctx(t), &userpool.Passkey{ID: "r" + string(rune('a'+i)), PoolID: p.ID, UserID: u.ID, CredentialID: []byte{2},
			PublicKey: []byte("k"), AttestationType: "none", AttestationFormat: "none", Name: "k", CreatedAt: t0})
	})
	if ok := count(errs); ok != 1 {
		t.Fatalf("one credential registered %d times", ok)
	}

	// The limit: a user at MaxPasskeys-1 registering several at once gets
	// exactly one more; at the limit, none.
	v := newUser(t, s, p.ID, "u2", "limit@example.com", "", "")
	newKey := func(id string, cred byte) *userpool.Passkey {
		return &userpool.Passkey{ID: id, PoolID: p.ID, UserID: v.ID, CredentialID: []byte{0xa0, cred}, PublicKey: []byte("k"),
			AttestationType: "none", AttestationFormat: "none", Name: id, CreatedAt: t0}
	}
	for i := range userpool.MaxPasskeys - 1 {
		if err := s.CreatePasskey(ctx(t), newKey("l"+string(rune('a'+i)), byte(i))); err != nil {
			t.Fatalf("passkey %d of %d: %v", i+1, userpool.MaxPasskeys, err)
		}
	}
	errs = together(n, func(i int) error { return s.CreatePasskey(ctx(t), newKey("m"+string(rune('a'+i)), byte(100+i))) })
	if ok := count(errs); ok != 1 {
		t.Fatalf("%d registrations admitted at %d of %d passkeys", ok, userpool.MaxPasskeys-1, userpool.MaxPasskeys)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, userpool.ErrTooManyPasskeys) {
			t.Fatalf("refused with %v, want ErrTooManyPasskeys", err)
		}
	}
	if pks, err := s.ListPasskeys(ctx(t), p.ID, v.ID); err != nil || len(pks) != userpool.MaxPasskeys {
		t.Fatalf("%d passkeys after the race (%v), want %d", len(pks), err, userpool.MaxPasskeys)
	}
	if err := s.CreatePasskey(ctx(t), newKey("over", 200)); !errors.Is(err, userpool.ErrTooManyPasskeys) {
		t.Fatalf("a passkey past the limit: %v", err)
	}
}
