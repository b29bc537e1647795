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
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// DeliveryStore is what the dispatcher needs of the store.
type DeliveryStore interface {
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.Delivery, error)
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
	// PollInterval is how often the outbox is checked for due deliveries.
	PollInterval time.Duration
	// Client makes the requests; nil means one that follows no redirects.
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
		cfg.Client = noRedirectClient()
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
// bounded by the attempt timeout) so that their results are recorded.
func (d *Dispatcher) Run(ctx context.Context) {
	if d.cfg.Workers <= 0 {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.cfg.Workers)
	freed := make(chan struct{}, d.cfg.Workers)
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	for {
		free := d.cfg.Workers - len(slots)
		full := false
		if free > 0 {
			ds, err := d.store.ClaimDeliveries(ctx, d.id, d.now(), d.lease, free)
			if err != nil && ctx.Err() == nil {
				d.log.LogAttrs(ctx, slog.LevelWarn, "claiming webhook deliveries failed", slog.String("error", err.Error()))
			}
			for _, del := range ds {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					// An attempt under way finishes even during shutdown, within
					// its own timeout, so its result is recorded.
					d.deliver(context.WithoutCancel(ctx), del)
				})
			}
			full = len(ds) == free
		}
		if full {
			// The outbox may hold more: claim again as soon as a slot frees.
			select {
			case <-ctx.Done():
				return
			case <-freed:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
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
