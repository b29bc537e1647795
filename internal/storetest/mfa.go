package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testMFAFactors(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "mfa@example.com", "", "")
	totp := &userpool.MFAFactor{ID: "f1", PoolID: p.ID, UserID: u.ID, Kind: userpool.FactorTOTP, Secret: []byte("sealed"), CreatedAt: t0}
	if err := s.PutMFAFactor(ctx(t), totp); err != nil {
		t.Fatal(err)
	}
	// An unconfirmed factor is replaced by a new enrolment.
	again := &userpool.MFAFactor{ID: "f2", PoolID: p.ID, UserID: u.ID, Kind: userpool.FactorTOTP, Secret: []byte("sealed2"), CreatedAt: t0}
	if err := s.PutMFAFactor(ctx(t), again); err != nil {
		t.Fatal(err)
	}
	fs, err := s.ListMFAFactors(ctx(t), p.ID, u.ID)
	if err != nil || len(fs) != 1 || fs[0].ID != "f2" || string(fs[0].Secret) != "sealed2" || fs[0].Confirmed || !fs[0].CreatedAt.Equal(t0) {
		t.Fatalf("factors after re-enrolment: %+v, %v", fs, err)
	}
	// Steps only move forward; the first accepted one confirms.
	for _, tc := range []struct {
		step int64
		ok   bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		ok, err := s.UseTOTPStep(ctx(t), p.ID, "f2", tc.step, t0.Add(time.Minute))
		if err != nil || ok != tc.ok {
			t.Fatalf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.ok)
		}
	}
	fs, _ = s.ListMFAFactors(ctx(t), p.ID, u.ID)
	if !fs[0].Confirmed || fs[0].LastStep != 101 || !fs[0].LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after use: %+v", fs[0])
	}
	// A confirmed factor is not replaced.
	if err := s.PutMFAFactor(ctx(t), &userpool.MFAFactor{ID: "f3", PoolID: p.ID, UserID: u.ID, Kind: userpool.FactorTOTP, CreatedAt: t0}); !errors.Is(err, userpool.ErrMFAAlreadyEnrolled) {
		t.Fatalf("enrol over a confirmed factor: %v", err)
	}
	if err := s.PutMFAFactor(ctx(t), &userpool.MFAFactor{ID: "f4", PoolID: p.ID, UserID: u.ID, Kind: userpool.FactorSMS, Confirmed: true, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMFAFactor(ctx(t), &userpool.MFAFactor{ID: "f5", PoolID: p.ID, UserID: "nobody", Kind: userpool.FactorSMS, CreatedAt: t0}); !errors.Is(err, userpool.ErrUserNotFound) {
		t.Fatalf("factor of a missing user: %v", err)
	}
	// Recovery codes.
	if err := s.ReplaceRecoveryCodes(ctx(t), p.ID, u.ID, [][]byte{[]byte("h1"), []byte("h2")}, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountRecoveryCodes(ctx(t), p.ID, u.ID); n != 2 || err != nil {
		t.Fatalf("count %d, %v", n, err)
	}
	if err := s.WriteRecords(ctx(t), &userpool.RecoveryCodeSpend{PoolID: p.ID, UserID: u.ID, Hash: []byte("h1"), At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecords(ctx(t), &userpool.RecoveryCodeSpend{PoolID: p.ID, UserID: u.ID, Hash: []byte("h1"), At: t0}); !errors.Is(err, userpool.ErrRecoveryCodeUsed) {
		t.Fatalf("second spend: %v", err)
	}
	if ok, _ := s.RecoveryCodeUnused(ctx(t), p.ID, u.ID, []byte("h1")); ok {
		t.Fatal("a spent code is unused")
	}
	if ok, _ := s.RecoveryCodeUnused(ctx(t), p.ID, u.ID, []byte("h2")); !ok {
		t.Fatal("an unspent code is not unused")
	}
	// Per-user flag.
	if req, err := s.MFARequiredFor(ctx(t), p.ID, u.ID); req || err != nil {
		t.Fatalf("flag before set: %v %v", req, err)
	}
	probe, hasProbe := s.(interface {
		AnyMFARequired(ctx context.Context, poolID string) (bool, error)
	})
	for _, v := range []bool{true, false, true} {
		if err := s.SetMFARequired(ctx(t), p.ID, u.ID, v); err != nil {
			t.Fatal(err)
		}
		if req, _ := s.MFARequiredFor(ctx(t), p.ID, u.ID); req != v {
			t.Fatalf("flag %v, want %v", req, v)
		}
		// The per-pool question the cache asks (sqlstore.AnyMFARequired).
		if hasProbe {
			if anyReq, err := probe.AnyMFARequired(ctx(t), p.ID); anyReq != v || err != nil {
				t.Fatalf("any required %v %v, want %v", anyReq, err, v)
			}
			if anyReq, err := probe.AnyMFARequired(ctx(t), p.ID+"-other"); anyReq || err != nil {
				t.Fatalf("another pool: any required %v %v", anyReq, err)
			}
		}
	}
	// Reset: every kind and the recovery codes.
	if n, err := s.DeleteMFAFactors(ctx(t), p.ID, u.ID, ""); n != 2 || err != nil {
		t.Fatalf("reset deleted %d, %v", n, err)
	}
	if n, _ := s.CountRecoveryCodes(ctx(t), p.ID, u.ID); n != 0 {
		t.Fatalf("%d recovery codes after reset", n)
	}
	// Deleting the user deletes the rest.
	if err := s.DeleteUser(ctx(t), p.ID, u.ID); err != nil {
		t.Fatalf("delete a user with MFA rows: %v", err)
	}
}

func testMFAChallenges(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "ch@example.com", "", "")
	c := &userpool.MFAChallenge{ID: "c1", PoolID: p.ID, UserID: u.ID, Method: "email", Credential: []byte("cred"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.CreateMFAChallenge(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryMFAChallenge(ctx(t), "other-pool", "c1", 5, t0); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("challenge of another pool: %v", err)
	}
	got, err := s.TryMFAChallenge(ctx(t), p.ID, "c1", 5, t0)
	if err != nil || got.Attempts != 1 || got.Method != "email" || string(got.Credential) != "cred" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("try: %+v, %v", got, err)
	}
	if _, err := s.TryMFAChallenge(ctx(t), p.ID, "c1", 5, t0.Add(5*time.Minute)); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("try at expiry: %v", err)
	}
	if err := s.WriteRecords(ctx(t), &userpool.MFAChallengeSpend{PoolID: p.ID, ID: "c1", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecords(ctx(t), &userpool.MFAChallengeSpend{PoolID: p.ID, ID: "c1", At: t0}); !errors.Is(err, userpool.ErrMFATokenInvalid) {
		t.Fatalf("second spend: %v", err)
	}
	if _, err := s.TryMFAChallenge(ctx(t), p.ID, "c1", 5, t0); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("try a spent challenge: %v", err)
	}
	if got, err := s.GetMFAChallenge(ctx(t), p.ID, "c1"); err != nil || got.UsedAt.IsZero() {
		t.Fatalf("get: %+v %v", got, err)
	}
	if n, err := s.PurgeExpired(ctx(t), t0.Add(time.Hour)); err != nil || n < 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := s.GetMFAChallenge(ctx(t), p.ID, "c1"); !errors.Is(err, userpool.ErrNotFound) {
		t.Fatalf("after purge: %v", err)
	}
}

// testRaceMFA: concurrent tries never exceed the attempt limit; one
// challenge, one TOTP step and one recovery code are each spent once.
func testRaceMFA(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "race@example.com", "", "")
	const n = 12
	if err := s.CreateMFAChallenge(ctx(t), &userpool.MFAChallenge{ID: "c1", PoolID: p.ID, UserID: u.ID, Method: "email", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	errs := together(n, func(int) error { _, err := s.TryMFAChallenge(ctx(t), p.ID, "c1", 5, t0); return err })
	if ok := count(errs); ok != 5 {
		t.Fatalf("%d of %d concurrent tries got through a limit of 5: %v", ok, n, errs)
	}
	if err := s.CreateMFAChallenge(ctx(t), &userpool.MFAChallenge{ID: "c2", PoolID: p.ID, UserID: u.ID, Method: "email", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	errs = together(n, func(int) error {
		return s.WriteRecords(ctx(t), &userpool.MFAChallengeSpend{PoolID: p.ID, ID: "c2", At: t0})
	})
	if ok := count(errs); ok != 1 {
		t.Fatalf("challenge spent %d times", ok)
	}
	if err := s.PutMFAFactor(ctx(t), &userpool.MFAFactor{ID: "f1", PoolID: p.ID, UserID: u.ID, Kind: userpool.FactorTOTP, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	errs = together(n, func(int) error {
		ok, err := s.UseTOTPStep(ctx(t), p.ID, "f1", 7, t0)
		if err == nil && !ok {
			err = errors.New("step used")
		}
		return err
	})
	if ok := count(errs); ok != 1 {
		t.Fatalf("one TOTP step accepted %d times", ok)
	}
	if err := s.ReplaceRecoveryCodes(ctx(t), p.ID, u.ID, [][]byte{[]byte("h")}, t0); err != nil {
		t.Fatal(err)
	}
	errs = together(n, func(int) error {
		return s.WriteRecords(ctx(t), &userpool.RecoveryCodeSpend{PoolID: p.ID, UserID: u.ID, Hash: []byte("h"), At: t0})
	})
	if ok := count(errs); ok != 1 {
		t.Fatalf("one recovery code spent %d times", ok)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, userpool.ErrRecoveryCodeUsed) {
			t.Fatalf("losing spend: %v", err)
		}
	}
}

func count(errs []error) int {
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	return ok
}
