package courier

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func TestSealer(t *testing.T) {
	s, err := NewSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"to":"ada@example.com","code":"493012"}`)
	a, b := s.Seal("job-1", plain), s.Seal("job-1", plain)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one payload are equal: the nonce is not fresh")
	}
	if bytes.Contains(a, []byte("493012")) || bytes.Contains(a, []byte("ada@")) {
		t.Fatal("the sealed payload shows its contents")
	}
	if got, err := s.Open("job-1", a); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: %q %v", got, err)
	}
	if _, err := s.Open("job-2", a); err == nil {
		t.Fatal("opened under another job's id")
	}
	bad := bytes.Clone(a)
	bad[len(bad)-1] ^= 1
	if _, err := s.Open("job-1", bad); err == nil {
		t.Fatal("opened a changed payload")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{2}, 32))
	if _, err := other.Open("job-1", a); err == nil {
		t.Fatal("opened under another key")
	}
	if _, err := s.Open("job-1", a[:5]); err == nil {
		t.Fatal("opened a truncated payload")
	}
	if _, err := NewSealer(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

// memStore is a queue in memory with the store's claim semantics, for
// the workers' loop alone (the real stores pass storetest's cases).
type memStore struct {
	mu   sync.Mutex
	jobs map[string]*userpool.MessageJob
	recs []userpool.Record
}

func (m *memStore) ClaimMessages(_ context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*userpool.MessageJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*userpool.MessageJob
	for _, j := range m.jobs {
		if len(out) == limit {
			break
		}
		if j.NextAttemptAt.After(now) || j.ClaimedUntil.After(now) {
			continue
		}
		j.ClaimedBy, j.ClaimedUntil = worker, now.Add(lease)
		cp := *j
		out = append(out, &cp)
	}
	return out, nil
}

func (m *memStore) RetryMessage(_ context.Context, id, worker string, attempts int, next time.Time, lastErr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.jobs[id]
	if j == nil || j.ClaimedBy != worker {
		return userpool.ErrNotFound
	}
	j.Attempts, j.NextAttemptAt, j.LastError, j.ClaimedBy, j.ClaimedUntil = attempts, next, lastErr, "", time.Time{}
	return nil
}

func (m *memStore) DeleteMessage(_ context.Context, id, worker string, recs ...userpool.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.jobs[id]
	if j == nil || j.ClaimedBy != worker {
		return userpool.ErrNotFound
	}
	delete(m.jobs, id)
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memStore) CountDueMessages(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, j := range m.jobs {
		if !j.NextAttemptAt.After(now) {
			n++
		}
	}
	return n, nil
}

// scripted answers each job's attempts from a list; it records what it saw.
type scripted struct {
	mu       sync.Mutex
	answers  map[string][]error
	sent     []string
	gaveUp   map[string]int
	gaveUpNo map[string]error
}

func (h *scripted) Send(_ context.Context, j *userpool.MessageJob, plain []byte) ([]userpool.Record, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	if a := h.answers[j.ID]; len(a) > 0 {
		err, h.answers[j.ID] = a[0], a[1:]
	}
	if err == nil {
		h.sent = append(h.sent, string(plain))
		return []userpool.Record{&userpool.AuditEvent{Event: "sent " + j.ID}}, nil
	}
	return nil, err
}

func (h *scripted) GiveUp(_ context.Context, j *userpool.MessageJob, plain []byte, attempts int, err error) []userpool.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gaveUp[j.ID], h.gaveUpNo[j.ID] = attempts, err
	return []userpool.Record{&userpool.AuditEvent{Event: "failed " + j.ID}}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRunRetriesAndGivesUp: a failing job is retried after its backoff
// and given up after its last attempt; a permanent error and a payload
// that does not open end a job at once; more jobs than workers are all
// sent without waiting for a poll (a freed worker claims the next one at
// once; the poll interval is an hour here). Shutdown waits for the
// attempts in flight.
func TestRunRetriesAndGivesUp(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
	seal, _ := NewSealer(bytes.Repeat([]byte{3}, 32))
	st := &memStore{jobs: map[string]*userpool.MessageJob{}}
	add := func(id, plain string) {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.jobs[id] = &userpool.MessageJob{ID: id, PoolID: "p", Channel: "email", Payload: seal.Seal(id, []byte(plain)), NextAttemptAt: clk.now()}
	}
	flaky := errors.New("SMTP 451")
	h := &scripted{answers: map[string][]error{
		"retry":     {flaky},
		"fail":      {flaky, flaky, flaky},
		"permanent": {Permanent(errors.New("expired"))},
	}, gaveUp: map[string]int{}, gaveUpNo: map[string]error{}}
	c := New(st, seal, h, Config{Workers: 2, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: time.Minute, Timeout: time.Second, PollInterval: time.Hour}, clk.now, nil)
	for _, id := range []string{"retry", "fail", "permanent", "ok1", "ok2", "ok3", "ok4", "ok5"} {
		add(id, "payload of "+id)
	}
	st.jobs["unreadable"] = &userpool.MessageJob{ID: "unreadable", PoolID: "p", Channel: "sms", Payload: seal.Seal("elsewhere", []byte("x")), NextAttemptAt: clk.now()}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	settle := func() {
		t.Helper()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		c.Wake()
		if err := c.Settle(sctx); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	for _, backoff := range []time.Duration{c.Backoff(1), c.Backoff(2)} {
		clk.add(backoff)
		c.Wake()
		settle()
	}
	cancel()
	<-done

	if len(st.jobs) != 0 {
		t.Fatalf("jobs left: %v", st.jobs)
	}
	if len(h.sent) != 6 { // ok1..ok5 and retry
		t.Fatalf("sent %v", h.sent)
	}
	if h.gaveUp["fail"] != 3 || h.gaveUp["permanent"] != 1 || h.gaveUp["unreadable"] != 1 || len(h.gaveUp) != 3 {
		t.Fatalf("gave up %v", h.gaveUp)
	}
	if !errors.Is(h.gaveUpNo["fail"], flaky) {
		t.Fatalf("gave up with %v", h.gaveUpNo["fail"])
	}
	if len(st.recs) != 9 {
		t.Fatalf("%d records written with the deletions, want 9", len(st.recs))
	}
	if c.Backoff(1) != time.Second || c.Backoff(3) != 4*time.Second || c.Backoff(30) != time.Minute {
		t.Fatalf("backoff %v %v %v", c.Backoff(1), c.Backoff(3), c.Backoff(30))
	}
}
