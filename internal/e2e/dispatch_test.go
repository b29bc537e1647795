package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

// TestWebhookDeliveryWithoutPollTick: with the poll interval set to an
// hour, no delivery can wait for a poll tick, yet 10 × workers events
// waiting in the outbox at start and 10 × workers events written while the
// server runs are all delivered: a worker that frees takes the next due
// delivery at once, and a new event wakes an idle worker of its replica.
// (Before, a freed slot waited for the next tick once its signal was
// spent, and a new event always did.)
func TestWebhookDeliveryWithoutPollTick(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := webhookConfig(dbURL)
		cfg.WebhookPollInterval = config.Duration(time.Hour)
		cfg.RateLimitRegister = config.Rate{Max: 1000, Window: time.Minute}
		const workers = 3
		n := 10 * workers

		// The backlog: events written while no replica delivers.
		cfg.WebhookWorkers = 0
		quiet := start(t, cfg, nil)
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, quiet, "user.registered")
		for i := range n {
			must[*client.User](t)(quiet.client().RegisterByUsername(ctx, fmt.Sprintf("backlog%d", i), "passw0rd!", nil, nil))
		}
		quiet.stop()

		cfg.WebhookWorkers = workers
		in := start(t, cfg, quiet.Clock)
		if got := rcv.waitDistinct(t, n); len(got) != n {
			t.Fatalf("backlog: %d of %d delivered", len(got), n)
		}

		// Live events: each wakes an idle worker.
		for i := range n {
			must[*client.User](t)(in.client().RegisterByUsername(ctx, fmt.Sprintf("live%d", i), "passw0rd!", nil, nil))
		}
		seen := map[string]bool{}
		for _, g := range rcv.waitDistinct(t, n) {
			seen[g.Event.Data.User.Username] = true
		}
		for i := range n {
			if name := fmt.Sprintf("live%d", i); !seen[name] {
				t.Errorf("no user.registered for %s", name)
			}
		}
	})
}
