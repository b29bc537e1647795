package token

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestVerifiedCacheIsBounded(t *testing.T) {
	var c verifiedCache
	for i := range verifiedCacheSize + 100 {
		c.put(strconv.Itoa(i), Claims{Subject: strconv.Itoa(i)})
	}
	if n := len(c.m); n != verifiedCacheSize {
		t.Fatalf("cache holds %d entries; want at most %d", n, verifiedCacheSize)
	}
}

// TestCachedTokenStillExpires: a token verified once (and so cached) is
// still refused once its expiry passes, and a one-byte change of the cached
// token is still refused.
func TestCachedTokenStillExpires(t *testing.T) {
	m, clock := newTestManager(t, 0)
	tok := mustIssue(t, m, sampleClaims())
	if _, err := m.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.verified.get(tok); !ok {
		t.Fatal("verified token was not cached")
	}
	b := []byte(tok)
	b[len(b)-3] ^= 1
	if _, err := m.Verify(context.Background(), string(b)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("changed cached token: %v; want ErrInvalid", err)
	}
	clock.Set(t0.Add(time.Hour))
	if _, err := m.Verify(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token after expiry: %v; want ErrExpired", err)
	}
}
