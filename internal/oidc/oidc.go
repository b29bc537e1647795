// Package oidc is authpool's OpenID Connect provider: the protocol comes
// from github.com/zitadel/oidc/v3's op package; this package gives it
// storage (op.Storage over userpool.Store), clients (the pool's apps), the
// signing keys (token.Manager, the same set as the native tokens), and the
// login step: the hosted sign-in and consent pages, which call the same
// login use cases (internal/auth) as the API.
//
// Each pool is its own issuer: the default pool at {publicUrl}/oidc with
// Authing's paths, every other pool at {publicUrl}/oidc/pools/{poolId}.
package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Prefix is the default pool's issuer path; PoolsPrefix+{poolId} is
// another pool's.
const (
	Prefix      = "/oidc"
	PoolsPrefix = "/oidc/pools/"
)

// Lifetimes the provider fixes.
const (
	// CodeTTL bounds an authorization code's life (at most 60 s).
	CodeTTL = 60 * time.Second
	// RequestTTL bounds the sign-in of one authorization request.
	RequestTTL = 30 * time.Minute
	// longestToken is the longest life of a token the provider signs (an
	// app's access or ID token lifetime is at most 24h): signing keys are
	// asked for with it, so that a key is not retired before its tokens
	// expire.
	longestToken = 24 * time.Hour
)

// Deps are what the provider uses.
type Deps struct {
	Auth   *auth.Service
	Admin  *admin.Service
	Store  userpool.Store
	Tokens *token.Manager
	// PublicBase is the server's public URL without a trailing slash.
	PublicBase string
	Now        func() time.Time
	Log        *slog.Logger
	// ClientIP is the caller's address as the native API sees it (trusted
	// proxies applied).
	ClientIP func(r *http.Request, claimed string) string
	// TemplatesDir replaces the pages' templates and adds a custom.css
	// (web.NewRendererDir); "" for the built-in ones.
	TemplatesDir string
}

// Service serves every pool's provider and the hosted pages.
type Service struct {
	d      Deps
	secret []byte
	pages  *web.Renderer
	csrf   web.CSRF
	secure bool

	mu        sync.Mutex
	providers map[string]*poolOP
}

type poolOP struct {
	poolID, prefix, issuer string
	handler                http.Handler
	provider               *op.Provider
	store                  *storage
}

// New builds the provider. The server secret (shared by replicas through
// the store) keys the codes' and refresh tokens' MACs, the CSRF tokens and
// op's own encryption key.
func New(ctx context.Context, d Deps) (*Service, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	secret, err := d.Store.EnsureServerSecret(ctx, "oidc", fresh)
	if err != nil {
		return nil, fmt.Errorf("oidc: server secret: %w", err)
	}
	pages, err := web.NewRendererDir(d.Log, d.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("oidc: templates: %w", err)
	}
	secure := strings.HasPrefix(d.PublicBase, "https://")
	return &Service{
		d: d, secret: secret, pages: pages, secure: secure,
		csrf:      web.CSRF{Secret: derive(secret, "csrf"), Secure: secure},
		providers: map[string]*poolOP{},
	}, nil
}

// derive is a purpose-bound key from the server secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("authpool-oidc\x00" + purpose))
	return m.Sum(nil)
}

// Patterns are the ServeMux patterns the provider serves (every method).
func (s *Service) Patterns() []string {
	return []string{Prefix + "/", "/.well-known/openid-configuration", web.StaticPrefix}
}

// Handler serves the patterns.
func (s *Service) Handler() http.Handler {
	static := s.pages.Static()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case strings.HasPrefix(path, web.StaticPrefix):
			static.ServeHTTP(w, r)
			return
		case path == "/.well-known/openid-configuration":
			p, err := s.provider(r.Context(), "")
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p.discovery(w, r)
			return
		}
		poolID, prefix := "", Prefix
		if rest, ok := strings.CutPrefix(path, PoolsPrefix); ok {
			id, _, _ := strings.Cut(rest, "/")
			poolID, prefix = id, PoolsPrefix+id
		}
		p, err := s.provider(r.Context(), poolID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sub := strings.TrimPrefix(path, prefix)
		if sub == "" {
			sub = "/"
		}
		if s.page(w, r, p, sub) {
			return
		}
		if sub == "/.well-known/openid-configuration" {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = sub, ""
			p.discovery(w, r2)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = sub, ""
		if sub == "/token/introspection" && !secretPostToBasic(w, r2) {
			return
		}
		p.handler.ServeHTTP(w, r2)
	})
}

// maxTokenForm bounds the form of an introspection request read here.
const maxTokenForm = 64 << 10

// secretPostToBasic lets introspection take client_secret_post, as the
// token and revocation endpoints do and discovery says: op's introspection
// reads only HTTP Basic (or a JWT assertion), while Authing's SDK
// authenticates there with client_id and client_secret in the body by
// default. The body's credentials become the Basic header op reads (the
// credentials are still checked by op, in constant time, by the store);
// a request with both a header and body credentials is left to op. It
// reports false when it answered the request itself (an unreadable form).
func secretPostToBasic(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"cannot parse form"}`))
		return false
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id != "" && secret != "" {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return true
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoSuchPool) {
		http.NotFound(w, r)
		return
	}
	s.d.Log.ErrorContext(r.Context(), "oidc provider", slog.Any("error", err))
	http.Error(w, "internal error", http.StatusInternalServerError)
}

var errNoSuchPool = errors.New("oidc: no such pool")

// provider returns the pool's provider ("" is the default pool), building
// it on first use. The default pool is reachable only at /oidc, so that
// each pool has one issuer.
func (s *Service) provider(ctx context.Context, poolID string) (*poolOP, error) {
	var pool *userpool.Pool
	var err error
	if poolID == "" {
		pool, err = s.d.Auth.Pool(ctx, "")
	} else {
		if len(poolID) > 64 {
			return nil, errNoSuchPool
		}
		pool, err = s.d.Store.GetPool(ctx, poolID)
		if err == nil && pool.IsDefault {
			return nil, errNoSuchPool
		}
	}
	if errors.Is(err, userpool.ErrPoolNotFound) || userpool.AsError(err).Code == userpool.CodeUnknownUserPool {
		return nil, errNoSuchPool
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.providers[pool.ID]; ok {
		return p, nil
	}
	prefix := Prefix
	if !pool.IsDefault {
		prefix = PoolsPrefix + pool.ID
	}
	p := &poolOP{poolID: pool.ID, prefix: prefix, issuer: s.d.PublicBase + prefix}
	p.store = &storage{s: s, poolID: pool.ID, prefix: prefix}
	var key [32]byte
	copy(key[:], derive(s.secret, "op-crypto"))
	cfg := &op.Config{
		CryptoKey:                key,
		DefaultLogoutRedirectURI: prefix + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English, language.SimplifiedChinese},
		SupportedScopes:          []string{"openid", "profile", "email", "phone", "address", "offline_access"},
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint("auth")),
		op.WithCustomTokenEndpoint(op.NewEndpoint("token")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("token/introspection")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("token/revocation")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("me")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("session/end")),
		op.WithCustomKeysEndpoint(op.NewEndpoint(".well-known/jwks.json")),
		op.WithLogger(s.d.Log),
	}
	if !s.secure {
		opts = append(opts, op.WithAllowInsecure())
	}
	prov, err := op.NewProvider(cfg, p.store, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider for pool %s: %w", pool.ID, err)
	}
	p.provider = prov
	p.handler = withRequest(prov)
	s.providers[pool.ID] = p
	return p, nil
}

// discovery serves op's metadata with what authpool really offers: op
// lists grants and response types that every op client could be given
// (implicit, the JWT bearer grant), while authpool's clients never get
// them.
func (p *poolOP) discovery(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/.well-known/openid-configuration", ""
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, r2)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token", "client_credentials"}
	doc["response_types_supported"] = []string{"code"}
	doc["response_modes_supported"] = []string{"query"}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	delete(doc, "request_object_signing_alg_values_supported")
	doc["request_uri_parameter_supported"] = false
	doc["acr_values_supported"] = []string{ACRMFA, ACRPAPEMultiFactor}
	b, _ := json.Marshal(doc) // decoded JSON encodes
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(b)
}

type requestKey struct{}

// withRequest keeps the request in its context, for the storage methods
// that need the browser's cookie (RP-initiated logout).
func withRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, r)))
	})
}

func requestFrom(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// callbackURL is op's callback that issues the code once the sign-in is
// done.
func (p *poolOP) callbackURL(ctx context.Context, id string) string {
	return p.prefix + "/auth/callback?id=" + url.QueryEscape(id)
}
