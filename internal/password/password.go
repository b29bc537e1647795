// Package password hashes and verifies user passwords with argon2id and
// tells when a stored hash was made with parameters other than the current
// ones, so it can be upgraded at the next successful login.
//
// Hashes are PHC strings ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
// the format other argon2 libraries read, so a pool can be exported or
// imported without resetting passwords. Hashes imported from other systems
// (bcrypt, argon2i, scrypt, Firebase scrypt, PBKDF2, Django, Keycloak,
// legacy digests; one file per format, recognised by Parse within cost
// limits) verify too, and always ask to be replaced.
//
// argon2id is deliberately expensive in memory: every computation holds
// Params.Memory KiB for its whole duration. A Hasher therefore runs at most
// a fixed number of computations at once and makes the rest wait, so a
// flood of logins costs latency instead of exhausting the server's memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/authpool/authpool/internal/metrics"
	reused "github.com/authpool/authpool/internal/password/argon2"
)

// Params are the argon2id cost parameters and output sizes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes; also the goroutines one computation uses
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the OWASP-recommended argon2id parameters
// (19 MiB, 2 passes, 1 lane), which keep a login near the tens of
// milliseconds on a server core while making offline guessing costly.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters, for the hasher's own and for those read from a
// stored hash. A stored hash is data: a corrupted or planted one must not be
// able to ask for gigabytes or minutes of work per login attempt, nor make
// argon2 panic on zero rounds or lanes. The ceilings leave room to raise the
// defaults roughly tenfold.
const (
	maxMemory  = 256 * 1024 // KiB (256 MiB)
	maxTime    = 16
	maxThreads = 16
	minSaltLen = 8 // the PHC format's minimum
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Validate reports whether p is within the bounds this package accepts.
// New panics on parameters that fail it, so configuration should call
// Validate first to report the problem properly.
func (p Params) Validate() error {
	var errs []error
	if p.Threads < 1 || p.Threads > maxThreads {
		errs = append(errs, fmt.Errorf("threads %d out of range [1, %d]", p.Threads, maxThreads))
	}
	// argon2 needs at least 8 KiB per lane.
	if p.Memory < 8*uint32(max(p.Threads, 1)) || p.Memory > maxMemory {
		errs = append(errs, fmt.Errorf("memory %d KiB out of range [8*threads, %d]", p.Memory, maxMemory))
	}
	if p.Time < 1 || p.Time > maxTime {
		errs = append(errs, fmt.Errorf("time %d out of range [1, %d]", p.Time, maxTime))
	}
	if p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen {
		errs = append(errs, fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen))
	}
	if p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen {
		errs = append(errs, fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("password: invalid argon2id parameters: %w", err)
	}
	return nil
}

// ErrMalformed is returned (wrapped) by Verify and Parse when the stored
// string is not a hash this package accepts.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords with fixed parameters. It is safe for
// concurrent use; at most the concurrency given to New computations run at
// once.
type Hasher struct {
	params Params
	// sem holds one token per running computation; its capacity is the
	// concurrency limit.
	sem chan struct{}
	// areas are the argon2id working areas of computations not running
	// (at most one per slot, made on first use): each hash reuses one
	// instead of allocating and zeroing Params.Memory KiB, so hashing
	// makes no garbage and the process holds about concurrency × Memory
	// for it, whatever the GC setting.
	areas chan *reused.Memory
	// dummy is a well-formed hash with the current parameters that no
	// password matches; DummyVerify spends one verification on it.
	dummy string
	// derive computes the argon2id key in area. It is the reused-area
	// argon2id (internal/password/argon2) except in tests,
	// which wrap it to observe how many computations run at once.
	derive func(area *reused.Memory, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	// metrics sees the queue for slots (nil: nothing recorded).
	metrics *metrics.Metrics
}

// UseMetrics records the queue for computation slots in m (its depth, the
// waits, the slots in use). Call it before the hasher is used.
func (h *Hasher) UseMetrics(m *metrics.Metrics) { h.metrics = m }

// acquire waits for a computation slot, or gives up with ctx's error.
// The caller releases the slot with h.release.
func (h *Hasher) acquire(ctx context.Context) error {
	// A select with both cases ready picks at random; check first so an
	// abandoned request never starts an expensive computation.
	if err := ctx.Err(); err != nil {
		return err
	}
	var start time.Time
	if h.metrics != nil {
		start = time.Now()
		h.metrics.HashQueued()
	}
	select {
	case h.sem <- struct{}{}:
		if h.metrics != nil {
			h.metrics.HashStarted(time.Since(start), true)
		}
		return nil
	case <-ctx.Done():
		h.metrics.HashStarted(0, false)
		return ctx.Err()
	}
}

func (h *Hasher) release() {
	<-h.sem
	h.metrics.HashDone()
}

// New returns a Hasher that hashes with p and runs at most concurrency
// computations at once (runtime.NumCPU() when concurrency <= 0). Memory
// for hashing is about concurrency × p.Memory, allocated on first use and
// kept. New panics when p fails
// Params.Validate: that is a configuration bug, caught at startup.
func New(p Params, concurrency int) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	// The dummy's key is random rather than derived: verifying against it
	// costs exactly one derivation either way, and no password can match.
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	rand.Read(salt) // never fails (crypto/rand crashes the program instead)
	rand.Read(key)
	return &Hasher{
		params: p,
		sem:    make(chan struct{}, concurrency),
		areas:  make(chan *reused.Memory, concurrency),
		dummy:  encode(p, salt, key),
		derive: (*reused.Memory).IDKey,
	}
}

// Hash returns the PHC string of plain with a fresh random salt. It waits
// for a free slot and gives up with ctx's error when ctx ends first; once
// started, a computation runs to completion.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails (crypto/rand crashes the program instead)
	key, err := h.compute(ctx, []byte(plain), salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether plain matches the stored hash encoded, and, when it
// does, whether encoded was made with parameters other than the hasher's, or
// in a foreign format Parse accepts, and should be replaced by a fresh Hash
// of plain. A wrong password is ok=false
// with a nil error; err is set only for an unusable stored string
// (wrapping ErrMalformed) or when ctx ends while waiting for a slot.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok, needsRehash bool, err error) {
	// Parse before taking a slot: a broken string should not wait in line.
	if !strings.HasPrefix(encoded, "$argon2id$") {
		// A foreign hash (imported): verified with its own algorithm under
		// the same slots, and always replaced once the password is known.
		v, err := Parse(encoded)
		if err != nil {
			return false, false, err
		}
		if ok, err = h.verifyForeign(ctx, v, plain); err != nil || !ok {
			return false, false, err
		}
		return true, true, nil
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.compute(ctx, []byte(plain), salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// DummyVerify spends one verification with the current parameters on a hash
// no password matches. Call it when the account is unknown or has no
// password, so that the response time does not reveal which accounts
// exist. Its only possible error is ctx's, when ctx ends while waiting.
func (h *Hasher) DummyVerify(ctx context.Context, plain string) error {
	_, _, err := h.Verify(ctx, plain, h.dummy)
	return err
}

// compute runs one derivation under the semaphore.
func (h *Hasher) compute(ctx context.Context, plain, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	if p.Memory > h.params.Memory {
		// A hash made with more memory than today's parameters (before
		// they were lowered): computed in an area of its own, so that the
		// kept areas stay at the size the configuration promises.
		area := new(reused.Memory)
		defer area.Free()
		return h.derive(area, plain, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
	}
	var area *reused.Memory
	select {
	case area = <-h.areas:
	default:
		area = new(reused.Memory)
	}
	key := h.derive(area, plain, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.areas <- area // never blocks: one area per running computation at most
	return key, nil
}

// verifyForeign runs one foreign verification under the semaphore, like
// compute: imported hashes share the concurrency bound.
func (h *Hasher) verifyForeign(ctx context.Context, v Verifier, plain string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return v.match([]byte(plain)), nil
}

// b64 is the PHC encoding: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// unbase64 decodes s and accepts it only in the one spelling b64 produces:
// the decoder by itself skips '\r' and '\n' and, unless strict, ignores
// trailing bits.
func unbase64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an argon2id PHC string strictly: exactly the fields encode
// writes, in its order, with canonical numbers and lengths within bounds.
// The returned Params carry the stored salt and key lengths, so comparing
// them with the hasher's also detects a change of output sizes.
func decode(s string) (Params, []byte, []byte, error) {
	return decodeVariant(s, "argon2id")
}

// decodeVariant is decode for the argon2 variant named ("argon2id" or
// "argon2i"), with the same grammar and bounds.
func decodeVariant(s, variant string) (Params, []byte, []byte, error) {
	fail := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, why)
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("wrong number of fields")
	}
	if parts[1] != variant {
		return fail("not " + variant)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	ps := strings.Split(parts[3], ",")
	if len(ps) != 3 {
		return fail("wrong parameter list")
	}
	m, okM := number(ps[0], "m=", 32)
	t, okT := number(ps[1], "t=", 32)
	th, okP := number(ps[2], "p=", 8)
	if !okM || !okT || !okP {
		return fail("bad parameter")
	}
	// Check lengths before decoding so a huge field costs nothing.
	if len(parts[4]) > b64.EncodedLen(maxSaltLen) || len(parts[5]) > b64.EncodedLen(maxKeyLen) {
		return fail("salt or hash too long")
	}
	salt, ok := unbase64(parts[4])
	if !ok {
		return fail("bad salt encoding")
	}
	key, ok := unbase64(parts[5])
	if !ok {
		return fail("bad hash encoding")
	}
	p := Params{
		Memory: uint32(m), Time: uint32(t), Threads: uint8(th),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key)),
	}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return p, salt, key, nil
}

// number parses "<prefix><decimal>" in canonical form: no sign, no leading
// zeros, fitting in bits.
func number(s, prefix string, bits int) (uint64, bool) {
	d, ok := strings.CutPrefix(s, prefix)
	if !ok || d == "" || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(d, 10, bits)
	if err != nil {
		return 0, false
	}
	return v, true
}
