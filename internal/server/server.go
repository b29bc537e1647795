// Package server assembles a running authpool from a Config: it opens the
// store, loads the signing keys, builds the use cases and the transports,
// and serves them until its context ends. cmd/authpool and the end-to-end
// tests both start the program through it, so tests run the real thing.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/authingcompat"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/password"
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
	codes, err := codeDelivery(ctx, cfg, st, log, now)
	if err != nil {
		st.Close()
		return nil, err
	}
	codes.Issuer = cfg.Issuer
	svc := auth.New(st, tokens, hasher, codes, now, log)
	pool, err := svc.EnsureDefaultPool(ctx, cfg.DefaultPoolID, cfg.InitialPoolSettings())
	if err != nil {
		st.Close()
		return nil, err
	}
	trusted, _ := cfg.TrustedPrefixes() // validated above
	compat, err := authingcompat.New(ctx, authingcompat.Deps{
		Auth: svc, Keys: st, Log: log, TrustedProxies: trusted, CORSOrigins: cfg.CORSOrigins, Now: now,
		// Codes (issue 3), Captcha (issue 4) and Data (issue 5) are wired
		// here once their use cases exist; until then their operations
		// answer "not implemented in this build".
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	var mounts []httpapi.Mount
	for _, p := range compat.Mounts() {
		mounts = append(mounts, httpapi.Mount{Pattern: p, Handler: compat.Handler()})
	}
	api := httpapi.New(httpapi.Deps{
		Auth: svc, JWKS: tokens.JWKS, Ready: st.Ping, Log: log, TrustedProxies: trusted, Mounts: mounts,
	})
	return &Server{cfg: cfg, store: st, tokens: tokens, auth: svc, handler: api.Handler(), log: log, now: now, poolID: pool.ID}, nil
}

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
	select {
	case err := <-errc:
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

// codeSecretName is the store's name for the generated HMAC key of codes.
const codeSecretName = "code_hmac"

// codeDelivery builds what the use cases need to send and check codes:
// the configured senders, the templates, and the code secret, which is
// the configured one or else one generated at first start and kept in the
// store, so that every replica checks codes any replica sent.
func codeDelivery(ctx context.Context, cfg config.Config, st *sqlstore.Store, log *slog.Logger, now func() time.Time) (auth.Config, error) {
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
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return c, err
		}
		if c.CodeSecret, err = st.EnsureServerSecret(ctx, codeSecretName, fresh); err != nil {
			return c, err
		}
	}
	c.PhoneRegion = cfg.PhoneDefaultRegion
	base := cfg.PublicBase()
	c.VerifyEmailLink = func(poolID, email, code string) string {
		return httpapi.VerifyEmailLink(base, poolID, email, code)
	}
	return c, nil
}
