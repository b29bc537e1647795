package metrics

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNilRecordsNothing: a nil *Metrics is usable (use cases built
// without metrics).
func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	m.RequestStarted()
	m.RequestDone("GET /x", 200, time.Millisecond)
	m.Login("email", "success")
	m.CaptchaDemanded()
	m.HashQueued()
	m.HashStarted(time.Millisecond, true)
	m.HashDone()
	m.PipelineRun("pre-register", "script", "accepted", time.Millisecond)
	m.WebhookAttempt("delivered", time.Millisecond)
	m.CodeSend("sms", "sent")
}

// TestRequestSeries: requests are counted per route pattern and status,
// each pair its own series, and new statuses of a known route appear.
func TestRequestSeries(t *testing.T) {
	m := New()
	for range 3 {
		m.RequestStarted()
		m.RequestDone("POST /api/v1/login/email", 200, 2*time.Millisecond)
	}
	m.RequestStarted()
	m.RequestDone("POST /api/v1/login/email", 401, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`authpool_http_request_duration_seconds_count{code="200",route="POST /api/v1/login/email"} 3`,
		`authpool_http_request_duration_seconds_count{code="401",route="POST /api/v1/login/email"} 1`,
		`authpool_http_requests_in_flight 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
}

// BenchmarkRequestDone is the instrumentation's cost per request once its
// series exist: no allocation.
func BenchmarkRequestDone(b *testing.B) {
	m := New()
	m.RequestDone("POST /api/v1/token/check", 200, time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RequestStarted()
			m.RequestDone("POST /api/v1/token/check", 200, 100*time.Microsecond)
		}
	})
}

func TestRequestDoneAllocates(t *testing.T) {
	m := New()
	m.RequestDone("POST /api/v1/token/check", 200, time.Millisecond)
	if n := testing.AllocsPerRun(100, func() {
		m.RequestStarted()
		m.RequestDone("POST /api/v1/token/check", 200, time.Millisecond)
		m.Login("email", "success")
	}); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

// TestDocumented: every authpool_ series is described in
// docs/OPERATIONS.md, and the example dashboard uses no series that does
// not exist.
func TestDocumented(t *testing.T) {
	m := New()
	m.WatchStore(nil, func(context.Context) (int, int, error) { return 0, 0, nil })
	m.RequestDone("GET /x", 200, time.Millisecond)
	m.Login("email", "success")
	m.PipelineRun("pre-register", "script", "accepted", time.Millisecond)
	m.WebhookAttempt("delivered", time.Millisecond)
	m.CodeSend("sms", "sent")
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	for n := range names {
		if strings.HasPrefix(n, "authpool_") && !strings.Contains(string(ops), "`"+n+"`") {
			t.Errorf("%s is not described in docs/OPERATIONS.md", n)
		}
	}
	dash, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(dash) {
		t.Fatal("docs/grafana-dashboard.json is not JSON")
	}
	for _, n := range regexp.MustCompile(`\b(authpool|go_sql|process|go_memstats)_[a-z_]+`).FindAllString(string(dash), -1) {
		base := n
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && names[b] {
				base = b
			}
		}
		if strings.HasPrefix(base, "go_sql") {
			continue // registered per pool by WatchStore
		}
		if !names[base] {
			t.Errorf("the dashboard uses %s, which is not exported", n)
		}
	}
}
