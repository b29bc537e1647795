// Package server assembles a running authpool from a Config: it opens the
// store, loads the signing keys, builds the use cases and the transports,
// and serves them until its context ends. cmd/authpool and the end-to-end
// tests both start the program through it, so tests run the real thing.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/token"
)

// Options are the parts of a server that are not configuration: injected
// time and logging.
type Options struct {
	// Now is the clock; nil means time.Now. Tests move it to expire things
	// without sleeping.
	Now func() time.Time
	Log *slog.Logger
	// HTTPClient makes the requests of HTTP pipelines, of the scripts'
	// http helper and of webhook deliveries; nil means one that follows no
	// redirects.
	HTTPClient *http.Client
}

// Server is an assembled authpool.
type Server struct {
	cfg     config.Config
	store   *sqlstore.Store
	tokens  *token.Manager
	auth    *auth.Service
	handler http.Handler
	log     *slog.Logger
	now     func() time.Time
	poolID  string

	pipelines  *pipeline.Runner
	dispatcher *pipeline.Dispatcher
}

// New opens the store (applying migrations), loads or creates the signing
// keys and the default pool, and builds the HTTP handler.
func New(ctx context.Context, cfg config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	tokens, err := token.NewManager(ctx, st, cfg.Issuer, now)
	if err != nil {
		st.Close()
		return nil, err
	}
	hasher := password.New(cfg.PasswordParams(), cfg.PasswordConcurrency) // validated above
	svc := auth.New(st, tokens, hasher, auth.Config{Issuer: cfg.Issuer}, now, log)
	runner := pipeline.NewRunner(st, pipeline.Config{
		Timeout: time.Duration(cfg.PipelineTimeout), Concurrency: cfg.PipelineConcurrency, Client: opts.HTTPClient,
	}, now, log)
	svc.UsePipelines(runner)
	dispatcher := pipeline.NewDispatcher(st, pipeline.DispatchConfig{
		Workers: cfg.WebhookWorkers, MaxAttempts: cfg.WebhookMaxAttempts,
		Backoff: time.Duration(cfg.WebhookBackoff), MaxBackoff: time.Duration(cfg.WebhookMaxBackoff),
		Timeout: time.Duration(cfg.WebhookTimeout), PollInterval: time.Duration(cfg.WebhookPollInterval),
		Client: opts.HTTPClient,
	}, now, log)
	pool, err := svc.EnsureDefaultPool(ctx, cfg.DefaultPoolID, cfg.InitialPoolSettings())
	if err != nil {
		st.Close()
		return nil, err
	}
	trusted, _ := cfg.TrustedPrefixes() // validated above
	api := httpapi.New(httpapi.Deps{
		Auth: svc, JWKS: tokens.JWKS, Ready: st.Ping, Log: log, TrustedProxies: trusted,
	})
	return &Server{
		cfg: cfg, store: st, tokens: tokens, auth: svc, handler: api.Handler(), log: log, now: now, poolID: pool.ID,
		pipelines: runner, dispatcher: dispatcher,
	}, nil
}

// Pipelines is the pipeline runner (the admin API's test runs use it).
func (s *Server) Pipelines() *pipeline.Runner { return s.pipelines }

// WebhookWorker names this server's webhook dispatcher in claims and
// delivery attempts.
func (s *Server) WebhookWorker() string { return s.dispatcher.ID() }

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// DefaultPoolID is the id of the default user pool.
func (s *Server) DefaultPoolID() string { return s.poolID }

// Store exposes the store for migration commands and tests.
func (s *Server) Store() *sqlstore.Store { return s.store }

// Serve serves on ln until ctx ends, then drains in-flight requests for up
// to the shutdown timeout and closes the store.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	go s.janitor(ctx)
	// The webhook workers stop claiming when ctx ends; Serve waits for the
	// attempts in flight so that their results are recorded before the
	// store closes. What is not delivered stays in the outbox for the next
	// start (or another replica).
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	workersDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		s.dispatcher.Run(wctx)
	}()
	select {
	case err := <-errc:
		stopWorkers()
		<-workersDone
		s.store.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	select {
	case <-workersDone:
	case <-sctx.Done():
		s.log.Warn("webhook attempts still in flight at shutdown; their deliveries will be retried")
	}
	return errors.Join(err, s.store.Close())
}

// janitor deletes expired short-lived rows (counters, codes) every few
// minutes, so that tables of per-IP counters do not grow without bound.
// Every replica runs one; the deletes are idempotent.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.store.PurgeExpired(ctx, s.now()); err != nil && ctx.Err() == nil {
				s.log.Warn("purging expired rows failed", slog.String("error", err.Error()))
			}
		}
	}
}
