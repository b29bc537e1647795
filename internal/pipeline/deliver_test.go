package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// TestDispatcherShutdown: when its context ends, the dispatcher waits for
// the attempts in flight, records them, and gives back the claims of the
// deliveries it had queued but not started, so that another worker can
// claim them at once instead of after their lease.
func TestDispatcherShutdown(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CreatePool(ctx, &userpool.Pool{ID: "p1", Name: "p1"}); err != nil {
				t.Fatal(err)
			}
			arrived, release := make(chan struct{}, 100), make(chan struct{})
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				arrived <- struct{}{}
				<-release
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			sub := &userpool.WebhookSubscription{PoolID: "p1", URL: rcv.URL, Events: []string{"*"}, Secret: NewSecret(), Enabled: true}
			if err := st.CreateSubscription(ctx, sub); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			clock := func() time.Time { return now }
			const events = 10
			for range events {
				if err := st.WriteRecords(ctx, NewEvent("user.login", "p1", now, api.WebhookData{})); err != nil {
					t.Fatal(err)
				}
			}

			const workers = 2
			d := NewDispatcher(st, DispatchConfig{
				Workers: workers, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: time.Second,
				Timeout: 10 * time.Second, PollInterval: time.Hour,
			}, clock, nil)
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); d.Run(runCtx) }()
			for range workers {
				select {
				case <-arrived:
				case <-time.After(30 * time.Second):
					t.Fatal("the workers did not start")
				}
			}
			stop()
			select {
			case <-done:
				t.Fatal("Run returned with attempts in flight")
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			<-done

			delivered, err := st.ListDeliveries(ctx, userpool.DeliveryFilter{PoolID: "p1", Status: userpool.DeliveryDelivered})
			if err != nil {
				t.Fatal(err)
			}
			if len(delivered) != workers {
				t.Errorf("%d deliveries recorded as delivered, want the %d in flight", len(delivered), workers)
			}
			rest, err := st.ClaimDeliveries(ctx, "another", now, time.Minute, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != events-workers {
				t.Errorf("another worker could claim %d deliveries at once, want %d", len(rest), events-workers)
			}
		})
	}
}

// flakyClaims fails the first n claims, as a database that drops a
// connection or a statement timeout would.
type flakyClaims struct {
	DeliveryStore
	mu    sync.Mutex
	fails int
}

func (f *flakyClaims) ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.Delivery, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("claim failed (injected)")
	}
	return f.DeliveryStore.ClaimDeliveries(ctx, worker, now, lease, limit)
}

// TestDispatcherRetriesAFailedClaim: a claim that fails must not leave due
// deliveries waiting for the poll tick (an hour here): the dispatcher
// tries again after a short backoff.
func TestDispatcherRetriesAFailedClaim(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CreatePool(ctx, &userpool.Pool{ID: "p1", Name: "p1"}); err != nil {
				t.Fatal(err)
			}
			arrived := make(chan struct{}, 10)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				arrived <- struct{}{}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			sub := &userpool.WebhookSubscription{PoolID: "p1", URL: rcv.URL, Events: []string{"*"}, Secret: NewSecret(), Enabled: true}
			if err := st.CreateSubscription(ctx, sub); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			if err := st.WriteRecords(ctx, NewEvent("user.login", "p1", now, api.WebhookData{})); err != nil {
				t.Fatal(err)
			}
			d := NewDispatcher(&flakyClaims{DeliveryStore: st, fails: 3}, DispatchConfig{
				Workers: 2, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: time.Second,
				Timeout: 10 * time.Second, PollInterval: time.Hour,
			}, func() time.Time { return now }, slog.New(slog.DiscardHandler))
			runCtx, stop := context.WithCancel(ctx)
			defer stop()
			go d.Run(runCtx)
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("the delivery waited for the poll tick after a failed claim")
			}
		})
	}
}
