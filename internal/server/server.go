// Package server assembles a running authpool from a Config: it opens the
// store, loads the signing keys, builds the use cases and the transports,
// and serves them until its context ends. cmd/authpool and the end-to-end
// tests both start the program through it, so tests run the real thing.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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
	"github.com/authpool/authpool/internal/sqlstore"
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
	svc := auth.New(st, tokens, hasher, auth.Config{
		Issuer:           cfg.Issuer,
		CaptchaKey:       captchaKey(cfg, tokens),
		Limits:           limits(cfg),
		NewCaptchaAnswer: opts.NewCaptchaAnswer,
	}, now, log)
	pool, err := svc.EnsureDefaultPool(ctx, cfg.DefaultPoolID, cfg.InitialPoolSettings())
	if err != nil {
		st.Close()
		return nil, err
	}
	trusted, _ := cfg.TrustedPrefixes() // validated above
	apps, _ := cfg.AppSecretHashes()    // validated above
	api := httpapi.New(httpapi.Deps{
		Auth: svc, JWKS: tokens.JWKS, Ready: st.Ping, Log: log, TrustedProxies: trusted, AppSecrets: apps,
		ForwardedHeader: cfg.ForwardedHeaderName(),
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

// Purge runs one round of the janitor's deletes.
func (s *Server) Purge(ctx context.Context) {
	now := s.now()
	if _, err := s.store.PurgeExpired(ctx, now); err != nil && ctx.Err() == nil {
		s.log.Warn("purging expired rows failed", slog.String("error", err.Error()))
	}
	if r := time.Duration(s.cfg.AuditRetention); r > 0 {
		if _, err := s.store.PurgeAudit(ctx, now.Add(-r)); err != nil && ctx.Err() == nil {
			s.log.Warn("purging old audit events failed", slog.String("error", err.Error()))
		}
	}
}

// captchaKey is the HMAC key of stored CAPTCHA answers: from the
// configured secret when there is one (kept outside the database), else
// derived from the signing key every replica loads from the store.
func captchaKey(cfg config.Config, tokens *token.Manager) []byte {
	const purpose = "captcha answers v1"
	if cfg.Secret == "" {
		return tokens.DeriveKey(purpose)
	}
	mac := hmac.New(sha256.New, []byte(cfg.Secret))
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

func limits(cfg config.Config) auth.Limits {
	l := func(r config.Rate) auth.Limit { return auth.Limit{Max: r.Max, Window: r.Window} }
	return auth.Limits{
		Register: l(cfg.RateLimitRegister), Login: l(cfg.RateLimitLogin),
		Captcha: l(cfg.RateLimitCaptcha), TokenCheck: l(cfg.RateLimitTokenCheck),
	}
}
