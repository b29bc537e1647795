// Package server assembles a running authpool from a Config: it opens the
// store, loads the signing keys, builds the use cases and the transports,
// and serves them until its context ends. cmd/authpool and the end-to-end
// tests both start the program through it, so tests run the real thing.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/authingcompat"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/connector"
	"github.com/authpool/authpool/internal/console"
	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/metrics"
	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/oidc"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storecache"
	"github.com/authpool/authpool/internal/token"
)

// Options are the parts of a server that are not configuration: injected
// time, randomness tests must predict, and logging.
type Options struct {
	// Now is the clock; nil means time.Now. Tests move it to expire things
	// without sleeping.
	Now func() time.Time
	Log *slog.Logger
	// NewCaptchaAnswer returns the digits of each new CAPTCHA's answer; nil
	// means random. Tests set it to know the answer (see auth.Config).
	NewCaptchaAnswer func() string
	// HTTPClient makes the requests of HTTP pipelines, of the scripts'
	// http helper and of webhook deliveries; nil means one that follows no
	// redirects.
	HTTPClient *http.Client
	// StoreCounts, when set, counts the statements and transactions the
	// store sends (benchmarks report them per request).
	StoreCounts *sqlstore.Counts
}

// Server is an assembled authpool.
type Server struct {
	cfg     config.Config
	store   *sqlstore.Store
	cache   *storecache.Store
	tokens  *token.Manager
	auth    *auth.Service
	handler http.Handler
	log     *slog.Logger
	now     func() time.Time
	poolID  string
	admin   *admin.Service

	pipelines  *pipeline.Runner
	dispatcher *pipeline.Dispatcher
	courier    *courier.Courier

	metrics *metrics.Metrics
	// console is the admin console (nil when off); consoleOwn is its
	// handler when it has a listen address of its own.
	console    *console.Service
	consoleOwn http.Handler
	// draining is set when Serve's context ends: readiness turns false
	// and new requests are refused while those in flight finish.
	draining *atomic.Bool
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
	st, err := sqlstore.OpenWith(ctx, cfg.DatabaseURL, sqlstore.OpenOptions{Counts: opts.StoreCounts})
	if err != nil {
		return nil, err
	}
	warnKeyCollisions(ctx, st, log)
	tokens, err := token.NewManager(ctx, st, cfg.Issuer, now, token.Lifecycle{
		LeadTime: time.Duration(cfg.SigningKeyLeadTime), RotateEvery: time.Duration(cfg.SigningKeyRotation),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	hasher := password.New(cfg.PasswordParams(), cfg.PasswordConcurrency) // validated above
	// One set of series per server (no global registry): the parts that
	// do the work report to it; the store's pools and backlogs are read
	// at each scrape.
	met := metrics.New()
	hasher.UseMetrics(met)
	met.WatchStore(st.Pools(), st.Backlogs)
	var defaultPool atomic.Pointer[string] // for the links in mails
	codes, err := codeDelivery(ctx, cfg, st, log, now, &defaultPool)
	if err != nil {
		st.Close()
		return nil, err
	}
	codes.Issuer = cfg.Issuer
	codes.Limits = limits(cfg)
	codes.NewCaptchaAnswer = opts.NewCaptchaAnswer
	// The use cases read pools, fields, pipelines and (opt-in) sessions
	// through the caches; the feed that keeps them honest runs in Serve.
	cached := storecache.New(st, cfg.SessionCache == "listen")
	st.SetChangeWatcher(cached)
	if !st.Postgres() {
		cached.CheckCounter(st.ChangeCount)
	}
	svc := auth.New(cached, tokens, hasher, codes, now, log)
	svc.UseMetrics(met)
	runner := pipeline.NewRunner(cached, pipeline.Config{
		Timeout: time.Duration(cfg.PipelineTimeout), Concurrency: cfg.PipelineConcurrency, Client: opts.HTTPClient,
		PoolConcurrency: cfg.PipelinePoolConcurrency, Memory: int64(cfg.PipelineMemoryMiB) << 20,
	}, now, log)
	runner.UseMetrics(met)
	svc.UsePipelines(runner)
	// The code queue's workers send with the use cases' senders and
	// templates (auth's Messenger); enqueueing wakes them.
	couriers := courier.New(st, codes.Sealer, svc.Messenger(), courier.Config{
		Workers: cfg.MessageWorkers, MaxAttempts: cfg.MessageMaxAttempts,
		Backoff: time.Duration(cfg.MessageBackoff), MaxBackoff: max(time.Duration(cfg.MessageBackoff), time.Minute),
		Timeout: time.Duration(cfg.MessageTimeout), PollInterval: time.Duration(cfg.MessagePollInterval),
	}, now, log)
	couriers.UseMetrics(met)
	svc.UseCourier(couriers)
	dispatcher := pipeline.NewDispatcher(st, pipeline.DispatchConfig{
		Workers: cfg.WebhookWorkers, MaxAttempts: cfg.WebhookMaxAttempts,
		Backoff: time.Duration(cfg.WebhookBackoff), MaxBackoff: time.Duration(cfg.WebhookMaxBackoff),
		Timeout: time.Duration(cfg.WebhookTimeout), PollInterval: time.Duration(cfg.WebhookPollInterval),
		Client: opts.HTTPClient,
	}, now, log)
	dispatcher.UseMetrics(met)
	pool, err := svc.EnsureDefaultPool(ctx, cfg.DefaultPoolID, cfg.InitialPoolSettings())
	if err != nil {
		st.Close()
		return nil, err
	}
	defaultPool.Store(&pool.ID)
	adm := admin.New(svc, cached, now, log)
	adm.UseSigningKeys(tokens)
	if cfg.AdminKey != "" {
		adm.UseConfiguredKey(cfg.AdminKey)
	}
	trusted, _ := cfg.TrustedPrefixes() // validated above
	apps, _ := cfg.AppSecretHashes()    // validated above
	draining := new(atomic.Bool)
	apiDeps := httpapi.Deps{
		Auth: svc, Admin: adm, JWKS: tokens.JWKS, Ready: st.Ping, Log: log,
		TrustedProxies: trusted, AppSecrets: apps, ForwardedHeader: cfg.ForwardedHeaderName(),
		Metrics: met, Draining: draining.Load, PublicBase: cfg.PublicBase(),
	}
	// The Authing-compatible transport runs over the same use cases: the
	// one service is its Auth, Codes, Captcha and Data.
	compat, err := authingcompat.New(ctx, authingcompat.Deps{
		Auth: svc, Codes: svc, Captcha: svc, Data: svc, MFA: svc,
		Keys: st, Log: log, ClientIP: httpapi.ClientIPFunc(apiDeps), CORSOrigins: cfg.CORSOrigins, Now: now,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	var mounts []httpapi.Mount
	for _, p := range compat.Mounts() {
		mounts = append(mounts, httpapi.Mount{Pattern: p, Handler: compat.Handler()})
	}
	provider, err := oidc.New(ctx, oidc.Deps{
		Auth: svc, Admin: adm, Store: cached, Tokens: tokens, PublicBase: cfg.PublicBase(), Now: now, Log: log,
		ClientIP: httpapi.ClientIPFunc(apiDeps), TemplatesDir: cfg.WebTemplatesDir,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, p := range provider.Patterns() {
		mounts = append(mounts, httpapi.Mount{Pattern: p, Handler: provider.Handler()})
	}
	var cons *console.Service
	var consoleOwn http.Handler
	if cfg.ConsoleOn() {
		cons, err = console.New(ctx, console.Deps{
			Admin: adm, Store: cached, Path: cfg.ConsolePath, Now: now, Log: log,
			// On an address of its own the console is reached without the
			// public URL's https (an internal network): no Secure then.
			Secure:      strings.HasPrefix(cfg.PublicBase(), "https://") && cfg.ConsoleAddr == "",
			IdleTimeout: time.Duration(cfg.ConsoleIdleTimeout), Lifetime: time.Duration(cfg.ConsoleLifetime),
			ClientIP: httpapi.ClientIPFunc(apiDeps),
		})
		if err != nil {
			st.Close()
			return nil, err
		}
		if cfg.ConsoleAddr == "" {
			for _, p := range cons.Patterns() {
				mounts = append(mounts, httpapi.Mount{Pattern: p, Handler: cons.Handler()})
			}
		} else {
			consoleOwn = cons.Handler()
		}
	}
	apiDeps.Mounts = mounts
	apiDeps.SocialHosted = provider.FinishSocial
	api := httpapi.New(apiDeps)
	return &Server{
		cfg: cfg, store: st, cache: cached, tokens: tokens, auth: svc, handler: api.Handler(), log: log, now: now, poolID: pool.ID,
		admin: adm, pipelines: runner, dispatcher: dispatcher, courier: couriers,
		metrics: met, draining: draining, console: cons, consoleOwn: consoleOwn,
	}, nil
}

// EnsureAdminKey generates the administrator key when none is configured
// or stored, and returns it when this call stored it ("" otherwise). Only
// its hash is kept, so the caller must show it at once: call it when
// nothing can fail before the key is shown, i.e. once the listener is
// bound. A key generated by a start that then failed to listen would be
// lost; generated here, a failed start stores none and the next one shows
// its key. The key itself is never logged.
func (s *Server) EnsureAdminKey(ctx context.Context) (string, error) {
	key, err := s.admin.GenerateKeyIfNone(ctx)
	if err != nil {
		return "", fmt.Errorf("administrator key: %w", err)
	}
	if key != "" {
		s.log.Warn("administrator key generated; it is shown once on standard output and stored only as a hash (lost: authpool admin reset-key)")
	}
	return key, nil
}

// Pipelines is the pipeline runner (the admin API's test runs use it).
func (s *Server) Pipelines() *pipeline.Runner { return s.pipelines }

// WebhookWorker names this server's webhook dispatcher in claims and
// delivery attempts.
func (s *Server) WebhookWorker() string { return s.dispatcher.ID() }

// SettleMessages waits until no queued message is due: every code asked
// for so far was sent, dropped or given up (or waits for a later retry).
// Tests read the console sender's lines after it.
func (s *Server) SettleMessages(ctx context.Context) error { return s.courier.Settle(ctx) }

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Admin is the administration use cases the server runs (its
// VerifyAppSecret authenticates OAuth clients).
func (s *Server) Admin() *admin.Service { return s.admin }

// DefaultPoolID is the id of the default user pool.
func (s *Server) DefaultPoolID() string { return s.poolID }

// Cache exposes the caches in front of the store, for tests and
// benchmarks (their hit counts).
func (s *Server) Cache() *storecache.Store { return s.cache }

// Store exposes the store for migration commands and tests.
func (s *Server) Store() *sqlstore.Store { return s.store }

// Serve serves on ln until ctx ends, then shuts down gracefully (see
// shutdown) and closes the store. With AUTHPOOL_METRICS_ADDR set it also
// serves /metrics there, without the administrator key.
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
	var ms *http.Server
	if s.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			s.store.Close()
			return fmt.Errorf("cannot listen on %s (AUTHPOOL_METRICS_ADDR): %w", s.cfg.MetricsAddr, err)
		}
		ms = s.metricsServer()
		go func() {
			if err := ms.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("metrics listener stopped", slog.String("error", err.Error()))
			}
		}()
		s.log.Info("metrics served", slog.String("addr", mln.Addr().String()))
	}
	var cs *http.Server
	if s.consoleOwn != nil {
		cln, err := net.Listen("tcp", s.cfg.ConsoleAddr)
		if err != nil {
			s.store.Close()
			return fmt.Errorf("cannot listen on %s (AUTHPOOL_CONSOLE_ADDR): %w", s.cfg.ConsoleAddr, err)
		}
		cs = &http.Server{
			Handler: s.consoleOwn, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		go func() {
			if err := cs.Serve(cln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("console listener stopped", slog.String("error", err.Error()))
			}
		}()
		s.log.Info("console served", slog.String("addr", cln.Addr().String()), slog.String("path", s.cfg.ConsolePath))
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	go s.janitor(ctx)
	// The change feed keeps the caches honest (internal/storecache); it
	// stops before Serve returns.
	fctx, stopFeed := context.WithCancel(ctx)
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		s.store.WatchChanges(fctx, s.cache)
	}()
	defer func() {
		stopFeed()
		<-feedDone
	}()
	go s.keyKeeper(ctx)
	// The webhook workers stop claiming when ctx ends; Serve waits for the
	// attempts in flight so that their results are recorded before the
	// store closes. What is not delivered stays in the outbox for the next
	// start (or another replica).
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	workersDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		// The code queue's workers drain the same way: messages not sent
		// stay queued for the next start or another replica.
		var wg sync.WaitGroup
		wg.Go(func() { s.courier.Run(wctx) })
		s.dispatcher.Run(wctx)
		wg.Wait()
	}()
	var err error
	select {
	case err = <-errc:
		stopWorkers()
		s.draining.Store(true)
	case <-ctx.Done():
		err = s.shutdown(hs, errc)
	}
	if ms != nil {
		mctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ms.Shutdown(mctx)
		cancel()
	}
	if cs != nil {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cs.Shutdown(cctx)
		cancel()
	}
	wait, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	select {
	case <-workersDone:
	case <-wait.Done():
		s.log.Warn("webhook or message attempts still in flight at shutdown; they will be retried")
	}
	return errors.Join(err, s.store.Close())
}

// shutdown is the graceful end of Serve, once its context has ended:
// readiness turns false and new requests are refused with 503 and
// Retry-After at once (httpapi/drain.go), the listener closes, requests in
// flight finish (bounded by AUTHPOOL_SHUTDOWN_TIMEOUT), and then the
// rate-limit hits counted in memory are written to the store. The
// caller then waits for the background workers and closes the store.
func (s *Server) shutdown(hs *http.Server, errc <-chan error) error {
	s.draining.Store(true)
	s.log.Info("shutting down: refusing new requests, finishing those in flight",
		slog.Duration("timeout", time.Duration(s.cfg.ShutdownTimeout)))
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		s.log.Warn("requests still in flight at the shutdown timeout were cut off", slog.String("error", err.Error()))
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	// Its own bound: when the requests took the whole timeout, the
	// counters are still worth writing.
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer fcancel()
	n, ferr := s.auth.FlushCounters(fctx)
	if ferr != nil {
		s.log.Warn("rate-limit counters not flushed at shutdown", slog.String("error", ferr.Error()))
	} else if n > 0 {
		s.log.Info("rate-limit counters flushed", slog.Int64("hits", n))
	}
	return err
}

// metricsServer serves GET /metrics alone, for AUTHPOOL_METRICS_ADDR.
func (s *Server) metricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	return &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Draining reports whether the server has begun to shut down.
func (s *Server) Draining() bool { return s.draining.Load() }

// Metrics is the server's series.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// janitor deletes expired short-lived rows (counters, CAPTCHAs, codes)
// and audit events past their retention every few minutes, so that tables
// of per-IP counters do not grow without bound. Every replica runs one; the
// deletes are idempotent.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Purge(ctx)
		}
	}
}

// keyKeeper keeps the signing keys current every token.RefreshInterval:
// it rereads them (so an idle replica publishes a key another rotated in
// within that bound), rotates when automatic rotation is due, and retires
// keys whose tokens have expired. Every replica runs one; the store makes
// simultaneous rounds safe (one rotation stored).
func (s *Server) keyKeeper(ctx context.Context) {
	t := time.NewTicker(token.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.MaintainKeys(ctx)
		}
	}
}

// MaintainKeys runs one round of the key keeper.
func (s *Server) MaintainKeys(ctx context.Context) {
	rotated, err := s.tokens.Maintain(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("signing key upkeep failed", slog.String("error", err.Error()))
	}
	if rotated {
		s.log.Info("signing key rotated automatically; the new key signs after the lead time",
			slog.Duration("leadTime", time.Duration(s.cfg.SigningKeyLeadTime)))
	}
}

// codeSecretName is the store's name for the generated HMAC key of codes.
const codeSecretName = "code_hmac"

// codeDelivery builds what the use cases need to send and check codes:
// the configured senders, the templates, and the code secret, which is
// the configured one or else one generated at first start and kept in the
// store, so that every replica checks codes any replica sent.
func codeDelivery(ctx context.Context, cfg config.Config, st *sqlstore.Store, log *slog.Logger, now func() time.Time, defaultPool *atomic.Pointer[string]) (auth.Config, error) {
	var c auth.Config
	var err error
	if c.Templates, err = notify.LoadTemplates(cfg.TemplateDir); err != nil {
		return c, err
	}
	console := notify.Console{Log: log}
	switch cfg.Mailer {
	case "smtp":
		smtpCfg := cfg.SMTP()
		smtpCfg.Now = now
		if c.Mailer, err = notify.NewSMTPMailer(smtpCfg); err != nil {
			return c, err
		}
	default:
		c.Mailer = console
	}
	switch cfg.SMS {
	case "http":
		c.SMS, err = notify.NewHTTPSMS(notify.HTTPSMSConfig{URL: cfg.SMSHTTPURL, Secret: cfg.SMSHTTPSecret, Now: now})
	case "twilio":
		c.SMS, err = notify.NewTwilio(cfg.TwilioConfig())
	default:
		c.SMS = console
	}
	if err != nil {
		return c, err
	}
	if cfg.Mailer == "console" || cfg.SMS == "console" {
		log.Warn("console senders are on: verification codes are written to this log instead of being delivered (development only)",
			slog.String("mailer", cfg.Mailer), slog.String("sms", cfg.SMS))
	}
	c.CodeSecret = []byte(cfg.CodeSecret)
	if len(c.CodeSecret) == 0 {
		if c.CodeSecret, err = serverKey(ctx, cfg, st, codeSecretName); err != nil {
			return c, err
		}
	}
	if c.CaptchaKey, err = serverKey(ctx, cfg, st, captchaSecretName); err != nil {
		return c, err
	}
	// Queued messages carry their codes: sealed under a key of their own.
	sealKey, err := serverKey(ctx, cfg, st, messageSecretName)
	if err != nil {
		return c, err
	}
	if c.Sealer, err = courier.NewSealer(sealKey); err != nil {
		return c, err
	}
	// Second factors: TOTP secrets sealed, tokens and recovery codes
	// hashed, each under a key of its own.
	if c.MFAKey, err = serverKey(ctx, cfg, st, mfaSecretName); err != nil {
		return c, err
	}
	mfaSeal, err := serverKey(ctx, cfg, st, mfaSealName)
	if err != nil {
		return c, err
	}
	if c.MFASealer, err = courier.NewSealer(mfaSeal); err != nil {
		return c, err
	}
	if c.WebAuthn, err = relyingParty(cfg, log); err != nil {
		return c, err
	}
	// Social sign-in: connector secrets and sign-in states sealed, the
	// states' keys hashed, each under a key of its own.
	if c.SocialKey, err = serverKey(ctx, cfg, st, socialSecretName); err != nil {
		return c, err
	}
	socialSeal, err := serverKey(ctx, cfg, st, socialSealName)
	if err != nil {
		return c, err
	}
	if c.SocialSealer, err = courier.NewSealer(socialSeal); err != nil {
		return c, err
	}
	c.Connectors = connector.NewRegistry(nil, now)
	c.SocialCallbackURL = cfg.PublicBase() + httpapi.SocialCallbackPath
	c.PhoneRegion = cfg.PhoneDefaultRegion
	base := cfg.PublicBase()
	// The link opens the pool's hosted verification page (docs/PAGES.md).
	c.VerifyEmailLink = func(poolID, email, code string) string {
		d := defaultPool.Load()
		return oidc.VerifyEmailLink(base, poolID, d != nil && *d == poolID, email, code)
	}
	return c, nil
}

// Purge runs one round of the janitor's deletes.
func (s *Server) Purge(ctx context.Context) {
	now := s.now()
	if _, err := s.store.PurgeExpired(ctx, now); err != nil && ctx.Err() == nil {
		s.log.Warn("purging expired rows failed", slog.String("error", err.Error()))
	}
	if s.console != nil {
		if _, err := s.console.Purge(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("purging ended console sessions failed", slog.String("error", err.Error()))
		}
	}
	if r := time.Duration(s.cfg.AuditRetention); r > 0 {
		if _, err := s.store.PurgeAudit(ctx, now.Add(-r)); err != nil && ctx.Err() == nil {
			s.log.Warn("purging old audit events failed", slog.String("error", err.Error()))
		}
	}
}

// messageSecretName is the store's name for the generated AES-256 key
// that seals queued messages.
const messageSecretName = "message_aead"

// mfaSecretName and mfaSealName are the store's names for the generated
// HMAC key of MFA tokens and recovery codes and the AES-256 key of TOTP
// secrets.
const (
	mfaSecretName = "mfa_hmac"
	mfaSealName   = "mfa_aead"
)

// socialSecretName and socialSealName are the store's names for the
// generated HMAC key of social sign-in states and the AES-256 key that
// seals them and the connectors' client secrets.
const (
	socialSecretName = "social_hmac"
	socialSealName   = "social_aead"
)

// captchaSecretName is the store's name for the generated HMAC key of
// CAPTCHA answers.
const captchaSecretName = "captcha_hmac"

// serverKey is the HMAC key for one purpose (codes, CAPTCHA answers). With
// AUTHPOOL_SECRET set (kept outside the database, the same on every
// replica) it is derived from it per purpose; otherwise a random key is
// generated at first start and kept in the store, so replicas agree on it.
// Either way a leak of one purpose's key does not give the other's.
func serverKey(ctx context.Context, cfg config.Config, st *sqlstore.Store, name string) ([]byte, error) {
	if cfg.Secret != "" {
		mac := hmac.New(sha256.New, []byte(cfg.Secret))
		mac.Write([]byte("authpool " + name + " v1"))
		return mac.Sum(nil), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	return st.EnsureServerSecret(ctx, name, fresh)
}

func limits(cfg config.Config) auth.Limits {
	l := func(r config.Rate) auth.Limit { return auth.Limit{Max: r.Max, Window: r.Window} }
	return auth.Limits{
		Register: l(cfg.RateLimitRegister), Login: l(cfg.RateLimitLogin),
		Captcha: l(cfg.RateLimitCaptcha), TokenCheck: l(cfg.RateLimitTokenCheck),
		GraphQL: l(cfg.RateLimitGraphQL),
	}
}
