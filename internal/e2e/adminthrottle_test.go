package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/admin"
)

// adminCall sends GET /api/v1/admin/pools with key, from the address
// xff names when the server trusts the test's connections as a proxy.
func adminCall(t *testing.T, in *instance, key, xff string) (int, string, api.ErrorBody) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.URL+"/api/v1/admin/pools", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var eb api.ErrorBody
	if res.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Fatalf("status %d, body %q", res.StatusCode, raw)
		}
	}
	return res.StatusCode, res.Header.Get("Retry-After"), eb
}

// TestAdminKeyThrottle presents wrong administrator keys: the limit-th
// wrong key from an address is still 401, the next is 429 with a
// Retry-After, audited once; another address is unaffected; the right key
// still works from the throttled address (a protection must not lock the
// administrator out of an address an attacker shares); the window's end
// lifts the throttle; no key reaches the log.
func TestAdminKeyThrottle(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		// The test's connections are a trusted proxy, so X-Forwarded-For
		// names the client.
		cfg.TrustedProxies = []string{"127.0.0.1/32"}
		in := start(t, cfg, nil)
		const attacker, other = "198.51.100.7", "203.0.113.9"
		wrong := func(i int) string { return fmt.Sprintf("wrong-admin-key-%04d-0123456789abcdef", i) }

		for i := 1; i <= admin.KeyFailureLimit; i++ {
			if st, _, eb := adminCall(t, in, wrong(i), attacker); st != 401 || eb.Code != api.CodeAdminUnauthorized {
				t.Fatalf("wrong key %d: %d %+v, want 401 code %d", i, st, eb, api.CodeAdminUnauthorized)
			}
		}
		for i := admin.KeyFailureLimit + 1; i <= admin.KeyFailureLimit+5; i++ {
			st, ra, eb := adminCall(t, in, wrong(i), attacker)
			if st != 429 || eb.Code != api.CodeRateLimited || ra == "" {
				t.Fatalf("wrong key %d: %d %+v Retry-After %q, want 429 code 1005 with Retry-After", i, st, eb, ra)
			}
		}
		// Another address: its wrong key is judged as usual, its right key works.
		if st, _, eb := adminCall(t, in, wrong(0), other); st != 401 || eb.Code != api.CodeAdminUnauthorized {
			t.Fatalf("other address, wrong key: %d %+v", st, eb)
		}
		if st, _, eb := adminCall(t, in, testAdminKey, other); st != 200 {
			t.Fatalf("other address, right key: %d %+v", st, eb)
		}
		// The throttled address with the right key.
		if st, _, eb := adminCall(t, in, testAdminKey, attacker); st != 200 {
			t.Fatalf("throttled address, right key: %d %+v", st, eb)
		}
		// A wrong key from it is still refused without judging.
		if st, _, _ := adminCall(t, in, wrong(99), attacker); st != 429 {
			t.Fatalf("throttled address after its right key: %d, want 429", st)
		}

		evs := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: admin.AuditKeyThrottled}))
		if len(evs) != 1 || evs[0].ClientIP != attacker || evs[0].Detail["limit"] != fmt.Sprint(admin.KeyFailureLimit) {
			t.Fatalf("audit: %+v, want one %s event of %s", evs, admin.AuditKeyThrottled, attacker)
		}

		// The window ends: wrong keys are judged (401) again.
		in.Clock.Advance(admin.KeyFailureWindow + time.Second)
		if st, _, eb := adminCall(t, in, wrong(100), attacker); st != 401 {
			t.Fatalf("after the window: %d %+v, want 401", st, eb)
		}

		in.Outbox.mu.Lock()
		defer in.Outbox.mu.Unlock()
		for _, line := range in.Outbox.other {
			if strings.Contains(line, "wrong-admin-key-") || strings.Contains(line, testAdminKey) {
				t.Fatalf("an administrator key reached the log: %s", line)
			}
		}
	})
}

// TestAdminKeyThrottleIgnoresClaimedAddress: without trusted proxies, a
// client naming other addresses in X-Forwarded-For is still counted under
// its own, so it cannot escape the limit.
func TestAdminKeyThrottleIgnoresClaimedAddress(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		for i := 1; i <= admin.KeyFailureLimit+3; i++ {
			st, _, eb := adminCall(t, in, fmt.Sprintf("wrong-admin-key-%04d-0123456789abcdef", i), fmt.Sprintf("192.0.2.%d", i))
			want := 401
			if i > admin.KeyFailureLimit {
				want = 429
			}
			if st != want {
				t.Fatalf("wrong key %d (claiming 192.0.2.%d): %d %+v, want %d", i, i, st, eb, want)
			}
		}
	})
}
