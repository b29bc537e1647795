package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// DeliveryStore is what the dispatcher needs of the store.
type DeliveryStore interface {
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.Delivery, error)
	ReleaseDeliveries(ctx context.Context, worker string, ids []string) error
	NewDeliveries() <-chan struct{}
	RecordAttempt(ctx context.Context, a *userpool.DeliveryAttempt, status userpool.DeliveryStatus, next time.Time) error
	GetSubscription(ctx context.Context, poolID, id string) (*userpool.WebhookSubscription, error)
}

// DispatchConfig shapes webhook delivery.
type DispatchConfig struct {
	// Workers is how many deliveries this process makes at once.
	Workers int
	// MaxAttempts is how many attempts a delivery gets before it fails.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles with
	// every further failure up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// PollInterval is how often the outbox is checked for deliveries this
	// process was not told about: retries that came due, events written
	// by other replicas, lapsed claims.
	PollInterval time.Duration
	// Client makes the requests; nil means one that follows no redirects
	// and keeps a connection per worker alive.
	Client *http.Client
}

// Dispatcher delivers webhooks from the outbox. Every replica runs one;
// the store's claims make each delivery one worker's at a time, and a
// claim lapses (another worker takes over) if its holder dies, so delivery
// is at least once.
type Dispatcher struct {
	store DeliveryStore
	cfg   DispatchConfig
	now   func() time.Time
	log   *slog.Logger
	id    string
	lease time.Duration
}

// NewDispatcher builds a Dispatcher; now may be nil (time.Now).
func NewDispatcher(store DeliveryStore, cfg DispatchConfig, now func() time.Time, log *slog.Logger) *Dispatcher {
	if cfg.Client == nil {
		cfg.Client = deliveryClient(cfg.Workers)
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Dispatcher{
		store: store, cfg: cfg, now: now, log: log,
		id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		// Long enough for the attempt and recording its result; a holder
		// that died releases its claims after this.
		lease: 2*cfg.Timeout + 10*time.Second,
	}
}

// deliveryClient follows no redirects and keeps up to one idle connection
// per worker to a receiver (the default transport keeps two, so more
// workers would open a new connection for most deliveries).
func deliveryClient(workers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(workers, 2)
	c := noRedirectClient()
	c.Transport = tr
	return c
}

// ID names this dispatcher in claims and attempts.
func (d *Dispatcher) ID() string { return d.id }

// Backoff is the wait after the n-th failed attempt (n >= 1).
func (d *Dispatcher) Backoff(n int) time.Duration {
	b := d.cfg.Backoff
	for i := 1; i < n && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.cfg.MaxBackoff)
}

// Run delivers until ctx ends, then waits for the attempts in flight (each
// bounded by the attempt timeout) so that their results are recorded, and
// releases the claims it holds on deliveries not yet attempted.
//
// One loop claims and hands deliveries to Workers goroutines. It holds at
// most 2 × Workers claimed deliveries (in flight and queued), and claims
// again, up to that many, once the queue falls to half the workers: a
// worker that frees takes the next queued delivery at once, and a large
// backlog is claimed in batches rather than one statement per delivery.
// The loop claims whenever the outbox may hold due deliveries: at start,
// after a claim that got all it asked for, when the store reports
// deliveries it committed (an event of this process wakes an idle worker
// at once) and at every poll tick (for retries, other replicas' events
// and lapsed claims). All of that is state the loop re-reads after every
// wake-up, so no wake-up can be lost.
func (d *Dispatcher) Run(ctx context.Context) {
	workers := d.cfg.Workers
	if workers <= 0 {
		return
	}
	var (
		wg       sync.WaitGroup
		work     = make(chan *userpool.Delivery) // to an idle worker
		freed    = make(chan struct{}, 1)        // a worker finished one
		finished atomic.Int64                    // deliveries the workers finished
		handed   int64                           // deliveries the loop handed out
		queue    []*userpool.Delivery            // claimed, not handed out yet
		more     = true                          // the outbox may hold due deliveries
	)
	for range workers {
		wg.Go(func() {
			for del := range work {
				// An attempt under way finishes even during shutdown, within
				// its own timeout, so its result is recorded.
				d.deliver(context.WithoutCancel(ctx), del)
				finished.Add(1)
				select {
				case freed <- struct{}{}:
				default: // a wake-up is pending already; the loop re-reads finished
				}
			}
		})
	}
	defer func() {
		close(work)
		d.release(ctx, queue)
		wg.Wait()
	}()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	maxHeld, lowWater := 2*workers, workers/2
	for {
		// Taken before the claim: a delivery committed after the claim's
		// snapshot closes this channel.
		added := d.store.NewDeliveries()
		held := len(queue) + int(handed-finished.Load())
		if more && len(queue) <= lowWater && held < maxHeld {
			limit := maxHeld - held
			ds, err := d.store.ClaimDeliveries(ctx, d.id, d.now(), d.lease, limit)
			if err != nil && ctx.Err() == nil {
				d.log.LogAttrs(ctx, slog.LevelWarn, "claiming webhook deliveries failed", slog.String("error", err.Error()))
			}
			queue = append(queue, ds...)
			more = err == nil && len(ds) == limit
		}
		// A delivery queued for so long that its claim could lapse during
		// the attempt is left to lapse (another worker, or this one, claims
		// it again) rather than attempted while someone else may hold it.
		for len(queue) > 0 && d.now().Add(d.cfg.Timeout+10*time.Second).After(queue[0].ClaimedUntil) {
			queue, more = queue[1:], true
		}
		var out chan<- *userpool.Delivery
		var next *userpool.Delivery
		if len(queue) > 0 {
			out, next = work, queue[0]
		}
		select {
		case <-ctx.Done():
			return
		case out <- next:
			handed++
			queue[0] = nil
			queue = queue[1:]
		case <-freed:
		case <-added:
			more = true
		case <-tick.C:
			more = true
		}
	}
}

// release gives up the claims of deliveries claimed but not attempted, so
// that the next start or another replica need not wait for their lease.
func (d *Dispatcher) release(ctx context.Context, queue []*userpool.Delivery) {
	if len(queue) == 0 {
		return
	}
	ids := make([]string, len(queue))
	for i, del := range queue {
		ids[i] = del.ID
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseDeliveries(rctx, d.id, ids); err != nil {
		// Their claims lapse after the lease instead.
		d.log.LogAttrs(ctx, slog.LevelWarn, "releasing webhook claims failed", slog.Int("deliveries", len(ids)), slog.String("error", err.Error()))
	}
}

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, del *userpool.Delivery) {
	a := &userpool.DeliveryAttempt{DeliveryID: del.ID, PoolID: del.PoolID, Number: del.Attempts + 1, Worker: d.id}
	start := time.Now()
	a.StatusCode, a.Error = d.post(ctx, del)
	a.Duration = time.Since(start)
	now := d.now()
	a.CreatedAt = now
	status, next := userpool.DeliveryDelivered, time.Time{}
	if a.Error != "" {
		status = userpool.DeliveryFailed
		if a.Number < d.cfg.MaxAttempts {
			status, next = userpool.DeliveryPending, now.Add(d.Backoff(a.Number))
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.store.RecordAttempt(rctx, a, status, next); err != nil && !errors.Is(err, userpool.ErrNotFound) {
		// The claim lapses and the delivery is tried again: at least once.
		d.log.LogAttrs(ctx, slog.LevelWarn, "recording a webhook attempt failed", slog.String("delivery_id", del.ID), slog.String("error", err.Error()))
	}
	if status == userpool.DeliveryFailed {
		d.log.LogAttrs(ctx, slog.LevelWarn, "webhook delivery gave up", slog.String("delivery_id", del.ID), slog.Int("attempts", a.Number))
	}
}

// post sends the delivery and returns the HTTP status and, for anything but
// a 2xx answer, what went wrong.
func (d *Dispatcher) post(ctx context.Context, del *userpool.Delivery) (int, string) {
	sub, err := d.store.GetSubscription(ctx, del.PoolID, del.SubscriptionID)
	if err != nil {
		return 0, "subscription unavailable: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(del.Payload))
	if err != nil {
		return 0, "invalid subscription URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "authpool-webhooks")
	if err := setSignature(req.Header, sub.Secret, del.EventID, d.now(), del.Payload); err != nil {
		return 0, "sign: " + err.Error()
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the URL may carry a token; attempts do not repeat it
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Sprintf("no answer within %v", d.cfg.Timeout)
		}
		return 0, err.Error()
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the body is not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}
