package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// BenchmarkWebhookThroughput writes b.N user.login events into the outbox
// at a steady rate (250, 500 and 2,000 a second; one transaction each, as
// a login writes its event, from 16 goroutines) through the store of a
// real server with the default webhook settings (4 workers, 1 s poll
// interval); a real loopback HTTP receiver answers 204 at once. It
// reports the rate the events were written (produced/s), the rate
// distinct events reached the receiver from the first write to the last
// arrival (delivered/s), the largest backlog (events written and not yet
// received, sampled every 50 ms) and the backlog when the last event was
// written. Run it with a fixed count:
//
//	go test ./internal/e2e -run '^$' -bench WebhookThroughput -benchtime 6000x
//
// (AUTHPOOL_BENCH_POSTGRES=1 as for the other benchmarks.)
func BenchmarkWebhookThroughput(b *testing.B) {
	for _, rate := range []int{250, 500, 2000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) { benchWebhookRate(b, rate) })
	}
}

func benchWebhookRate(b *testing.B, rate int) {
	ctx := context.Background()
	in := benchServer(b)
	st := in.Srv.Store()
	pool := in.Srv.DefaultPoolID()

	var (
		mu       sync.Mutex
		seen     = map[string]bool{}
		received atomic.Int64
		last     atomic.Int64 // unix nanoseconds of the latest new arrival
		allIn    = make(chan struct{})
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		isNew := !seen[id]
		seen[id] = true
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		if isNew {
			last.Store(time.Now().UnixNano())
			if received.Add(1) == int64(b.N) {
				close(allIn)
			}
		}
	}))
	defer rcv.Close()
	sub := &userpool.WebhookSubscription{PoolID: pool, URL: rcv.URL, Events: []string{"*"}, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Enabled: true}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		b.Fatal(err)
	}
	payload, err := json.Marshal(api.WebhookEvent{Type: "user.login", Timestamp: in.Clock.Now(), Data: api.WebhookData{
		UserPoolID: pool, ClientIP: "203.0.113.7", UserAgent: "bench/1.0", Method: "email",
		User: &api.User{ID: "6f1c0b8e-2f7d-4a8e-9c1e-2b7d3f0a9e41", UserPoolID: pool, Email: "bench@example.com", LoginsCount: 42},
	}})
	if err != nil {
		b.Fatal(err)
	}

	var written atomic.Int64
	maxBacklog := int64(0)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				maxBacklog = max(maxBacklog, written.Load()-received.Load())
			}
		}
	}()

	// Writers in parallel, as concurrent logins write their events: on
	// PostgreSQL one writer waits for every commit to reach the disk.
	const writers = 16
	tokens := make(chan struct{}, b.N)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range tokens {
				e := &userpool.Event{PoolID: pool, Type: "user.login", Payload: payload, CreatedAt: in.Clock.Now()}
				if err := st.WriteRecords(ctx, e); err != nil {
					b.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	b.ResetTimer()
	begin := time.Now()
	// Steady pacing: every 5 ms, release the writes the rate allows by then.
	pace := time.NewTicker(5 * time.Millisecond)
	for released := 0; released < b.N; {
		<-pace.C
		due := min(b.N, int(time.Since(begin).Seconds()*float64(rate)))
		for ; released < due; released++ {
			tokens <- struct{}{}
		}
	}
	pace.Stop()
	close(tokens)
	wg.Wait()
	if b.Failed() {
		return
	}
	produced := time.Since(begin)
	endBacklog := written.Load() - received.Load()
	select {
	case <-allIn:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d events delivered", received.Load(), b.N)
	}
	delivered := time.Unix(0, last.Load()).Sub(begin)
	b.StopTimer()
	close(stopSampling)
	<-sampled

	b.ReportMetric(float64(b.N)/produced.Seconds(), "produced/s")
	b.ReportMetric(float64(b.N)/delivered.Seconds(), "delivered/s")
	b.ReportMetric(float64(maxBacklog), "max-backlog")
	b.ReportMetric(float64(endBacklog), "end-backlog")
	b.ReportMetric(0, "ns/op") // the rate is set; the figures above are the result
}
