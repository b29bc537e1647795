package admin_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// countingStore counts the reads of the administrator keys.
type countingStore struct {
	userpool.Store
	reads atomic.Int64
}

func (s *countingStore) AdminKeys(ctx context.Context) ([]*userpool.AdminKey, error) {
	s.reads.Add(1)
	return s.Store.AdminKeys(ctx)
}

// TestThrottledKeyFloodSparesStore: once an address is throttled, a flood
// of wrong keys from it is refused (429) without reading the stored keys
// each time: the keys are read at most once a second for all throttled
// addresses together. The right key is still accepted from that address.
func TestThrottledKeyFloodSparesStore(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			var mu sync.Mutex
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
			tokens, err := token.NewManager(ctx, st, "authpool", clock, token.Lifecycle{LeadTime: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			p := password.DefaultParams()
			p.Memory, p.Time = 64, 1
			log := slog.New(slog.DiscardHandler)
			svc := auth.New(st, tokens, password.New(p, 1), auth.Config{Issuer: "authpool", CaptchaKey: []byte("k")}, clock, log)
			if _, err := svc.EnsureDefaultPool(ctx, "", userpool.DefaultPoolSettings()); err != nil {
				t.Fatal(err)
			}
			cs := &countingStore{Store: st}
			adm := admin.New(svc, cs, clock, log)
			key, err := adm.GenerateKeyIfNone(ctx)
			if err != nil || key == "" {
				t.Fatalf("GenerateKeyIfNone: %q %v", key, err)
			}
			attacker := auth.Meta{ClientIP: "198.51.100.7"}
			wrong := func(i int) string { return fmt.Sprintf("wrong-admin-key-%06d-0123456789abcdef", i) }
			code := func(err error) userpool.Code {
				if err == nil {
					return 0
				}
				return userpool.AsError(err).Code
			}
			for i := range admin.KeyFailureLimit + 1 {
				want := userpool.CodeAdminUnauthorized
				if i == admin.KeyFailureLimit {
					want = userpool.CodeRateLimited
				}
				if c := code(adm.CheckKey(ctx, attacker, wrong(i))); c != want {
					t.Fatalf("wrong key %d: code %d, want %d", i+1, c, want)
				}
			}

			cs.reads.Store(0)
			const flood = 2000
			var wg sync.WaitGroup
			var bad atomic.Int64
			for w := range 8 {
				wg.Go(func() {
					for i := range flood / 8 {
						if code(adm.CheckKey(ctx, attacker, wrong(w*flood+i))) != userpool.CodeRateLimited {
							bad.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if bad.Load() != 0 {
				t.Fatalf("%d of %d wrong keys from the throttled address were not answered 429", bad.Load(), flood)
			}
			if r := cs.reads.Load(); r > 1 {
				t.Fatalf("%d wrong keys from a throttled address read the stored keys %d times, want at most once (a second)", flood, r)
			}
			if err := adm.CheckKey(ctx, attacker, key); err != nil {
				t.Fatalf("the right key from the throttled address: %v", err)
			}
			advance(2 * time.Second) // the cached hashes are stale: read again, once
			if err := adm.CheckKey(ctx, attacker, key); err != nil {
				t.Fatalf("the right key from the throttled address, later: %v", err)
			}
			for i := range 100 {
				if c := code(adm.CheckKey(ctx, attacker, wrong(-i))); c != userpool.CodeRateLimited {
					t.Fatalf("wrong key after the right one: code %d, want 1005", c)
				}
			}
			if r := cs.reads.Load(); r > 2 {
				t.Fatalf("the stored keys were read %d times over two seconds of a flood, want at most 2", r)
			}
			// Another address is judged against the store as before.
			if c := code(adm.CheckKey(ctx, auth.Meta{ClientIP: "203.0.113.9"}, wrong(0))); c != userpool.CodeAdminUnauthorized {
				t.Fatalf("another address's wrong key: code %d, want %d", c, userpool.CodeAdminUnauthorized)
			}
		})
	}
}
