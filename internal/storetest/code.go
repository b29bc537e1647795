package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func newCode(poolID, purpose, target, hash string, expires time.Time) *userpool.VerificationCode {
	return &userpool.VerificationCode{PoolID: poolID, Purpose: purpose, Target: target, Hash: []byte(hash), CreatedAt: t0, ExpiresAt: expires}
}

// peekCode returns the stored code without spending it or changing it.
func peekCode(t *testing.T, s userpool.Store, poolID, purpose, target string) (*userpool.VerificationCode, error) {
	t.Helper()
	var got *userpool.VerificationCode
	err := s.UseCode(ctx(t), poolID, purpose, target, func(c *userpool.VerificationCode) bool {
		cp := *c
		got = &cp
		return false
	})
	return got, err
}

func testCodes(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pc")
	c := newCode(p.ID, "sms", "+8613800138000", "hash-one", t0.Add(time.Minute))
	checkNoErr(t, "PutCode", s.PutCode(ctx(t), c))
	got, err := peekCode(t, s, p.ID, "sms", "+8613800138000")
	checkNoErr(t, "UseCode", err)
	checkEqual(t, "stored code", c, got)

	// A wrong try: fn counts it and keeps the code.
	for want := 1; want <= 2; want++ {
		checkNoErr(t, "UseCode keep", s.UseCode(ctx(t), p.ID, "sms", "+8613800138000", func(c *userpool.VerificationCode) bool {
			c.Attempts++
			return false
		}))
		got, _ = peekCode(t, s, p.ID, "sms", "+8613800138000")
		if got.Attempts != want {
			t.Fatalf("attempts %d, want %d", got.Attempts, want)
		}
	}

	// A new code replaces the old one and its attempts.
	c2 := newCode(p.ID, "sms", "+8613800138000", "hash-two", t0.Add(2*time.Minute))
	checkNoErr(t, "PutCode again", s.PutCode(ctx(t), c2))
	got, _ = peekCode(t, s, p.ID, "sms", "+8613800138000")
	checkEqual(t, "replacing code", c2, got)

	// Spending deletes it; a second use finds nothing and fn is not called.
	checkNoErr(t, "UseCode spend", s.UseCode(ctx(t), p.ID, "sms", "+8613800138000", func(*userpool.VerificationCode) bool { return true }))
	called := false
	err = s.UseCode(ctx(t), p.ID, "sms", "+8613800138000", func(*userpool.VerificationCode) bool { called = true; return true })
	checkErr(t, "UseCode spent", err, userpool.ErrCodeNotFound)
	if called {
		t.Fatal("fn called for a missing code")
	}

	// Pool, purpose and target each separate codes.
	other := newPool(t, s, "pc2")
	keys := []*userpool.VerificationCode{
		newCode(p.ID, "email:RESET_PASSWORD", "a@example.com", "h1", t0.Add(time.Hour)),
		newCode(p.ID, "email:CHANGE_EMAIL", "a@example.com", "h2", t0.Add(time.Hour)),
		newCode(p.ID, "email:RESET_PASSWORD", "b@example.com", "h3", t0.Add(time.Hour)),
		newCode(other.ID, "email:RESET_PASSWORD", "a@example.com", "h4", t0.Add(time.Hour)),
	}
	for _, k := range keys {
		checkNoErr(t, "PutCode", s.PutCode(ctx(t), k))
	}
	for _, k := range keys {
		got, err := peekCode(t, s, k.PoolID, k.Purpose, k.Target)
		checkNoErr(t, "UseCode", err)
		if !bytes.Equal(got.Hash, k.Hash) {
			t.Errorf("code %s/%s/%s has hash %q, want %q", k.PoolID, k.Purpose, k.Target, got.Hash, k.Hash)
		}
	}
	checkErr(t, "PutCode unknown pool", s.PutCode(ctx(t), newCode("nope", "sms", "+1", "h", t0.Add(time.Hour))), userpool.ErrPoolNotFound)
}

func testPurgeCodes(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pp")
	checkNoErr(t, "PutCode", s.PutCode(ctx(t), newCode(p.ID, "sms", "+1old", "h", t0.Add(time.Minute))))
	checkNoErr(t, "PutCode", s.PutCode(ctx(t), newCode(p.ID, "sms", "+1live", "h", t0.Add(time.Hour))))
	n, err := s.PurgeExpired(ctx(t), t0.Add(30*time.Minute))
	checkNoErr(t, "PurgeExpired", err)
	if n != 1 {
		t.Fatalf("purged %d rows, want 1 (the expired code)", n)
	}
	_, err = peekCode(t, s, p.ID, "sms", "+1old")
	checkErr(t, "expired code after purge", err, userpool.ErrCodeNotFound)
	if _, err := peekCode(t, s, p.ID, "sms", "+1live"); err != nil {
		t.Fatalf("purge removed a live code: %v", err)
	}
}

func testDecrCounter(t *testing.T, s userpool.Store) {
	const key = "sms:phone"
	for range 3 {
		_, _, err := s.IncrCounter(ctx(t), key, time.Minute, t0)
		checkNoErr(t, "IncrCounter", err)
	}
	checkNoErr(t, "DecrCounter", s.DecrCounter(ctx(t), key, t0))
	if n, _, _ := s.GetCounter(ctx(t), key, t0); n != 2 {
		t.Fatalf("after one decrement: %d, want 2", n)
	}
	for range 4 {
		checkNoErr(t, "DecrCounter", s.DecrCounter(ctx(t), key, t0))
	}
	n, end, _ := s.GetCounter(ctx(t), key, t0)
	if n != 0 || !end.Equal(t0.Add(time.Minute)) {
		t.Fatalf("decremented below zero or lost the window: %d %v", n, end)
	}
	checkNoErr(t, "DecrCounter missing", s.DecrCounter(ctx(t), "missing", t0))
	if n, _, _ := s.GetCounter(ctx(t), "missing", t0); n != 0 {
		t.Fatal("decrementing a missing counter created it")
	}
	// An ended window is not touched: the next hit starts a new one at 1.
	_, _, _ = s.IncrCounter(ctx(t), "ended", time.Second, t0)
	checkNoErr(t, "DecrCounter ended", s.DecrCounter(ctx(t), "ended", t0.Add(time.Minute)))
	if n, _, _ := s.IncrCounter(ctx(t), "ended", time.Second, t0.Add(time.Minute)); n != 1 {
		t.Fatalf("new window after decrementing an ended one counts %d", n)
	}
}

func testServerSecrets(t *testing.T, s userpool.Store) {
	got, err := s.EnsureServerSecret(ctx(t), "code", []byte("first"))
	checkNoErr(t, "EnsureServerSecret", err)
	if string(got) != "first" {
		t.Fatalf("first secret %q", got)
	}
	got, err = s.EnsureServerSecret(ctx(t), "code", []byte("second"))
	checkNoErr(t, "EnsureServerSecret again", err)
	if string(got) != "first" {
		t.Fatalf("an existing secret was replaced: %q", got)
	}
	got, _ = s.EnsureServerSecret(ctx(t), "other", []byte("x"))
	if string(got) != "x" {
		t.Fatalf("secrets are not kept by name: %q", got)
	}
	if _, err := s.EnsureServerSecret(ctx(t), "empty", nil); err == nil {
		t.Fatal("an empty secret was accepted")
	}
}

func testRaceServerSecret(t *testing.T, s userpool.Store) {
	const n = 8
	got := make([][]byte, n)
	errs := together(n, func(i int) error {
		var err error
		got[i], err = s.EnsureServerSecret(ctx(t), "race", fmt.Appendf(nil, "secret-%d", i))
		return err
	})
	for i, err := range errs {
		checkNoErr(t, "EnsureServerSecret", err)
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("replicas disagree on the secret: %q and %q", got[0], got[i])
		}
	}
}

// testRaceSpendCode: many concurrent users of one code, each of whom would
// spend it; exactly one gets to.
func testRaceSpendCode(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pr")
	checkNoErr(t, "PutCode", s.PutCode(ctx(t), newCode(p.ID, "sms", "+15550100", "h", t0.Add(time.Hour))))
	const n = 16
	var spent atomic.Int32
	errs := together(n, func(int) error {
		return s.UseCode(ctx(t), p.ID, "sms", "+15550100", func(*userpool.VerificationCode) bool {
			spent.Add(1)
			return true
		})
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, userpool.ErrCodeNotFound):
		default:
			t.Fatalf("UseCode: %v", err)
		}
	}
	if ok != 1 || spent.Load() != 1 {
		t.Fatalf("%d concurrent spends: %d succeeded, fn spent %d times; want exactly 1", n, ok, spent.Load())
	}
}

// testRaceCodeAttempts: concurrent wrong tries are all counted.
func testRaceCodeAttempts(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "pa")
	checkNoErr(t, "PutCode", s.PutCode(ctx(t), newCode(p.ID, "sms", "+15550101", "h", t0.Add(time.Hour))))
	const n = 16
	errs := together(n, func(int) error {
		return s.UseCode(ctx(t), p.ID, "sms", "+15550101", func(c *userpool.VerificationCode) bool {
			c.Attempts++
			return false
		})
	})
	for _, err := range errs {
		checkNoErr(t, "UseCode", err)
	}
	got, err := peekCode(t, s, p.ID, "sms", "+15550101")
	checkNoErr(t, "UseCode", err)
	if got.Attempts != n {
		t.Fatalf("%d concurrent wrong tries counted as %d", n, got.Attempts)
	}
}
