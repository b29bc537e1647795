// Package metrics holds authpool's Prometheus series (docs/OPERATIONS.md
// describes each one). One *Metrics is built per server with its own
// registry (no global registry, so tests can run several servers in one
// process); the packages that do the work report to it through its
// methods. A nil *Metrics is valid and records nothing, so a use case
// built without one (a unit test) needs no special case.
//
// Label values come from closed sets in the code (route patterns, login
// methods, error reasons, outcomes), never from a request's raw path or a
// client's input, so the number of series stays bounded.
package metrics

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of series one server exports.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// routes caches each (route, status) pair's observer, so a request
	// costs a map read and no label hashing or allocation (see Request).
	routes sync.Map // route pattern -> *routeObservers

	logins         *prometheus.CounterVec
	captchaDemands prometheus.Counter

	hashWaiting prometheus.Gauge
	hashRunning prometheus.Gauge
	hashWait    prometheus.Histogram

	pipelineRuns *prometheus.HistogramVec

	webhookAttempts *prometheus.HistogramVec

	codeSends *prometheus.CounterVec

	handler http.Handler
}

// Depths reports the backlogs a scrape reads from the store: webhook
// deliveries waiting (pending), and queued messages that are due.
type Depths func(ctx context.Context) (webhooks, messages int, err error)

// New builds the series, with the Go runtime's and the process's
// collectors beside them.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authpool_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route pattern and status code (the count is the number of requests).",
			// From a token check (~0.1 ms) to a slow login queued for a hash slot.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authpool_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authpool_logins_total",
			Help: "Login attempts by method and outcome (success, or the refusal's reason such as wrong_password, captcha_required, user_not_found, or error).",
		}, []string{"method", "outcome"}),
		captchaDemands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authpool_captcha_demands_total",
			Help: "Password logins refused because failure detection demanded a CAPTCHA that was not given (code 2000).",
		}),
		hashWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authpool_password_hash_queue_depth",
			Help: "Password hash computations waiting for a slot.",
		}),
		hashRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authpool_password_hash_running",
			Help: "Password hash computations running (at most AUTHPOOL_PASSWORD_CONCURRENCY).",
		}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "authpool_password_hash_wait_seconds",
			Help:    "Time a password hash computation waited for a slot.",
			Buckets: []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		pipelineRuns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authpool_pipeline_run_duration_seconds",
			Help:    "Pipeline runs by stage, kind and outcome (accepted, rejected, failed), with their duration (the count is the number of runs).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage", "kind", "outcome"}),
		webhookAttempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authpool_webhook_attempt_duration_seconds",
			Help:    "Webhook delivery attempts by result (delivered; retrying: failed, tried again later; failed: failed, given up), with the time of the HTTP request.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"result"}),
		codeSends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authpool_code_sends_total",
			Help: "Attempts at sending a queued code by channel (email, sms) and outcome (sent; dropped: not to be sent, e.g. no account; retrying; given_up).",
		}, []string{"channel", "outcome"}),
	}
	reg.MustRegister(m.requests, m.inFlight, m.logins, m.captchaDemands, m.hashWaiting, m.hashRunning,
		m.hashWait, m.pipelineRuns, m.webhookAttempts, m.codeSends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// Bounded: a slow store must not pile up scrapes.
		MaxRequestsInFlight: 2,
		Timeout:             10 * time.Second,
	})
	return m
}

// WatchStore adds the series read from the store at each scrape: the
// connection pools' statistics (sql.DBStats, as go_sql_* with a db_name
// label) and the backlogs depths reports. pools names each *sql.DB once
// (PostgreSQL's read and write pools are one).
func (m *Metrics) WatchStore(pools map[string]*sql.DB, depths Depths) {
	for name, db := range pools {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
	d := &depthReader{read: depths}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authpool_webhook_outbox_depth",
			Help: "Webhook deliveries waiting to be delivered (pending, due or not), read from the store at scrape time (NaN if it failed).",
		}, func() float64 { return d.get(0) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authpool_message_queue_depth",
			Help: "Queued code messages that are due, read from the store at scrape time (NaN if it failed).",
		}, func() float64 { return d.get(1) }),
	)
}

// depthReader reads both depths with one call per scrape: the two gauges
// are collected one after the other, so the first asks the store and the
// second reuses the answer if it is fresh.
type depthReader struct {
	read Depths

	mu   sync.Mutex
	at   time.Time
	vals [2]float64
}

func (d *depthReader) get(i int) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) > time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		w, q, err := d.read(ctx)
		cancel()
		d.vals = [2]float64{float64(w), float64(q)}
		if err != nil {
			d.vals = [2]float64{math.NaN(), math.NaN()}
		}
		d.at = time.Now()
	}
	return d.vals[i]
}

// Handler serves the series in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// routeObservers holds one route's observers by status code, replaced
// as a whole (copy on write) when a new status appears: reads take no
// lock.
type routeObservers struct {
	route string
	mu    sync.Mutex
	codes atomic.Pointer[map[int]prometheus.Observer]
}

// RequestStarted counts a request in flight; call RequestDone when it ends.
func (m *Metrics) RequestStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// RequestDone records a finished request. route is the pattern it matched
// ("unmatched" when none did), never its path.
func (m *Metrics) RequestDone(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	m.observer(route, status).Observe(d.Seconds())
}

func (m *Metrics) observer(route string, status int) prometheus.Observer {
	v, ok := m.routes.Load(route)
	if !ok {
		v, _ = m.routes.LoadOrStore(route, &routeObservers{route: route})
	}
	ro := v.(*routeObservers)
	if p := ro.codes.Load(); p != nil {
		if o, ok := (*p)[status]; ok {
			return o
		}
	}
	ro.mu.Lock()
	defer ro.mu.Unlock()
	next := map[int]prometheus.Observer{}
	if p := ro.codes.Load(); p != nil {
		for k, o := range *p {
			next[k] = o
		}
	}
	o, ok := next[status]
	if !ok {
		o = m.requests.WithLabelValues(route, strconv.Itoa(status))
		next[status] = o
		ro.codes.Store(&next)
	}
	return o
}

// Login records a login attempt's outcome.
func (m *Metrics) Login(method, outcome string) {
	if m != nil {
		m.logins.WithLabelValues(method, outcome).Inc()
	}
}

// CaptchaDemanded records a login refused for want of a CAPTCHA.
func (m *Metrics) CaptchaDemanded() {
	if m != nil {
		m.captchaDemands.Inc()
	}
}

// HashQueued records a computation that starts waiting for a slot.
func (m *Metrics) HashQueued() {
	if m != nil {
		m.hashWaiting.Inc()
	}
}

// HashStarted records a computation that got a slot after waiting d (or
// gave up waiting, when started is false).
func (m *Metrics) HashStarted(d time.Duration, started bool) {
	if m == nil {
		return
	}
	m.hashWaiting.Dec()
	if started {
		m.hashRunning.Inc()
		m.hashWait.Observe(d.Seconds())
	}
}

// HashDone records a computation that freed its slot.
func (m *Metrics) HashDone() {
	if m != nil {
		m.hashRunning.Dec()
	}
}

// PipelineRun records one pipeline run.
func (m *Metrics) PipelineRun(stage, kind, outcome string, d time.Duration) {
	if m != nil {
		m.pipelineRuns.WithLabelValues(stage, kind, outcome).Observe(d.Seconds())
	}
}

// WebhookAttempt records one delivery attempt: result is delivered,
// retrying or failed.
func (m *Metrics) WebhookAttempt(result string, d time.Duration) {
	if m != nil {
		m.webhookAttempts.WithLabelValues(result).Observe(d.Seconds())
	}
}

// CodeSend records one attempt at sending a queued message.
func (m *Metrics) CodeSend(channel, outcome string) {
	if m != nil {
		m.codeSends.WithLabelValues(channel, outcome).Inc()
	}
}
