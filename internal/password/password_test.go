package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	reused "github.com/authpool/authpool/internal/password/argon2"
)

// cheap keeps tests fast; the algorithm is the same at any cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	ctx := context.Background()

	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("Hash = %q, not the expected PHC shape", enc)
	}

	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}

	again, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"Secret", "secret ", "", "secre"} {
		ok, rehash, err := h.Verify(ctx, wrong, enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
		}
	}
}

// TestVerifyReferenceVectors checks hashes made by the argon2 reference
// implementation (phc-winner-argon2 src/test.c), so hashes imported from
// other systems verify and ours are readable by them.
func TestVerifyReferenceVectors(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	for _, enc := range []string{
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
	} {
		ok, rehash, err := h.Verify(context.Background(), "password", enc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, true (params differ), nil", enc, ok, rehash, err)
		}
		ok, _, err = h.Verify(context.Background(), "differentpassword", enc)
		if err != nil || ok {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false, nil", enc, ok, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	good := "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key
	if ok, _, err := h.Verify(context.Background(), "password", good); err != nil || !ok {
		t.Fatalf("the well-formed base case does not verify: %v, %v", ok, err)
	}
	tests := []struct {
		name, enc string
	}{
		{"empty", ""},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"missing version", "$argon2id$m=256,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key},
		{"missing hash", "$argon2id$v=19$m=256,t=2,p=1$" + salt},
		{"extra field", good + "$"},
		{"params reordered", "$argon2id$v=19$t=2,m=256,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=256,t=2$" + salt + "$" + key},
		{"params extra", "$argon2id$v=19$m=256,t=2,p=1,k=1$" + salt + "$" + key},
		{"param empty", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key},
		{"param signed", "$argon2id$v=19$m=+256,t=2,p=1$" + salt + "$" + key},
		{"param negative", "$argon2id$v=19$m=256,t=-2,p=1$" + salt + "$" + key},
		{"param leading zero", "$argon2id$v=19$m=0256,t=2,p=1$" + salt + "$" + key},
		{"param not a number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"memory above ceiling", "$argon2id$v=19$m=262145,t=2,p=1$" + salt + "$" + key},
		{"memory below 8 per lane", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"time zero", "$argon2id$v=19$m=256,t=0,p=1$" + salt + "$" + key},
		{"time huge", "$argon2id$v=19$m=256,t=1000000,p=1$" + salt + "$" + key},
		{"threads zero", "$argon2id$v=19$m=256,t=2,p=0$" + salt + "$" + key},
		{"threads overflow uint8", "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key},
		{"threads above ceiling", "$argon2id$v=19$m=4096,t=2,p=17$" + salt + "$" + key},
		{"salt empty", "$argon2id$v=19$m=256,t=2,p=1$$" + key},
		{"salt too short", "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$" + key},
		{"salt too long", "$argon2id$v=19$m=256,t=2,p=1$" + strings.Repeat("A", 200) + "$" + key},
		{"salt padded", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "=$" + key},
		{"salt bad alphabet", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ!$" + key},
		{"hash url alphabet", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + strings.ReplaceAll(key, "/", "_")},
		{"salt non-canonical trailing bits", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$" + key},
		{"hash empty", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$"},
		{"hash too short", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key[:16]},
		{"hash too long", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + strings.Repeat(key, 3)},
		{"trailing newline", good + "\n"},
		{"newline inside salt", "$argon2id$v=19$m=256,t=2,p=1$c29tZX\nNhbHQ$" + key},
		{"carriage return inside hash", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$nf65EOgLrQMR/uIPnA4r\rEsF5h7TKyQwu9U1bMCHGi/4"},
		{"space", "$argon2id$v=19$m=256, t=2,p=1$" + salt + "$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(context.Background(), "password", tt.enc)
			if !errors.Is(err, ErrMalformed) || ok || rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want false, false, ErrMalformed", tt.enc, ok, rehash, err)
			}
		})
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := New(cheap, 2)
	enc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(*Params){
		"memory":  func(p *Params) { p.Memory = 128 },
		"time":    func(p *Params) { p.Time = 2 },
		"threads": func(p *Params) { p.Threads = 2 },
		"salt":    func(p *Params) { p.SaltLen = 32 },
		"key":     func(p *Params) { p.KeyLen = 64 },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := cheap
			change(&p)
			h := New(p, 2)
			ok, rehash, err := h.Verify(ctx, "pw", enc)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify after %s change = %v, %v, %v; want true, true, nil", name, ok, rehash, err)
			}
			// A wrong password must not trigger a rehash: only a proven
			// password can be rehashed.
			if ok, rehash, err := h.Verify(ctx, "wrong", enc); err != nil || ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
			fresh, err := h.Hash(ctx, "pw")
			if err != nil {
				t.Fatal(err)
			}
			if ok, rehash, err := h.Verify(ctx, "pw", fresh); err != nil || !ok || rehash {
				t.Fatalf("Verify(rehashed) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	t.Parallel()
	h := New(cheap, 1)
	var calls atomic.Int32
	var gotMem atomic.Uint32
	orig := h.derive
	h.derive = func(area *reused.Memory, pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls.Add(1)
		gotMem.Store(memory)
		return orig(area, pw, salt, time, memory, threads, keyLen)
	}
	if err := h.DummyVerify(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || gotMem.Load() != cheap.Memory {
		t.Fatalf("DummyVerify ran %d derivations with memory %d; want 1 with %d", calls.Load(), gotMem.Load(), cheap.Memory)
	}
	// The dummy must be a hash Verify accepts with current params, or the
	// unknown-account path would fail fast and be distinguishable.
	if _, rehash, err := h.Verify(context.Background(), "x", h.dummy); err != nil || rehash {
		t.Fatalf("dummy hash %q: rehash=%v err=%v", h.dummy, rehash, err)
	}
}

// TestConcurrencyBounded runs more hashes than slots inside a synctest
// bubble, where synctest.Wait returns only once every goroutine is blocked:
// at that moment exactly the slot count must be inside derive.
func TestConcurrencyBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const slots, callers = 3, 10
		h := New(cheap, slots)
		release := make(chan struct{})
		var inFlight, peak atomic.Int32
		h.derive = func(_ *reused.Memory, _, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			inFlight.Add(-1)
			return make([]byte, keyLen)
		}

		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = h.Hash(context.Background(), "pw")
				} else {
					_, _, err = h.Verify(context.Background(), "pw", h.dummy)
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		if got := inFlight.Load(); got != slots {
			// Errorf, not Fatalf: the callers must still be released, or
			// the bubble ends in a deadlock panic hiding this message.
			t.Errorf("%d computations in flight with %d callers; want exactly %d", got, callers, slots)
		}
		close(release)
		wg.Wait()
		if got := peak.Load(); got != slots {
			t.Fatalf("peak concurrency %d; want %d", got, slots)
		}
	})
}

func TestContextCanceledWhileWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := New(cheap, 1)
		release := make(chan struct{})
		var derived atomic.Int32
		h.derive = func(_ *reused.Memory, _, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
			derived.Add(1)
			<-release
			return make([]byte, keyLen)
		}
		// Occupy the only slot.
		holder := make(chan error)
		go func() {
			_, err := h.Hash(context.Background(), "first")
			holder <- err
		}()
		synctest.Wait()

		ctx, cancel := context.WithCancel(context.Background())
		waiters := make(chan error, 3)
		go func() { _, err := h.Hash(ctx, "pw"); waiters <- err }()
		go func() { _, _, err := h.Verify(ctx, "pw", h.dummy); waiters <- err }()
		go func() { waiters <- h.DummyVerify(ctx, "pw") }()
		synctest.Wait() // all three are now waiting for the slot
		cancel()
		for range 3 {
			if err := <-waiters; !errors.Is(err, context.Canceled) {
				t.Errorf("waiting call returned %v; want context.Canceled", err)
			}
		}
		close(release)
		if err := <-holder; err != nil {
			t.Fatalf("slot holder: %v", err)
		}
		if n := derived.Load(); n != 1 {
			t.Fatalf("%d derivations ran; abandoned callers must not compute", n)
		}

		// An already ended ctx never computes, even with a free slot.
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash with ended ctx = %v; want context.Canceled", err)
		}
		if n := derived.Load(); n != 1 {
			t.Fatalf("Hash with ended ctx computed")
		}
	})
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams invalid: %v", err)
	}
	if d := DefaultParams(); d != (Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Fatalf("DefaultParams = %+v", d)
	}
	bad := []Params{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 4 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	}
	for _, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New with invalid params did not panic")
		}
	}()
	New(Params{}, 1)
}

func BenchmarkHash(b *testing.B) {
	h := New(DefaultParams(), 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHashReusesAreas: hashes and verifications reuse one argon2id area per
// slot instead of allocating Params.Memory each (the garbage that grew the
// server's heap to hundreds of MiB, issue 17), and a stored hash with more
// memory than today's parameters does not grow the kept areas.
func TestHashReusesAreas(t *testing.T) {
	p := DefaultParams()
	p.Memory, p.Time = 4096, 1 // 4 MiB
	h := New(p, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 8
	for range n {
		if ok, _, err := h.Verify(ctx, "first", enc); err != nil || !ok {
			t.Fatalf("verify: %v %v", ok, err)
		}
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("%d verifications allocated %d bytes; one area is %d", n, alloc, p.Memory<<10)
	}
	if len(h.areas) != 1 {
		t.Errorf("%d idle areas after sequential hashes, want 1", len(h.areas))
	}

	bigger := p
	bigger.Memory = 8192
	old := New(bigger, 1)
	encBig, err := old.Hash(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.Verify(ctx, "second", encBig)
	if err != nil || !ok || !rehash {
		t.Fatalf("verify a larger hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	for len(h.areas) > 0 {
		if a := <-h.areas; a.Bytes() > int(p.Memory)<<10 {
			t.Errorf("a kept area holds %d bytes, more than the parameters' %d", a.Bytes(), p.Memory<<10)
		}
	}
}
