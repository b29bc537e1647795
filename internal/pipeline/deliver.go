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

	"github.com/authpool/authpool/internal/metrics"
	"github.com/authpool/authpool/internal/userpool"
)

// DeliveryStore is what the dispatcher needs of the store.
type DeliveryStore interface {
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.Delivery, error)
	ReleaseDeliveries(ctx context.Context, worker string, ids []string) error
	NewDeliveries() <-chan struct{}
	RecordAttempts(ctx context.Context, rs []userpool.AttemptResult) error
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
	// metrics sees every attempt (nil: nothing recorded).
	metrics *metrics.Metrics
}

// UseMetrics records every delivery attempt in m. Call it before Run.
func (d *Dispatcher) UseMetrics(m *metrics.Metrics) { d.metrics = m }

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
// bounded by the attempt timeout), records their results and releases the
// claims it holds on deliveries not yet attempted.
//
// One loop claims deliveries into a queue and hands them to Workers
// goroutines; a recorder stores what they did. The queue holds at most
// 2 × Workers deliveries and is refilled, in one claim, once it falls to
// half the workers: a worker that frees takes the next queued delivery at
// once, and a large backlog is claimed in batches rather than one
// statement per delivery. The subscriptions of a batch are read with it.
// The recorder stores every result that came in while it was storing the
// previous ones in one transaction (a group commit), so under load one
// commit serves many deliveries.
//
// The loop claims whenever the outbox may hold due deliveries: at start,
// after a claim that got all it asked for, when the store reports
// deliveries it committed (so an event of this process wakes an idle
// worker at once) and at every poll tick (for retries that came due,
// other replicas' events and lapsed claims). It re-reads that state after
// every wake-up, so no wake-up is lost.
func (d *Dispatcher) Run(ctx context.Context) {
	workers := d.cfg.Workers
	if workers <= 0 {
		return
	}
	maxQueue, lowWater := 2*workers, workers/2
	var (
		wg      sync.WaitGroup
		work    = make(chan claimedDelivery)                        // to an idle worker
		results = make(chan userpool.AttemptResult, maxRecordBatch) // to the recorder
		queue   []claimedDelivery                                   // claimed, not handed out yet
		more    = true                                              // the outbox may hold due deliveries
	)
	// Attempts under way finish even during shutdown, within their own
	// timeout, and their results are recorded.
	bg := context.WithoutCancel(ctx)
	for range workers {
		wg.Go(func() {
			for j := range work {
				results <- d.attempt(bg, j)
			}
		})
	}
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		d.recorder(bg, results)
	}()
	defer func() {
		close(work)
		d.release(bg, queue)
		wg.Wait()
		close(results)
		<-recorderDone
	}()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	// retry wakes the loop before the next poll tick when the outbox may
	// hold due deliveries no signal will announce: after a failed claim
	// (with a backoff, so a database outage is not hammered) and when a
	// delivery left in the queue past half its lease becomes claimable
	// again. Without it, either waited for the poll tick (an hour, say).
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	var retryAt time.Time
	claimBackoff := time.Duration(0)
	wakeAt := func(at time.Time) {
		if !retryAt.IsZero() && !at.Before(retryAt) {
			return
		}
		retryAt = at
		retry.Reset(max(time.Until(at), 0))
	}
	for {
		// Taken before the claim: a delivery committed after the claim's
		// snapshot closes this channel.
		added := d.store.NewDeliveries()
		if more && len(queue) <= lowWater {
			limit := maxQueue - len(queue)
			jobs, err := d.claim(ctx, limit)
			if err != nil && ctx.Err() == nil {
				d.log.LogAttrs(ctx, slog.LevelWarn, "claiming webhook deliveries failed", slog.String("error", err.Error()))
			}
			queue = append(queue, jobs...)
			more = err == nil && len(jobs) == limit
			if err != nil && ctx.Err() == nil {
				claimBackoff = min(max(2*claimBackoff, 50*time.Millisecond), d.cfg.PollInterval, 5*time.Second)
				wakeAt(time.Now().Add(claimBackoff))
			} else if err == nil {
				claimBackoff = 0
			}
		}
		// A delivery that waited in the queue past half its lease (a slow
		// receiver held every worker) might lose its claim during the
		// attempt: it is left to lapse (then this or another worker claims
		// it again) rather than attempted while someone else may hold it.
		// The other half (Timeout + 5 s) covers the attempt and its record.
		for len(queue) > 0 && d.now().After(queue[0].del.ClaimedUntil.Add(-d.lease/2)) {
			// Its claim lapses at ClaimedUntil: look again then.
			wakeAt(time.Now().Add(queue[0].del.ClaimedUntil.Sub(d.now()) + 10*time.Millisecond))
			queue, more = queue[1:], true
		}
		var out chan<- claimedDelivery
		var next claimedDelivery
		if len(queue) > 0 {
			out, next = work, queue[0]
		}
		select {
		case <-ctx.Done():
			return
		case out <- next:
			queue[0] = claimedDelivery{}
			queue = queue[1:]
		case <-added:
			more = true
		case <-tick.C:
			more = true
		case <-retry.C:
			retryAt, more = time.Time{}, true
		}
	}
}

// claimedDelivery is a claimed delivery with its subscription as read at the claim.
type claimedDelivery struct {
	del    *userpool.Delivery
	sub    *userpool.WebhookSubscription
	subErr error
}

// claim claims up to limit deliveries and reads their subscriptions (one
// read per subscription, not per delivery).
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]claimedDelivery, error) {
	ds, err := d.store.ClaimDeliveries(ctx, d.id, d.now(), d.lease, limit)
	if err != nil {
		return nil, err
	}
	type subResult struct {
		sub *userpool.WebhookSubscription
		err error
	}
	subs := map[string]subResult{}
	jobs := make([]claimedDelivery, len(ds))
	for i, del := range ds {
		r, ok := subs[del.SubscriptionID]
		if !ok {
			// Claimed is claimed: a shutdown starting now must not turn
			// the read into a failed attempt.
			r.sub, r.err = d.store.GetSubscription(context.WithoutCancel(ctx), del.PoolID, del.SubscriptionID)
			subs[del.SubscriptionID] = r
		}
		jobs[i] = claimedDelivery{del: del, sub: r.sub, subErr: r.err}
	}
	return jobs, nil
}

// release gives up the claims of deliveries claimed but not attempted, so
// that the next start or another replica need not wait for their lease.
func (d *Dispatcher) release(ctx context.Context, queue []claimedDelivery) {
	if len(queue) == 0 {
		return
	}
	ids := make([]string, len(queue))
	for i, j := range queue {
		ids[i] = j.del.ID
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseDeliveries(ctx, d.id, ids); err != nil {
		// Their claims lapse after the lease instead.
		d.log.LogAttrs(ctx, slog.LevelWarn, "releasing webhook claims failed", slog.Int("deliveries", len(ids)), slog.String("error", err.Error()))
	}
}

// attempt makes one attempt and returns its result.
func (d *Dispatcher) attempt(ctx context.Context, j claimedDelivery) userpool.AttemptResult {
	del := j.del
	a := &userpool.DeliveryAttempt{DeliveryID: del.ID, PoolID: del.PoolID, Number: del.Attempts + 1, Worker: d.id}
	start := time.Now()
	if j.subErr != nil {
		a.Error = "subscription unavailable: " + j.subErr.Error()
	} else {
		a.StatusCode, a.Error = d.post(ctx, del, j.sub)
	}
	a.Duration = time.Since(start)
	now := d.now()
	a.CreatedAt = now
	r := userpool.AttemptResult{Attempt: a, Status: userpool.DeliveryDelivered}
	if a.Error != "" {
		r.Status = userpool.DeliveryFailed
		if a.Number < d.cfg.MaxAttempts {
			r.Status, r.NextAttemptAt = userpool.DeliveryPending, now.Add(d.Backoff(a.Number))
		}
	}
	switch r.Status {
	case userpool.DeliveryDelivered:
		d.metrics.WebhookAttempt("delivered", a.Duration)
	case userpool.DeliveryPending:
		d.metrics.WebhookAttempt("retrying", a.Duration)
	default:
		d.metrics.WebhookAttempt("failed", a.Duration)
	}
	return r
}

// maxRecordBatch bounds the results one transaction records.
const maxRecordBatch = 64

// recorder records the results that arrive, each time in one transaction
// all that came in meanwhile, until results is closed and drained.
func (d *Dispatcher) recorder(ctx context.Context, results <-chan userpool.AttemptResult) {
	for r := range results {
		batch := []userpool.AttemptResult{r}
	drain:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.record(ctx, batch)
	}
}

// record stores the results in one transaction; should that fail, one by
// one, so that one bad result cannot cost the others. A result that is not
// stored leaves its claim to lapse: the delivery is tried again (at least
// once).
func (d *Dispatcher) record(ctx context.Context, rs []userpool.AttemptResult) {
	err := d.recordBatch(ctx, rs)
	for _, r := range rs {
		if err != nil && len(rs) > 1 {
			d.recorded(ctx, r, d.recordBatch(ctx, []userpool.AttemptResult{r}))
		} else {
			d.recorded(ctx, r, err)
		}
	}
}

func (d *Dispatcher) recordBatch(ctx context.Context, rs []userpool.AttemptResult) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return d.store.RecordAttempts(ctx, rs)
}

// recorded logs what needs an operator's eye about one result.
func (d *Dispatcher) recorded(ctx context.Context, r userpool.AttemptResult, err error) {
	id := r.Attempt.DeliveryID
	if err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "recording a webhook attempt failed", slog.String("delivery_id", id), slog.String("error", err.Error()))
	}
	if r.Status == userpool.DeliveryFailed {
		d.log.LogAttrs(ctx, slog.LevelWarn, "webhook delivery gave up", slog.String("delivery_id", id), slog.Int("attempts", r.Attempt.Number))
	}
}

// post sends the delivery and returns the HTTP status and, for anything but
// a 2xx answer, what went wrong.
func (d *Dispatcher) post(ctx context.Context, del *userpool.Delivery, sub *userpool.WebhookSubscription) (int, string) {
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
