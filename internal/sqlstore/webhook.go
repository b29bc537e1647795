package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

const subscriptionColumns = "id, pool_id, url, events, secret, enabled, created_at, updated_at"

// eventsArg encodes event types as ",a,b," so that one LIKE finds a type.
func eventsArg(events []string) (string, error) {
	for _, e := range events {
		if e == "" || strings.ContainsAny(e, ", ") {
			return "", fmt.Errorf("sqlstore: event type %q: must be non-empty without commas or spaces", e)
		}
	}
	return "," + strings.Join(events, ",") + ",", nil
}

func parseEvents(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

type subscriptionRow struct {
	w      userpool.WebhookSubscription
	events string
}

func (r *subscriptionRow) dest() []any {
	w := &r.w
	return []any{&w.ID, &w.PoolID, &w.URL, &r.events, &w.Secret, boolDest{&w.Enabled}, timeDest{&w.CreatedAt}, timeDest{&w.UpdatedAt}}
}

func (r *subscriptionRow) subscription() *userpool.WebhookSubscription {
	w := r.w
	w.Events = parseEvents(r.events)
	return &w
}

// CreateSubscription inserts w; see userpool.WebhookStore.
func (s *Store) CreateSubscription(ctx context.Context, w *userpool.WebhookSubscription) error {
	events, err := eventsArg(w.Events)
	if err != nil {
		return err
	}
	if w.ID == "" {
		w.ID = uuid.NewString()
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.now()
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = w.CreatedAt
	}
	w.CreatedAt, w.UpdatedAt = s.d.norm(w.CreatedAt), s.d.norm(w.UpdatedAt)
	_, err = s.write.ExecContext(ctx, s.d.q("INSERT INTO webhook_subscriptions ("+subscriptionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		w.ID, w.PoolID, w.URL, events, w.Secret, w.Enabled, s.d.timeArg(w.CreatedAt), s.d.timeArg(w.UpdatedAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create subscription: %w", err)
	}
	return nil
}

// GetSubscription returns the pool's subscription, or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, poolID, id string) (*userpool.WebhookSubscription, error) {
	return s.getSubscription(ctx, s.read, "", poolID, id)
}

func (s *Store) getSubscription(ctx context.Context, q queryer, lock, poolID, id string) (*userpool.WebhookSubscription, error) {
	var r subscriptionRow
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+subscriptionColumns+" FROM webhook_subscriptions WHERE pool_id = ? AND id = ?"+lock), poolID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get subscription: %w", err)
	}
	return r.subscription(), nil
}

// ListSubscriptions returns the pool's subscriptions, oldest first.
func (s *Store) ListSubscriptions(ctx context.Context, poolID string) ([]*userpool.WebhookSubscription, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+subscriptionColumns+" FROM webhook_subscriptions WHERE pool_id = ? ORDER BY created_at, id"), poolID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []*userpool.WebhookSubscription
	for rows.Next() {
		var r subscriptionRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
		}
		out = append(out, r.subscription())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
	}
	return out, nil
}

// UpdateSubscription reads, calls fn and writes back in one transaction.
func (s *Store) UpdateSubscription(ctx context.Context, poolID, id string, fn func(*userpool.WebhookSubscription) error) (*userpool.WebhookSubscription, error) {
	var w *userpool.WebhookSubscription
	err := s.inTx(ctx, "update subscription", func(tx *sql.Tx) error {
		var err error
		if w, err = s.getSubscription(ctx, tx, s.d.forUpdate, poolID, id); err != nil {
			return err
		}
		createdAt, updatedAt := w.CreatedAt, w.UpdatedAt
		if err := fn(w); err != nil {
			return err
		}
		if w.ID != id || w.PoolID != poolID {
			return errors.New("sqlstore: update subscription: fn changed the subscription's ID or PoolID")
		}
		events, err := eventsArg(w.Events)
		if err != nil {
			return err
		}
		w.CreatedAt = createdAt
		if w.UpdatedAt.IsZero() || w.UpdatedAt.Equal(updatedAt) {
			w.UpdatedAt = s.now()
		}
		w.UpdatedAt = s.d.norm(w.UpdatedAt)
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE webhook_subscriptions SET url = ?, events = ?, secret = ?, enabled = ?, updated_at = ? WHERE pool_id = ? AND id = ?"),
			w.URL, events, w.Secret, w.Enabled, s.d.timeArg(w.UpdatedAt), poolID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: update subscription: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteSubscription deletes the subscription and, through the foreign
// keys, its deliveries and their attempts.
func (s *Store) DeleteSubscription(ctx context.Context, poolID, id string) error {
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM webhook_subscriptions WHERE pool_id = ? AND id = ?"), poolID, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete subscription: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete subscription: %w", err)
	} else if n == 0 {
		return userpool.ErrNotFound
	}
	return nil
}

const deliveryColumns = "id, event_id, pool_id, subscription_id, type, payload, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at, finished_at"

type deliveryRow struct {
	d               userpool.Delivery
	payload, status string
}

func (r *deliveryRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &d.EventID, &d.PoolID, &d.SubscriptionID, &d.Type, &r.payload, &r.status, &d.Attempts,
		timeDest{&d.NextAttemptAt}, &d.ClaimedBy, timeDest{&d.ClaimedUntil}, &d.LastError, timeDest{&d.CreatedAt}, timeDest{&d.FinishedAt}}
}

func (r *deliveryRow) delivery() *userpool.Delivery {
	d := r.d
	d.Payload, d.Status = []byte(r.payload), userpool.DeliveryStatus(r.status)
	return &d
}

func scanDeliveries(rows *sql.Rows, op string) ([]*userpool.Delivery, error) {
	defer rows.Close()
	var out []*userpool.Delivery
	for rows.Next() {
		var r deliveryRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		out = append(out, r.delivery())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return out, nil
}

// ClaimDeliveries claims due deliveries for worker in one statement. On
// PostgreSQL the inner SELECT locks the rows it picks and skips rows other
// claimers hold (FOR UPDATE SKIP LOCKED), and a row whose claim another
// transaction committed meanwhile fails the re-checked WHERE; on SQLite the
// single writer runs claims one after another. Either way a delivery is
// claimed by one worker at a time.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.Delivery, error) {
	if worker == "" || lease <= 0 || limit <= 0 {
		return nil, errors.New("sqlstore: claim deliveries: worker, a positive lease and a positive limit are required")
	}
	nowArg := s.d.timeArg(s.d.norm(now))
	rows, err := s.write.QueryContext(ctx, s.d.q(`UPDATE webhook_deliveries SET claimed_by = ?, claimed_until = ?
		WHERE id IN (
			SELECT d.id FROM webhook_deliveries d
			WHERE d.status = 'pending' AND d.next_attempt_at <= ?
				AND (d.claimed_until IS NULL OR d.claimed_until <= ?)
				AND d.subscription_id IN (SELECT w.id FROM webhook_subscriptions w WHERE w.enabled = ?)
			ORDER BY d.next_attempt_at, d.id
			LIMIT ?`+s.d.skipLocked+`)
		RETURNING `+deliveryColumns),
		worker, s.d.timeArg(s.d.norm(now.Add(lease))), nowArg, nowArg, true, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim deliveries: %w", err)
	}
	out, err := scanDeliveries(rows, "claim deliveries")
	if err != nil {
		return nil, err
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(out, func(a, b *userpool.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ReleaseDeliveries gives up worker's claims on the deliveries ids (ones
// it claimed but will not attempt), so that any worker may claim them at
// once; a claim another worker holds meanwhile stays theirs.
func (s *Store) ReleaseDeliveries(ctx context.Context, worker string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{worker}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.write.ExecContext(ctx, s.d.q(`UPDATE webhook_deliveries SET claimed_by = '', claimed_until = NULL
		WHERE claimed_by = ? AND status = 'pending' AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`), args...)
	if err != nil {
		return fmt.Errorf("sqlstore: release deliveries: %w", err)
	}
	s.added.fire()
	return nil
}

// NewDeliveries returns a channel that is closed once this store next
// commits deliveries that are due at once: an event that fanned out to a
// subscription, a redelivery, released claims. A dispatcher takes the
// channel before it claims, so a write committed after its claim's
// snapshot still wakes it. Writes by other processes (replicas) do not
// close it; they are found by polling.
func (s *Store) NewDeliveries() <-chan struct{} { return s.added.wait() }

// signal is a broadcast that loses no wake-up: wait returns the channel
// the next fire closes.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

// fire closes the channel waiters hold; with no waiter it costs a lock.
func (g *signal) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

// RecordAttempt stores the attempt and, if the claim is still a.Worker's,
// the delivery's next state, in one transaction.
func (s *Store) RecordAttempt(ctx context.Context, a *userpool.DeliveryAttempt, status userpool.DeliveryStatus, next time.Time) error {
	r := userpool.AttemptResult{Attempt: a, Status: status, NextAttemptAt: next}
	if err := s.checkResult(r); err != nil {
		return err
	}
	return s.inTx(ctx, "record attempt", func(tx *sql.Tx) error { return s.recordAttempt(ctx, tx, r) })
}

// RecordAttempts records the results in one transaction, so a dispatcher
// pays one commit for the attempts its workers finished meanwhile. Rows
// are locked in delivery id order, as every batch here takes them.
func (s *Store) RecordAttempts(ctx context.Context, rs []userpool.AttemptResult) error {
	for _, r := range rs {
		if err := s.checkResult(r); err != nil {
			return err
		}
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b userpool.AttemptResult) int { return cmp.Compare(a.Attempt.DeliveryID, b.Attempt.DeliveryID) })
	return s.inTx(ctx, "record attempts", func(tx *sql.Tx) error {
		for _, r := range rs {
			if err := s.recordAttempt(ctx, tx, r); err != nil && !errors.Is(err, userpool.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

func (s *Store) checkResult(r userpool.AttemptResult) error {
	switch r.Status {
	case userpool.DeliveryPending, userpool.DeliveryDelivered, userpool.DeliveryFailed:
	default:
		return fmt.Errorf("sqlstore: record attempt: unknown status %q", r.Status)
	}
	if r.Attempt == nil {
		return errors.New("sqlstore: record attempt: no attempt")
	}
	return nil
}

// recordAttempt stores r's attempt and, while the claim is the attempt's
// worker's, moves the delivery to r's state and releases the claim.
func (s *Store) recordAttempt(ctx context.Context, tx *sql.Tx, r userpool.AttemptResult) error {
	a, status, next := r.Attempt, r.Status, r.NextAttemptAt
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	a.CreatedAt = s.d.norm(a.CreatedAt)
	a.Duration = a.Duration.Truncate(time.Millisecond)
	var claimedBy string
	err := tx.QueryRowContext(ctx, s.d.q("SELECT pool_id, claimed_by FROM webhook_deliveries WHERE id = ?"+s.d.forUpdate), a.DeliveryID).Scan(&a.PoolID, &claimedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return userpool.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: record attempt: %w", err)
	}
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO webhook_attempts (delivery_id, pool_id, number, worker, status_code, error, duration_ms, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		a.DeliveryID, a.PoolID, a.Number, a.Worker, a.StatusCode, a.Error, a.Duration.Milliseconds(), s.d.timeArg(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: record attempt: %w", err)
	}
	if claimedBy != a.Worker {
		// The claim lapsed and another worker holds the delivery now: the
		// attempt happened and is recorded, the state is theirs to set.
		return nil
	}
	var finished any
	if status != userpool.DeliveryPending {
		finished = s.d.timeArg(a.CreatedAt)
	}
	nextArg := s.d.timeArg(s.d.norm(next))
	if nextArg == nil {
		nextArg = s.d.timeArg(a.CreatedAt) // the column is NOT NULL
	}
	_, err = tx.ExecContext(ctx, s.d.q(`UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		last_error = ?, finished_at = ?, claimed_by = '', claimed_until = NULL WHERE id = ?`),
		string(status), a.Number, nextArg, a.Error, finished, a.DeliveryID)
	if err != nil {
		return fmt.Errorf("sqlstore: record attempt: %w", err)
	}
	return nil
}

// GetDelivery returns the pool's delivery, or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, poolID, id string) (*userpool.Delivery, error) {
	var r deliveryRow
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE pool_id = ? AND id = ?"), poolID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get delivery: %w", err)
	}
	return r.delivery(), nil
}

// ListDeliveries returns the deliveries matching f, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f userpool.DeliveryFilter) ([]*userpool.Delivery, error) {
	where, args := []string{"pool_id = ?"}, []any{f.PoolID}
	if f.SubscriptionID != "" {
		where, args = append(where, "subscription_id = ?"), append(args, f.SubscriptionID)
	}
	if f.EventID != "" {
		where, args = append(where, "event_id = ?"), append(args, f.EventID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE "+
		strings.Join(where, " AND ")+" ORDER BY created_at DESC, id DESC LIMIT ?"), append(args, min(limit, 1000))...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list deliveries: %w", err)
	}
	return scanDeliveries(rows, "list deliveries")
}

// ListDeliveryAttempts returns the delivery's attempts, oldest first.
func (s *Store) ListDeliveryAttempts(ctx context.Context, poolID, deliveryID string) ([]*userpool.DeliveryAttempt, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q(`SELECT id, delivery_id, pool_id, number, worker, status_code, error, duration_ms, created_at
		FROM webhook_attempts WHERE pool_id = ? AND delivery_id = ? ORDER BY id`), poolID, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list delivery attempts: %w", err)
	}
	defer rows.Close()
	var out []*userpool.DeliveryAttempt
	for rows.Next() {
		a := new(userpool.DeliveryAttempt)
		var ms int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.PoolID, &a.Number, &a.Worker, &a.StatusCode, &a.Error, &ms, timeDest{&a.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list delivery attempts: %w", err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list delivery attempts: %w", err)
	}
	return out, nil
}

// Redeliver makes the delivery pending and due at now with a fresh round.
func (s *Store) Redeliver(ctx context.Context, poolID, id string, now time.Time) (*userpool.Delivery, error) {
	rows, err := s.write.QueryContext(ctx, s.d.q(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,
		claimed_by = '', claimed_until = NULL, last_error = '', finished_at = NULL
		WHERE pool_id = ? AND id = ? RETURNING `+deliveryColumns), s.d.timeArg(s.d.norm(now)), poolID, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: redeliver: %w", err)
	}
	out, err := scanDeliveries(rows, "redeliver")
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, userpool.ErrNotFound
	}
	s.added.fire()
	return out[0], nil
}
