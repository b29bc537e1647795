// Package courier sends the messages of the store's queue: verification
// codes by mail and SMS. A request that asks for a code writes the code's
// hash and a job holding the sealed message in one transaction and
// answers at once; the courier's workers, on every replica, claim due
// jobs with a lease, open them, hand them to a Handler (auth's, which
// renders and sends them with the configured Mailer or SMSSender), and
// delete them when sent, dropped or given up, with the records the
// Handler returns (audit and webhook events) in the same transaction. A
// failed attempt is retried with a doubling backoff up to a bounded number
// of attempts. The caller of the request never waits for a mail server,
// and its answer cannot depend on one.
package courier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/metrics"
	"github.com/authpool/authpool/internal/userpool"
)

// Store is what the courier needs of the store.
type Store interface {
	ClaimMessages(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.MessageJob, error)
	RetryMessage(ctx context.Context, id, worker string, attempts int, next time.Time, lastErr string) error
	DeleteMessage(ctx context.Context, id, worker string, recs ...userpool.Record) error
	CountDueMessages(ctx context.Context, now time.Time) (int, error)
}

// Handler sends what the jobs hold.
type Handler interface {
	// Send makes one attempt at job, whose opened payload is plain. nil
	// means the job is done (sent, or dropped on purpose) and recs are
	// written with its deletion. An error is retried unless it is
	// Permanent or the job has had its attempts; it must not hold the
	// message.
	Send(ctx context.Context, job *userpool.MessageJob, plain []byte) (recs []userpool.Record, err error)
	// GiveUp is called once a job will not be sent (its last attempt
	// failed, the error was permanent, or its payload does not open: plain
	// is then nil). Its records are written with the job's deletion.
	GiveUp(ctx context.Context, job *userpool.MessageJob, plain []byte, attempts int, err error) []userpool.Record
}

// Permanent marks err as not worth another attempt (the code expired, the
// template does not render).
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Config shapes the workers.
type Config struct {
	// Workers is how many messages this process sends at once (0: this
	// replica sends none; others must).
	Workers int
	// MaxAttempts is how many attempts a job gets.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles with
	// every further failure up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// PollInterval is how often the queue is checked for jobs other
	// replicas enqueued or whose retry is due; this replica's own jobs
	// wake a worker at once.
	PollInterval time.Duration
}

// Courier runs the workers of one process.
type Courier struct {
	store Store
	seal  *Sealer
	h     Handler
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	id    string
	lease time.Duration
	wake  chan struct{}

	mu   sync.Mutex
	done chan struct{} // closed and replaced whenever a job finishes

	metrics *metrics.Metrics // nil: nothing recorded
}

// UseMetrics records every attempt's outcome in m. Call it before Run.
func (c *Courier) UseMetrics(m *metrics.Metrics) { c.metrics = m }

// sendOutcome names a finished job's outcome: sent when its records hold
// the code.sent audit event, dropped (on purpose: no account, a code
// replaced) otherwise.
func sendOutcome(recs []userpool.Record) string {
	for _, r := range recs {
		if a, ok := r.(*userpool.AuditEvent); ok && a.Event == userpool.AuditCodeSent {
			return "sent"
		}
	}
	return "dropped"
}

// New builds a Courier; now may be nil (time.Now).
func New(store Store, seal *Sealer, h Handler, cfg Config, now func() time.Time, log *slog.Logger) *Courier {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Courier{
		store: store, seal: seal, h: h, cfg: cfg, now: now, log: log,
		id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		// Long enough for the attempt and recording its result; a holder
		// that died releases its jobs after this.
		lease: 2*cfg.Timeout + 10*time.Second,
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// ID names this courier in claims.
func (c *Courier) ID() string { return c.id }

// Wake tells an idle worker of this process that a job was enqueued.
func (c *Courier) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Backoff is the wait after the n-th failed attempt (n >= 1).
func (c *Courier) Backoff(n int) time.Duration {
	b := c.cfg.Backoff
	for i := 1; i < n && b < c.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, c.cfg.MaxBackoff)
}

// Run sends until ctx ends, then waits for the attempts in flight (each
// bounded by the attempt timeout) so that their outcome is recorded.
func (c *Courier) Run(ctx context.Context) {
	if c.cfg.Workers <= 0 {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, c.cfg.Workers)
	// freed holds a token whenever a slot was freed since it was last
	// read; a slot is freed before its token is sent, so a busy loop that
	// waits for a token never misses a free slot.
	freed := make(chan struct{}, 1)
	tick := time.NewTicker(c.cfg.PollInterval)
	defer tick.Stop()
	for {
		free := c.cfg.Workers - len(slots)
		got := 0
		if free > 0 {
			jobs, err := c.store.ClaimMessages(ctx, c.id, c.now(), c.lease, free)
			if err != nil && ctx.Err() == nil {
				c.log.LogAttrs(ctx, slog.LevelWarn, "claiming messages failed", slog.String("error", err.Error()))
			}
			for _, j := range jobs {
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
					// its own timeout, so its outcome is recorded.
					c.attempt(context.WithoutCancel(ctx), j)
				})
			}
			got = len(jobs)
		}
		if got == free {
			// Every slot is busy and the queue may hold more: claim again
			// as soon as one frees.
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
		case <-c.wake:
		}
	}
}

// attempt makes one attempt at j and records its outcome.
func (c *Courier) attempt(ctx context.Context, j *userpool.MessageJob) {
	defer c.finished()
	n := j.Attempts + 1
	plain, err := c.seal.Open(j.ID, j.Payload)
	if err != nil {
		c.metrics.CodeSend(j.Channel, "given_up")
		c.end(ctx, j, c.h.GiveUp(ctx, j, nil, n, Permanent(err)))
		return
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	recs, err := c.h.Send(actx, j, plain)
	cancel()
	if err == nil {
		c.metrics.CodeSend(j.Channel, sendOutcome(recs))
		c.end(ctx, j, recs)
		return
	}
	if _, ok := errors.AsType[permanentError](err); ok || n >= c.cfg.MaxAttempts {
		c.log.LogAttrs(ctx, slog.LevelWarn, "message not sent: giving up", slog.String("job_id", j.ID),
			slog.String("pool_id", j.PoolID), slog.String("channel", j.Channel), slog.Int("attempts", n), slog.String("error", err.Error()))
		c.metrics.CodeSend(j.Channel, "given_up")
		c.end(ctx, j, c.h.GiveUp(ctx, j, plain, n, err))
		return
	}
	c.metrics.CodeSend(j.Channel, "retrying")
	c.log.LogAttrs(ctx, slog.LevelWarn, "message not sent: will retry", slog.String("job_id", j.ID),
		slog.String("pool_id", j.PoolID), slog.String("channel", j.Channel), slog.Int("attempts", n), slog.String("error", err.Error()))
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	if err := c.store.RetryMessage(rctx, j.ID, c.id, n, c.now().Add(c.Backoff(n)), truncate(err.Error(), 512)); err != nil && !errors.Is(err, userpool.ErrNotFound) {
		// The claim lapses and the job is tried again.
		c.log.LogAttrs(ctx, slog.LevelWarn, "recording a message attempt failed", slog.String("job_id", j.ID), slog.String("error", err.Error()))
	}
}

// end deletes j with recs. If that fails the claim lapses and the job is
// tried again: a message is sent at least once.
func (c *Courier) end(ctx context.Context, j *userpool.MessageJob, recs []userpool.Record) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.store.DeleteMessage(rctx, j.ID, c.id, recs...); err != nil && !errors.Is(err, userpool.ErrNotFound) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "deleting a finished message failed", slog.String("job_id", j.ID), slog.String("error", err.Error()))
	}
}

func (c *Courier) finished() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.done)
	c.done = make(chan struct{})
}

// Settle waits until no job is due: every message enqueued so far was
// sent, dropped or given up, or waits for a later retry. Tests use it to
// read what was sent without sleeping; it polls as the workers do when
// other replicas hold the jobs.
func (c *Courier) Settle(ctx context.Context) error {
	for {
		c.mu.Lock()
		done := c.done
		c.mu.Unlock()
		n, err := c.store.CountDueMessages(ctx, c.now())
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		t := time.NewTimer(c.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
