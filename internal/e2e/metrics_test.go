package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// series reads a Prometheus text exposition into "name{labels}" -> value
// (labels as the server writes them: sorted by name).
func series(t *testing.T, text []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func scrape(t *testing.T, in *instance) map[string]float64 {
	t.Helper()
	return series(t, must[[]byte](t)(in.admin().Metrics(context.Background())))
}

// TestMetrics scrapes /metrics (through the SDK, with the administrator
// key) before and after a login, a failed login, a pipeline run and a
// webhook delivery, and checks that the series of each are present and
// have grown; and that the route label is the route's pattern, never the
// path a client sent.
func TestMetrics(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		rc := newReceiver(t, nil)
		rc.subscribe(t, in, api.EventUserLogin)
		addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) { callback(null, user, context) }`)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "metrics@example.com", "passw0rd!", nil, nil))

		before := scrape(t, in)
		must[*client.User](t)(c.LoginByEmail(ctx, "metrics@example.com", "passw0rd!", nil))
		_, err := c.LoginByEmail(ctx, "metrics@example.com", "wrong-passw0rd", nil)
		wantCode(t, err, api.CodeWrongPassword)
		// Paths a client makes up must not become labels.
		http.Get(in.URL + "/no/such/route/metrics-probe-7f3a")
		in.admin().GetUser(ctx, "default", "no-such-user-metrics-probe-9c1d")
		must0(t, c.SendEmail(ctx, "metrics@example.com", client.EmailSceneVerifyEmail))
		in.settle(t)
		rc.waitEvents(t, 1)
		// The attempt is counted once its result is in; wait for it.
		waitFor(t, "a delivered attempt in the metrics", func() bool {
			return scrape(t, in)[`authpool_webhook_attempt_duration_seconds_count{result="delivered"}`] > 0
		})
		after := scrape(t, in)

		grew := []string{
			`authpool_logins_total{method="email",outcome="success"}`,
			`authpool_logins_total{method="email",outcome="wrong_password"}`,
			`authpool_http_request_duration_seconds_count{code="200",route="POST /api/v1/login/email"}`,
			`authpool_http_request_duration_seconds_count{code="401",route="POST /api/v1/login/email"}`,
			`authpool_pipeline_run_duration_seconds_count{kind="script",outcome="accepted",stage="post-authentication"}`,
			`authpool_webhook_attempt_duration_seconds_count{result="delivered"}`,
			`authpool_password_hash_wait_seconds_count`,
			`authpool_code_sends_total{channel="email",outcome="sent"}`,
		}
		for _, k := range grew {
			if after[k] <= before[k] {
				t.Errorf("%s: %v before, %v after; want it to grow", k, before[k], after[k])
			}
		}
		present := []string{
			`authpool_http_requests_in_flight`,
			`authpool_password_hash_queue_depth`,
			`authpool_password_hash_running`,
			`authpool_webhook_outbox_depth`,
			`authpool_message_queue_depth`,
			`authpool_captcha_demands_total`,
			`process_resident_memory_bytes`,
			`go_goroutines`,
		}
		for _, k := range present {
			if _, ok := after[k]; !ok {
				t.Errorf("series %s missing", k)
			}
		}
		pools := 0
		for k := range after {
			if strings.HasPrefix(k, "go_sql_open_connections{db_name=") {
				pools++
			}
		}
		if pools == 0 {
			t.Error("no store pool statistics (go_sql_open_connections)")
		}
		if after[`authpool_webhook_outbox_depth`] != 0 {
			t.Errorf("outbox depth %v after the delivery, want 0", after[`authpool_webhook_outbox_depth`])
		}
		text := string(must[[]byte](t)(in.admin().Metrics(ctx)))
		for _, raw := range []string{"metrics-probe-7f3a", "metrics-probe-9c1d"} {
			if strings.Contains(text, raw) {
				t.Errorf("a raw path reached the metrics: %s", raw)
			}
		}
		if !strings.Contains(text, `route="GET /api/v1/admin/pools/{poolId}/users/{userId}"`) {
			t.Error("the admin route is not labelled by its pattern")
		}

		// Without the key: refused like the admin API.
		_, err = client.NewManagementClient(client.ManagementOptions{Host: in.URL}).Metrics(ctx)
		wantCode(t, err, api.CodeAdminUnauthorized)
		_, err = client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: testAdminKey + "x"}).Metrics(ctx)
		if err == nil {
			t.Fatal("a wrong administrator key read the metrics")
		}
	})
}

// TestMetricsCaptchaDemand: a login refused for want of a CAPTCHA counts
// in authpool_captcha_demands_total.
func TestMetricsCaptchaDemand(t *testing.T) {
	ctx := context.Background()
	in := start(t, adminConfig(sqliteURL(t)), nil)
	c := in.client()
	must[*client.User](t)(c.RegisterByEmail(ctx, "cap@example.com", "passw0rd!", nil, nil))
	before := scrape(t, in)[`authpool_captcha_demands_total`]
	var err error
	for i := 0; i < 20; i++ {
		_, err = c.LoginByEmail(ctx, "cap@example.com", "wrong-passw0rd", nil)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Code == api.CodeCaptchaRequired {
			break
		}
	}
	wantCode(t, err, api.CodeCaptchaRequired)
	after := scrape(t, in)
	if after[`authpool_captcha_demands_total`] <= before {
		t.Fatalf("captcha demands %v -> %v", before, after[`authpool_captcha_demands_total`])
	}
	if after[`authpool_logins_total{method="email",outcome="captcha_required"}`] < 1 {
		t.Fatal("the refused login is not counted by its reason")
	}
}

// TestMetricsSeparateListener: AUTHPOOL_METRICS_ADDR serves /metrics
// without the key (and only /metrics).
func TestMetricsSeparateListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := adminConfig(sqliteURL(t))
	cfg.MetricsAddr = addr
	in := start(t, cfg, nil)
	must[*client.User](t)(in.client().RegisterByEmail(context.Background(), "sep@example.com", "passw0rd!", nil, nil))
	var got []byte
	waitFor(t, "the metrics listener", func() bool {
		b, err := client.NewManagementClient(client.ManagementOptions{Host: "http://" + addr}).Metrics(context.Background())
		got = b
		return err == nil
	})
	if !strings.Contains(string(got), `route="POST /api/v1/register/email"`) {
		t.Fatalf("the separate listener's metrics lack the registration:\n%.2000s", got)
	}
	resp, err := http.Get("http://" + addr + "/api/v1/admin/pools")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the metrics listener served the admin API: %d", resp.StatusCode)
	}
}
