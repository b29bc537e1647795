package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// webhookConfig polls the outbox often, so deliveries happen promptly;
// backoff stays the default (10 s) and tests move their clock past it. It
// has the administrator key and code sending limits a test lives with.
func webhookConfig(dbURL string) config.Config {
	cfg := codeAdminConfig(dbURL)
	cfg.WebhookPollInterval = config.Duration(10 * time.Millisecond)
	return cfg
}

// validSignature checks a Standard Webhooks signature as a receiver would,
// independently of the server's code, with the server's (injected) time
// as the receiver's now.
func validSignature(secret string, h http.Header, body []byte, now time.Time) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// received is one request a receiver got.
type received struct {
	ID     string
	Event  api.WebhookEvent
	Status int // what the receiver answered
}

// receiver is a webhook endpoint that verifies signatures and answers with
// status(n, id): n counts the requests for that webhook-id, from 1.
type receiver struct {
	srv    *httptest.Server
	secret string
	status func(n int, id string) int

	mu    sync.Mutex
	clock *clock // the server's, for the timestamp tolerance
	all   []received
	tries map[string]int
	ch    chan received
}

func newReceiver(t *testing.T, status func(n int, id string) int) *receiver {
	t.Helper()
	if status == nil {
		status = func(int, string) int { return http.StatusOK }
	}
	r := &receiver{secret: pipeline.NewSecret(), status: status, tries: map[string]int{}, ch: make(chan received, 10000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		now := time.Now()
		if r.clock != nil {
			now = r.clock.Now()
		}
		secret := r.secret
		r.mu.Unlock()
		if !validSignature(secret, req.Header, body, now) {
			t.Errorf("webhook with a bad signature: %q", req.Header.Get("webhook-signature"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev api.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.tries[id]++
		st := r.status(r.tries[id], id)
		got := received{ID: id, Event: ev, Status: st}
		r.all = append(r.all, got)
		r.mu.Unlock()
		w.WriteHeader(st)
		r.ch <- got
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// subscribe subscribes the receiver to events of the default pool through
// the admin API, with the receiver's secret.
func (r *receiver) subscribe(t *testing.T, in *instance, events ...string) *client.WebhookSubscription {
	t.Helper()
	r.mu.Lock()
	r.clock = in.Clock
	r.mu.Unlock()
	w, err := in.admin().CreateWebhook(context.Background(), "default", client.CreateWebhookRequest{URL: r.srv.URL, Events: events, Secret: r.secret})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w
}

// useSecret makes the receiver verify signatures with secret (one the
// server generated or rotated).
func (r *receiver) useSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

// waitEvents returns the next n successful receptions.
func (r *receiver) waitEvents(t *testing.T, n int) []received {
	t.Helper()
	var out []received
	deadline := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case got := <-r.ch:
			if got.Status < 300 {
				out = append(out, got)
			}
		case <-deadline:
			t.Fatalf("received %d of %d webhooks", len(out), n)
		}
	}
	return out
}

// waitDistinct returns the first successful reception of each of the next
// n distinct events (by webhook-id), as a de-duplicating receiver would:
// a test that moves the injected clock past a claim's lease while a
// delivery is in flight may see that delivery twice (at least once).
func (r *receiver) waitDistinct(t *testing.T, n int) []received {
	t.Helper()
	seen := map[string]bool{}
	var out []received
	deadline := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case got := <-r.ch:
			if got.Status < 300 && !seen[got.ID] {
				seen[got.ID] = true
				out = append(out, got)
			}
		case <-deadline:
			t.Fatalf("received %d of %d distinct webhooks", len(out), n)
		}
	}
	return out
}

// next returns the next request, whatever the answer.
func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case got := <-r.ch:
		return got
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook arrived")
		return received{}
	}
}

// waitFor polls cond (a store read) until it holds; deliveries are
// recorded by the server's workers after the receiver has answered.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func delivery(t *testing.T, in *instance, eventID, subID string) *userpool.Delivery {
	t.Helper()
	d, err := in.Srv.Store().GetDelivery(context.Background(), in.Srv.DefaultPoolID(), eventID+":"+subID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWebhookEvents: every event this branch's use cases emit arrives,
// signed, with the user as the change stored it.
func TestWebhookEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "*")
		other := newReceiver(t, nil)
		other.subscribe(t, in, "user.logout")
		c := in.client()

		u := must[*client.User](t)(c.RegisterByEmail(ctx, "hook@example.com", "passw0rd!", &client.RegisterProfile{Nickname: "H"}, nil))
		_, err := c.LoginByEmail(ctx, "hook@example.com", "wrong-password", nil)
		wantCode(t, err, 2006)
		must[*client.User](t)(c.LoginByEmail(ctx, "hook@example.com", "passw0rd!", nil))
		must[*client.User](t)(c.UpdateProfile(ctx, client.UpdateProfileInput{City: ptr("Lyon")}))
		must[*client.User](t)(c.UpdatePassword(ctx, "n3w-passw0rd!", "passw0rd!"))
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		// Refused before any account is looked at: not a failed login.
		_, err = c.LoginByEmail(ctx, "not-an-email", "x", nil)
		wantCode(t, err, 2003)

		want := []string{"user.registered", "user.login_failed", "user.login", "user.updated", "user.password_changed", "user.logout"}
		got := rcv.waitEvents(t, len(want))
		byType := map[string]received{}
		ids := map[string]bool{}
		for _, g := range got {
			byType[g.Event.Type] = g
			ids[g.ID] = true
		}
		if len(ids) != len(want) {
			t.Fatalf("%d distinct webhook-ids for %d events", len(ids), len(want))
		}
		for _, typ := range want {
			g, ok := byType[typ]
			if !ok {
				t.Errorf("no %s event", typ)
				continue
			}
			d := g.Event.Data
			if d.UserPoolID != u.UserPoolID || d.ClientIP != "127.0.0.1" || g.Event.Timestamp.IsZero() {
				t.Errorf("%s: %+v", typ, d)
			}
			if typ == "user.login_failed" {
				if d.User != nil || d.Identifier != "hook@example.com" || d.Code != 2006 || d.Reason != "wrong_password" || d.Method != "email" {
					t.Errorf("user.login_failed: %+v", d)
				}
				continue
			}
			if d.User == nil || d.User.ID != u.ID || d.User.Email != "hook@example.com" {
				t.Errorf("%s user: %+v", typ, d.User)
			}
		}
		if byType["user.login"].Event.Data.User.LoginsCount != 1 || byType["user.updated"].Event.Data.User.City != "Lyon" {
			t.Errorf("payloads do not show the stored change")
		}
		// The other subscription gets only what it asked for.
		if g := other.waitEvents(t, 1); g[0].Event.Type != "user.logout" || g[0].ID != byType["user.logout"].ID {
			t.Errorf("second subscription got %+v", g)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.all) != len(want) {
			t.Errorf("%d requests, want %d", len(rcv.all), len(want))
		}
	})
}

// TestWebhookRetries: a receiver that fails three times gets the event on
// the fourth attempt, with the same webhook-id each time; one that always
// fails gets the configured number of attempts, then the delivery fails.
// The backoff is waited out on the injected clock.
func TestWebhookRetries(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := webhookConfig(dbURL)
		cfg.WebhookMaxAttempts = 4
		clk := newClock()
		in := start(t, cfg, clk)
		flaky := newReceiver(t, func(n int, _ string) int {
			if n <= 3 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		})
		flakySub := flaky.subscribe(t, in, "user.registered")
		broken := newReceiver(t, func(int, string) int { return http.StatusInternalServerError })
		brokenSub := broken.subscribe(t, in, "user.registered")

		must[*client.User](t)(in.client().RegisterByUsername(ctx, "retry", "passw0rd!", nil, nil))
		var id string
		backoff := time.Duration(cfg.WebhookBackoff)
		for attempt := 1; attempt <= 4; attempt++ {
			f, b := flaky.next(t), broken.next(t)
			if id == "" {
				id = f.ID
			}
			if f.ID != id || b.ID != id {
				t.Fatalf("attempt %d: webhook-ids %s and %s, want %s", attempt, f.ID, b.ID, id)
			}
			if attempt == 4 {
				break
			}
			// Wait until both attempts are recorded, then move past the backoff
			// (10 s, 20 s, 40 s): nothing is retried before that.
			waitFor(t, fmt.Sprintf("attempt %d recorded", attempt), func() bool {
				return delivery(t, in, id, flakySub.ID).Attempts == attempt && delivery(t, in, id, brokenSub.ID).Attempts == attempt
			})
			d := delivery(t, in, id, flakySub.ID)
			if d.Status != userpool.DeliveryPending || d.LastError != "HTTP 503" || !d.NextAttemptAt.Equal(clk.Now().Add(backoff)) {
				t.Fatalf("after attempt %d: %+v", attempt, d)
			}
			clk.Advance(backoff)
			backoff *= 2
		}
		waitFor(t, "final state", func() bool {
			return delivery(t, in, id, flakySub.ID).Status == userpool.DeliveryDelivered &&
				delivery(t, in, id, brokenSub.ID).Status == userpool.DeliveryFailed
		})
		attempts, err := in.Srv.Store().ListDeliveryAttempts(ctx, in.Srv.DefaultPoolID(), id+":"+flakySub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(attempts) != 4 {
			t.Fatalf("%d attempts recorded, want 4", len(attempts))
		}
		for i, a := range attempts {
			wantStatus := http.StatusServiceUnavailable
			if i == 3 {
				wantStatus = http.StatusNoContent
			}
			if a.Number != i+1 || a.StatusCode != wantStatus || (a.Error == "") != (i == 3) || a.Worker != in.Srv.WebhookWorker() {
				t.Errorf("attempt %d: %+v", i+1, a)
			}
		}
		d := delivery(t, in, id, brokenSub.ID)
		if d.Attempts != 4 || d.LastError != "HTTP 500" || d.FinishedAt.IsZero() {
			t.Fatalf("given-up delivery: %+v", d)
		}
		// Nothing more is tried, however long we wait: the next request the
		// always-failing receiver gets is for a new event.
		clk.Advance(24 * time.Hour)
		if _, err := in.client().RegisterByUsername(ctx, "later", "passw0rd!", nil, nil); err != nil {
			t.Fatal(err)
		}
		if g := broken.next(t); g.ID == id {
			t.Fatal("a failed delivery was tried again")
		}

		// A redelivery through the admin API revives the failed one.
		if rd, err := in.admin().Redeliver(ctx, "default", d.ID); err != nil || rd.Status != "pending" {
			t.Fatalf("redeliver: %v %+v", err, rd)
		}
		for {
			if g := broken.next(t); g.ID == id {
				break
			}
		}
	})
}

// TestWebhookSurvivesRestart: the server stops with an event whose
// delivery failed; after the restart it is delivered, with the same
// webhook-id.
func TestWebhookSurvivesRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := webhookConfig(dbURL)
		clk := newClock()
		first := start(t, cfg, clk)
		var up atomic.Bool // the receiver is back
		rcv := newReceiver(t, func(int, string) int {
			if up.Load() {
				return http.StatusOK
			}
			return http.StatusBadGateway
		})
		sub := rcv.subscribe(t, first, "user.registered")
		must[*client.User](t)(first.client().RegisterByEmail(ctx, "restart@example.com", "passw0rd!", nil, nil))
		failed := rcv.next(t)
		waitFor(t, "the failed attempt recorded", func() bool { return delivery(t, first, failed.ID, sub.ID).Attempts == 1 })
		first.stop()

		up.Store(true)
		clk.Advance(time.Duration(cfg.WebhookBackoff))
		second := start(t, cfg, clk)
		got := rcv.waitEvents(t, 1)
		if got[0].ID != failed.ID || got[0].Event.Data.User.Email != "restart@example.com" {
			t.Fatalf("after restart got %+v", got[0])
		}
		waitFor(t, "delivered", func() bool { return delivery(t, second, failed.ID, sub.ID).Status == userpool.DeliveryDelivered })

		// An event written while no replica delivers (workers 0) waits in
		// the outbox for one that does.
		second.stop()
		cfg.WebhookWorkers = 0
		quiet := start(t, cfg, clk)
		must[*client.User](t)(quiet.client().RegisterByEmail(ctx, "queued@example.com", "passw0rd!", nil, nil))
		quiet.stop()
		cfg.WebhookWorkers = 4
		start(t, cfg, clk)
		if got := rcv.waitEvents(t, 1); got[0].Event.Data.User.Email != "queued@example.com" {
			t.Fatalf("queued event: %+v", got[0])
		}
	})
}

// TestWebhooksTwoReplicas: two servers on one PostgreSQL database deliver
// every event exactly once (one attempt each) under load.
func TestWebhooksTwoReplicas(t *testing.T) {
	url, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("PostgreSQL tests skipped: set " + storetest.PostgresURLEnv)
	}
	ctx := context.Background()
	cfg := webhookConfig(url)
	a, b := start(t, cfg, nil), start(t, cfg, nil)
	rcv := newReceiver(t, nil)
	rcv.subscribe(t, a, "*")

	const users = 30
	var wg sync.WaitGroup
	errs := make(chan error, 2*users)
	for i := range users {
		wg.Go(func() {
			in := a
			if i%2 == 1 {
				in = b
			}
			email := fmt.Sprintf("load%d@example.com", i)
			if _, err := in.client().RegisterByEmail(ctx, email, "passw0rd!", nil, nil); err != nil {
				errs <- err
				return
			}
			// Log in through the other replica.
			other := b
			if in == b {
				other = a
			}
			if _, err := other.client().LoginByEmail(ctx, email, "passw0rd!", nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rcv.waitEvents(t, 2*users)
	// Let any duplicate that was in flight arrive and be recorded.
	waitFor(t, "every delivery finished", func() bool {
		ds, err := a.Srv.Store().ListDeliveries(ctx, userpool.DeliveryFilter{PoolID: a.Srv.DefaultPoolID(), Status: userpool.DeliveryPending})
		return err == nil && len(ds) == 0
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	workers := map[string]int{}
	for id, n := range rcv.tries {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if len(rcv.tries) != 2*users {
		t.Errorf("%d events delivered, want %d", len(rcv.tries), 2*users)
	}
	ds, _ := a.Srv.Store().ListDeliveries(ctx, userpool.DeliveryFilter{PoolID: a.Srv.DefaultPoolID(), Limit: 1000})
	for _, d := range ds {
		attempts, _ := a.Srv.Store().ListDeliveryAttempts(ctx, d.PoolID, d.ID)
		if len(attempts) != 1 || d.Status != userpool.DeliveryDelivered {
			t.Errorf("delivery %s: %d attempts, status %s", d.ID, len(attempts), d.Status)
		}
		for _, at := range attempts {
			workers[at.Worker]++
		}
	}
	t.Logf("attempts per worker: %v", workers)
}
