package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authpool/authpool/internal/userpool"
)

// memKeys is an in-memory KeyStore with the store's contract: oldest first,
// AddSigningKeyIfNone adds only to an empty set. It counts calls so tests
// can prove verification never reaches the store.
type memKeys struct {
	mu        sync.Mutex
	keys      []*userpool.SigningKey
	calls     atomic.Int32
	rotations atomic.Int32 // RotateSigningKey calls
	err       error
}

func (s *memKeys) SigningKeys(context.Context) ([]*userpool.SigningKey, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return append([]*userpool.SigningKey(nil), s.keys...), nil
}

func (s *memKeys) AddSigningKeyIfNone(_ context.Context, k *userpool.SigningKey) ([]*userpool.SigningKey, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if len(s.keys) == 0 {
		s.keys = append(s.keys, k)
	}
	return append([]*userpool.SigningKey(nil), s.keys...), nil
}

func (s *memKeys) RotateSigningKey(_ context.Context, k *userpool.SigningKey, latest time.Time) ([]*userpool.SigningKey, bool, error) {
	s.calls.Add(1)
	s.rotations.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, false, s.err
	}
	for _, o := range s.keys {
		if o.RetiredAt.IsZero() && o.SignsFrom.After(latest) {
			return append([]*userpool.SigningKey(nil), s.keys...), false, nil
		}
	}
	s.keys = append(s.keys, k)
	return append([]*userpool.SigningKey(nil), s.keys...), true, nil
}

// find returns the stored key with id (the store's copy, to change under
// s.mu: callers got copies of the slice but share the keys, as the tests
// built them).
func (s *memKeys) find(id string) *userpool.SigningKey {
	for i, k := range s.keys {
		if k.ID == id {
			c := *k
			s.keys[i] = &c
			return &c
		}
	}
	return nil
}

func (s *memKeys) NoteSigningKeyExpiry(_ context.Context, id string, exp time.Time) error {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	k := s.find(id)
	if k == nil || !k.RetiredAt.IsZero() {
		return userpool.ErrNotFound
	}
	if exp.After(k.LastExpiry) {
		k.LastExpiry = exp
	}
	return nil
}

func (s *memKeys) RetireSigningKey(_ context.Context, id string, at, by time.Time) (bool, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	k := s.find(id)
	if k == nil || !k.RetiredAt.IsZero() || k.LastExpiry.After(by) {
		return false, nil
	}
	k.RetiredAt, k.PrivatePEM = at, nil
	return true, nil
}

func (s *memKeys) DeleteRetiredSigningKeys(_ context.Context, before time.Time) (int, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	n := len(s.keys)
	s.keys = slices.DeleteFunc(s.keys, func(k *userpool.SigningKey) bool {
		return !k.RetiredAt.IsZero() && k.RetiredAt.Before(before)
	})
	return n - len(s.keys), nil
}

// fakeClock is an injected clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const issuer = "https://auth.example.test"

// pregenerated holds a few keys made once per test binary: RSA generation
// is the slow part of these tests, especially under -race.
var pregenerated = sync.OnceValues(func() ([]*userpool.SigningKey, error) {
	var keys []*userpool.SigningKey
	for i := range 3 {
		k, err := generateKey(t0.Add(time.Duration(i) * time.Hour))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

func testKey(t testing.TB, i int) *userpool.SigningKey {
	t.Helper()
	keys, err := pregenerated()
	if err != nil {
		t.Fatal(err)
	}
	return keys[i]
}

// newTestManager builds a manager over a store holding key i, on a fake
// clock at t0.
func newTestManager(t testing.TB, i int) (*Manager, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: t0}
	m, err := NewManager(context.Background(), &memKeys{keys: []*userpool.SigningKey{testKey(t, i)}}, issuer, clock.Now, Lifecycle{})
	if err != nil {
		t.Fatal(err)
	}
	return m, clock
}

func sampleClaims() Claims {
	return Claims{
		Subject: "user-1", SessionID: "sess-1", PoolID: "pool-1", Issuer: issuer,
		IssuedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
}

func mustIssue(t testing.TB, m *Manager, c Claims) string {
	t.Helper()
	tok, err := m.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// segment decodes part i of a compact JWS into a JSON object.
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func privateKey(t testing.TB, k *userpool.SigningKey) *rsa.PrivateKey {
	t.Helper()
	priv, err := parseKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// sign makes a token with any header and claims, signed RS256 by priv: the
// tool for tokens that are authentic but not of the shape Issue makes.
func sign(t *testing.T, priv *rsa.PrivateKey, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantInvalid(t *testing.T, m *Manager, tok string) {
	t.Helper()
	c, err := m.Verify(context.Background(), tok)
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
		t.Fatalf("Verify = %v; want ErrInvalid only", err)
	}
	if c != (Claims{}) {
		t.Fatalf("Verify returned claims %+v with ErrInvalid", c)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	in := sampleClaims()
	in.IssuedAt = t0.Add(400 * time.Millisecond) // sub-second parts are dropped
	tok := mustIssue(t, m, in)

	got, err := m.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := sampleClaims()
	if got != want {
		t.Fatalf("Verify = %+v\nwant     %+v", got, want)
	}

	// The wire shape other software relies on.
	h := segment(t, tok, 0)
	if h["alg"] != "RS256" || h["kid"] != testKey(t, 0).ID || h["typ"] != "JWT" {
		t.Errorf("header = %v", h)
	}
	p := segment(t, tok, 1)
	for k, v := range map[string]any{
		"sub": "user-1", "sid": "sess-1", "pool": "pool-1", "userPoolId": "pool-1", "iss": issuer,
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(time.Hour).Unix()),
	} {
		if p[k] != v {
			t.Errorf("payload[%q] = %v; want %v", k, p[k], v)
		}
	}
	data, _ := p["data"].(map[string]any)
	if data["id"] != "user-1" || data["userPoolId"] != "pool-1" {
		t.Errorf("payload data = %v; want id and userPoolId (Authing SDK reads data.id)", p["data"])
	}
}

func TestIssueDefaultsAndRejects(t *testing.T) {
	t.Parallel()
	m, clock := newTestManager(t, 0)
	clock.Set(t0.Add(time.Minute))
	c, err := m.Verify(context.Background(), mustIssue(t, m, Claims{Subject: "u", SessionID: "s", PoolID: "p", ExpiresAt: t0.Add(time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != issuer || !c.IssuedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("defaults: issuer %q, iat %v; want %q and the clock's time", c.Issuer, c.IssuedAt, issuer)
	}

	bad := map[string]func(*Claims){
		"no subject":      func(c *Claims) { c.Subject = "" },
		"no session":      func(c *Claims) { c.SessionID = "" },
		"no expiry":       func(c *Claims) { c.ExpiresAt = time.Time{} },
		"expiry past iat": func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) },
		"other issuer":    func(c *Claims) { c.Issuer = "someone-else" },
	}
	for name, change := range bad {
		c := sampleClaims()
		change(&c)
		if tok, err := m.Issue(context.Background(), c); err == nil {
			t.Errorf("%s: Issue = %q, nil; want an error", name, tok)
		}
	}
}

func TestVerifyExpired(t *testing.T) {
	t.Parallel()
	m, clock := newTestManager(t, 0)
	tok := mustIssue(t, m, sampleClaims())

	clock.Set(t0.Add(time.Hour - time.Second))
	if _, err := m.Verify(context.Background(), tok); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	for _, now := range []time.Time{t0.Add(time.Hour), t0.Add(48 * time.Hour)} {
		clock.Set(now)
		c, err := m.Verify(context.Background(), tok)
		if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
			t.Fatalf("at %v: Verify = %v; want ErrExpired only", now, err)
		}
		if c != sampleClaims() {
			t.Fatalf("claims with ErrExpired = %+v; want the token's", c)
		}
	}
}

func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	tok := mustIssue(t, m, sampleClaims())
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	// Flip bits in decoded bytes, not characters of the encoding: a changed
	// last character may only touch padding bits and decode the same.
	for _, i := range []int{0, len(sig) / 2, len(sig) - 1} {
		bad := append([]byte(nil), sig...)
		bad[i] ^= 0x01
		wantInvalid(t, m, parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(bad))
	}
	wantInvalid(t, m, parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1]))

	// A payload changed under the original signature.
	p := segment(t, tok, 1)
	p["sub"] = "admin"
	raw, _ := json.Marshal(p)
	wantInvalid(t, m, parts[0]+"."+base64.RawURLEncoding.EncodeToString(raw)+"."+parts[2])
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	good := mustIssue(t, m, sampleClaims())
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"empty":              "",
		"one segment":        "abc",
		"two segments":       parts[0] + "." + parts[1],
		"four segments":      good + ".abc",
		"garbage":            "a.b.c",
		"padded signature":   good + "==",
		"std alphabet":       parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/",
		"header not json":    base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2],
		"leading whitespace": " " + good,
		"huge":               good + strings.Repeat("A", maxTokenLen),
	} {
		t.Run(name, func(t *testing.T) { wantInvalid(t, m, tok) })
	}
}

func TestVerifyForeignKey(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	other, _ := newTestManager(t, 1) // same issuer, other key store

	// Unknown kid.
	wantInvalid(t, m, mustIssue(t, other, sampleClaims()))

	// Another key that claims to be ours.
	c := sampleClaims()
	forged := sign(t, privateKey(t, testKey(t, 1)), map[string]any{"kid": testKey(t, 0).ID}, jwt.MapClaims{
		"sub": c.Subject, "sid": c.SessionID, "pool": c.PoolID, "userPoolId": c.PoolID,
		"iss": issuer, "iat": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix(),
	})
	wantInvalid(t, m, forged)
}

// TestVerifyAlgorithmForgeries sends tokens with our kid and well-formed
// claims that are "signed" with other algorithms, including the classic
// attacks: alg=none and HS256 keyed with the published public key.
func TestVerifyAlgorithmForgeries(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	kid := testKey(t, 0).ID
	priv := privateKey(t, testKey(t, 0))
	claims := jwt.MapClaims{
		"sub": "user-1", "sid": "sess-1", "pool": "pool-1", "userPoolId": "pool-1",
		"iss": issuer, "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
	}
	// Control: the same claims signed properly are accepted, so every
	// rejection below is due to the algorithm alone.
	if _, err := m.Verify(context.Background(), sign(t, priv, map[string]any{"kid": kid}, claims)); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}

	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	forge := func(method jwt.SigningMethod, key any) string {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)
	withSig := func(tok, sig string) string { return tok[:strings.LastIndex(tok, ".")+1] + sig }

	for name, tok := range map[string]string{
		"none":                       none,
		"none with signature":        withSig(none, strings.Split(sign(t, priv, map[string]any{"kid": kid}, claims), ".")[2]),
		"NONE upper case":            headerAlg(t, none, "NONE"),
		"HS256 with public PEM":      forge(jwt.SigningMethodHS256, []byte(m.PublicKeyPEM(context.Background()))),
		"HS256 with public DER":      forge(jwt.SigningMethodHS256, spki),
		"HS256 with JWKS":            forge(jwt.SigningMethodHS256, m.JWKS(context.Background())),
		"RS512 with our private key": forge(jwt.SigningMethodRS512, priv),
		"PS256 with our private key": forge(jwt.SigningMethodPS256, priv),
		"alg missing":                headerAlg(t, sign(t, priv, map[string]any{"kid": kid}, claims), ""),
	} {
		t.Run(name, func(t *testing.T) { wantInvalid(t, m, tok) })
	}
}

// headerAlg rewrites the alg of tok's header, keeping the signature.
func headerAlg(t *testing.T, tok, alg string) string {
	t.Helper()
	h := segment(t, tok, 0)
	if alg == "" {
		delete(h, "alg")
	} else {
		h["alg"] = alg
	}
	raw, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(raw) + tok[strings.Index(tok, "."):]
}

// TestVerifyClaims signs tokens with the real key whose claims or header
// differ from what Issue makes.
func TestVerifyClaims(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	kid := testKey(t, 0).ID
	priv := privateKey(t, testKey(t, 0))
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"sub": "user-1", "sid": "sess-1", "pool": "pool-1", "userPoolId": "pool-1",
			"data": map[string]any{"id": "user-1", "userPoolId": "pool-1"},
			"iss":  issuer, "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		}
	}
	tests := []struct {
		name   string
		header map[string]any
		change func(jwt.MapClaims)
		want   error
	}{
		{"control", nil, func(jwt.MapClaims) {}, nil},
		{"control without data", nil, func(c jwt.MapClaims) { delete(c, "data") }, nil},
		{"expired", nil, func(c jwt.MapClaims) { c["exp"] = t0.Unix() }, ErrExpired},
		{"wrong issuer", nil, func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }, ErrInvalid},
		{"no issuer", nil, func(c jwt.MapClaims) { delete(c, "iss") }, ErrInvalid},
		{"no subject", nil, func(c jwt.MapClaims) { delete(c, "sub") }, ErrInvalid},
		{"empty subject", nil, func(c jwt.MapClaims) { c["sub"] = "" }, ErrInvalid},
		{"no session", nil, func(c jwt.MapClaims) { delete(c, "sid") }, ErrInvalid},
		{"no expiry", nil, func(c jwt.MapClaims) { delete(c, "exp") }, ErrInvalid},
		{"no issued at", nil, func(c jwt.MapClaims) { delete(c, "iat") }, ErrInvalid},
		{"expiry not a number", nil, func(c jwt.MapClaims) { c["exp"] = "soon" }, ErrInvalid},
		{"subject not a string", nil, func(c jwt.MapClaims) { c["sub"] = 42 }, ErrInvalid},
		{"not before in the future", nil, func(c jwt.MapClaims) { c["nbf"] = t0.Add(time.Minute).Unix() }, ErrInvalid},
		{"pool mismatch", nil, func(c jwt.MapClaims) { c["userPoolId"] = "pool-2" }, ErrInvalid},
		{"data id mismatch", nil, func(c jwt.MapClaims) { c["data"] = map[string]any{"id": "admin", "userPoolId": "pool-1"} }, ErrInvalid},
		// Invalid wins over expired: an expired token must also be ours.
		{"expired and no subject", nil, func(c jwt.MapClaims) { c["exp"] = t0.Unix(); delete(c, "sub") }, ErrInvalid},
		{"expired and wrong issuer", nil, func(c jwt.MapClaims) { c["exp"] = t0.Unix(); c["iss"] = "x" }, ErrInvalid},
		{"no kid", map[string]any{}, func(jwt.MapClaims) {}, ErrInvalid},
		{"kid not a string", map[string]any{"kid": 7}, func(jwt.MapClaims) {}, ErrInvalid},
		{"critical extension", map[string]any{"kid": kid, "crit": []string{"exp"}}, func(jwt.MapClaims) {}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == nil {
				header = map[string]any{"kid": kid}
			}
			c := base()
			tt.change(c)
			tok := sign(t, priv, header, c)
			_, err := m.Verify(context.Background(), tok)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Verify = %v; want success", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Verify = %v; want %v", err, tt.want)
			case errors.Is(err, ErrInvalid) && errors.Is(err, ErrExpired):
				t.Fatalf("Verify = %v matches both sentinels", err)
			}
		})
	}
}

// TestManagersShareKeyStore starts replicas at once on an empty store: they
// must settle on one key and accept each other's tokens.
func TestManagersShareKeyStore(t *testing.T) {
	t.Parallel()
	store := &memKeys{}
	const replicas = 3
	managers := make([]*Manager, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			managers[i], errs[i] = NewManager(context.Background(), store, issuer, func() time.Time { return t0 }, Lifecycle{})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(store.keys); n != 1 {
		t.Fatalf("store holds %d keys; want 1", n)
	}
	for i, issuing := range managers {
		tok := mustIssue(t, issuing, sampleClaims())
		if kid := segment(t, tok, 0)["kid"]; kid != store.keys[0].ID {
			t.Errorf("replica %d signs with kid %v; want the stored %q", i, kid, store.keys[0].ID)
		}
		for j, verifying := range managers {
			if _, err := verifying.Verify(context.Background(), tok); err != nil {
				t.Errorf("replica %d rejects replica %d's token: %v", j, i, err)
			}
		}
	}
	// A manager started later loads the stored key instead of making one.
	later, err := NewManager(context.Background(), store, issuer, func() time.Time { return t0 }, Lifecycle{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := later.Verify(context.Background(), mustIssue(t, managers[0], sampleClaims())); err != nil || len(store.keys) != 1 {
		t.Fatalf("later replica: %v, %d keys", err, len(store.keys))
	}
}

// TestNewestKeySignsAllVerify: of keys that all began signing, the last
// one signs; the others verify while the tokens they signed may live.
func TestNewestKeySignsAllVerify(t *testing.T) {
	t.Parallel()
	old, mid, newest := *testKey(t, 0), *testKey(t, 1), *testKey(t, 2)
	old.LastExpiry, mid.LastExpiry = t0.Add(3*time.Hour), t0.Add(3*time.Hour)
	// Out of order on purpose: the signing key is chosen by SignsFrom.
	store := &memKeys{keys: []*userpool.SigningKey{&old, &newest, &mid}}
	m, err := NewManager(context.Background(), store, issuer, func() time.Time { return t0.Add(2 * time.Hour) }, Lifecycle{})
	if err != nil {
		t.Fatal(err)
	}
	if kid := segment(t, mustIssue(t, m, sampleClaims()), 0)["kid"]; kid != newest.ID {
		t.Fatalf("signs with %v; want the newest key %q", kid, newest.ID)
	}
	long := sampleClaims()
	long.ExpiresAt = t0.Add(3 * time.Hour)
	for i := range 3 {
		before, _ := newTestManager(t, i)
		if _, err := m.Verify(context.Background(), mustIssue(t, before, long)); err != nil {
			t.Errorf("token signed by key %d rejected: %v", i, err)
		}
	}
	var set struct{ Keys []jwk }
	if err := json.Unmarshal(m.JWKS(context.Background()), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 3 || set.Keys[0].Kid != newest.ID {
		t.Fatalf("JWKS lists %d keys, first %q; want 3, signing key first", len(set.Keys), set.Keys[0].Kid)
	}
}

func TestVerifyDoesNotTouchStore(t *testing.T) {
	t.Parallel()
	store := &memKeys{keys: []*userpool.SigningKey{testKey(t, 0)}}
	m, err := NewManager(context.Background(), store, issuer, func() time.Time { return t0 }, Lifecycle{})
	if err != nil {
		t.Fatal(err)
	}
	tok := mustIssue(t, m, sampleClaims())
	before := store.calls.Load()
	for range 10 {
		if _, err := m.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = m.Verify(context.Background(), "a.b.c")
	if got := store.calls.Load(); got != before {
		t.Fatalf("store called %d times by Verify within the refresh interval; want 0", got-before)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	tok := mustIssue(t, m, sampleClaims())

	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(context.Background()), &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys; want 1", len(set.Keys))
	}
	k := set.Keys[0]
	for field, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": testKey(t, 0).ID} {
		if k[field] != want {
			t.Errorf("JWK %s = %q; want %q", field, k[field], want)
		}
	}
	if len(k) != 6 {
		t.Errorf("JWK has members %v; want exactly kty, kid, use, alg, n, e (no private parts)", k)
	}
	n, err := base64.RawURLEncoding.DecodeString(k["n"])
	if err != nil {
		t.Fatal(err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k["e"])
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}

	// Verify the token with the JWKS key alone, as a third party would.
	parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != k["kid"] {
			t.Errorf("token kid %v not in JWKS", tk.Header["kid"])
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return t0 }))
	if err != nil || !parsed.Valid {
		t.Fatalf("token does not verify with the JWKS key: %v", err)
	}

	// The cached document cannot be changed through the returned slice.
	b := m.JWKS(context.Background())
	b[0] = 'X'
	if m.JWKS(context.Background())[0] != '{' {
		t.Fatal("JWKS returns the cached slice itself")
	}
}

func TestPublicKeyPEM(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t, 0)
	block, rest := pem.Decode([]byte(m.PublicKeyPEM(context.Background())))
	if block == nil || block.Type != "PUBLIC KEY" || len(rest) != 0 {
		t.Fatalf("PublicKeyPEM = %q; want one SPKI PUBLIC KEY block", m.PublicKeyPEM(context.Background()))
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse(mustIssue(t, m, sampleClaims()), func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return t0 })); err != nil {
		t.Fatalf("token does not verify with PublicKeyPEM: %v", err)
	}
}

// TestThumbprint checks the kid derivation against RFC 7638 §3.1.
func TestThumbprint(t *testing.T) {
	t.Parallel()
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got := thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint = %q; want %q", got, want)
	}
}

func TestNewManagerRejects(t *testing.T) {
	t.Parallel()
	good := testKey(t, 0)
	withPEM := func(p []byte) *userpool.SigningKey {
		k := *good
		k.PrivatePEM = p
		return &k
	}
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good.PrivatePEM)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(privateKey(t, good))})
	otherAlg := *good
	otherAlg.Algorithm = "HS256"
	noID := *good
	noID.ID = ""

	tests := map[string]struct {
		store  *memKeys
		issuer string
	}{
		"empty issuer":        {&memKeys{keys: []*userpool.SigningKey{good}}, ""},
		"store error":         {&memKeys{err: errors.New("database is down")}, issuer},
		"other algorithm":     {&memKeys{keys: []*userpool.SigningKey{&otherAlg}}, issuer},
		"empty kid":           {&memKeys{keys: []*userpool.SigningKey{&noID}}, issuer},
		"duplicate kid":       {&memKeys{keys: []*userpool.SigningKey{good, good}}, issuer},
		"not PEM":             {&memKeys{keys: []*userpool.SigningKey{withPEM([]byte("hunter2"))}}, issuer},
		"PKCS#1 PEM":          {&memKeys{keys: []*userpool.SigningKey{withPEM(pkcs1)}}, issuer},
		"corrupt DER":         {&memKeys{keys: []*userpool.SigningKey{withPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:100]}))}}, issuer},
		"trailing data":       {&memKeys{keys: []*userpool.SigningKey{withPEM(append(append([]byte(nil), good.PrivatePEM...), "junk"...))}}, issuer},
		"EC key":              {&memKeys{keys: []*userpool.SigningKey{withPEM(pkcs8(ec))}}, issuer},
		"1024-bit RSA":        {&memKeys{keys: []*userpool.SigningKey{withPEM(pkcs8(small))}}, issuer},
		"public key in store": {&memKeys{keys: []*userpool.SigningKey{withPEM([]byte(mustPublicPEM(t, good)))}}, issuer},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if m, err := NewManager(context.Background(), tt.store, tt.issuer, nil, Lifecycle{}); err == nil {
				t.Fatalf("NewManager = %v, nil; want an error", m)
			}
		})
	}
}

func mustPublicPEM(t *testing.T, k *userpool.SigningKey) string {
	t.Helper()
	s, err := publicPEM(&privateKey(t, k).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func BenchmarkIssue(b *testing.B) {
	m, _ := newTestManager(b, 0)
	c := sampleClaims()
	for b.Loop() {
		if _, err := m.Issue(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	m, _ := newTestManager(b, 0)
	tok := mustIssue(b, m, sampleClaims())
	for b.Loop() {
		if _, err := m.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
