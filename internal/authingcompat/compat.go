// Package authingcompat serves the wire protocol of Authing's v4-generation
// SDKs (authing-js-sdk 4.x, the Python authing 4.x and their kin), so that
// an application moves from Authing's hosted service to authpool by
// changing only the SDK's host. It is a second transport beside
// internal/httpapi over the same auth use cases: it decodes Authing's
// GraphQL and REST requests, calls auth, and encodes Authing's answers.
// No policy lives here; what is Authing-specific is the wire: the GraphQL
// schema and its type names, RSA-encrypted passwords, error objects in
// HTTP 200 answers, message language, CORS for browsers.
//
// routes.go lists the surface; docs/AUTHING.md describes it.
package authingcompat

import (
	"context"
	"crypto/rsa"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// Core is what the transport needs from the use cases that exist in this
// build; *auth.Service satisfies it.
type Core interface {
	RegisterByEmail(ctx context.Context, m auth.Meta, email, pw string, profile userpool.Profile, opts auth.RegisterOptions) (*auth.Result, error)
	RegisterByUsername(ctx context.Context, m auth.Meta, username, pw string, profile userpool.Profile, opts auth.RegisterOptions) (*auth.Result, error)
	LoginByEmail(ctx context.Context, m auth.Meta, email, pw string, opts auth.LoginOptions) (*auth.Result, error)
	LoginByUsername(ctx context.Context, m auth.Meta, username, pw string, opts auth.LoginOptions) (*auth.Result, error)
	CheckLoginStatus(ctx context.Context, m auth.Meta, tok string) (*auth.LoginStatus, error)
	GetCurrentUser(ctx context.Context, m auth.Meta, tok string) (*auth.Result, error)
	UpdateProfile(ctx context.Context, m auth.Meta, tok string, up auth.ProfileUpdate) (*auth.Result, error)
	UpdatePasswordKeepSession(ctx context.Context, m auth.Meta, tok, newPw, oldPw string) (*auth.Result, error)
	RefreshToken(ctx context.Context, m auth.Meta, tok string) (*auth.Result, error)
	Logout(ctx context.Context, m auth.Meta, tok string) error
	CurrentPool(ctx context.Context, m auth.Meta) (*userpool.Pool, error)
	// ListIdentities lists the bearer's upstream identities.
	ListIdentities(ctx context.Context, m auth.Meta, tok string) ([]*userpool.Identity, error)
	// LimitGraphQL counts a GraphQL document against the caller's
	// address's limit before it is parsed and run.
	LimitGraphQL(ctx context.Context, m auth.Meta) error
}

// Codes are the one-time-code use cases: SMS and email codes, phone
// accounts, password reset, changing phone and email; *auth.Service
// satisfies it. Phone country codes and Authing's scene names are wire
// matters, settled in codes.go before these are called.
type Codes interface {
	SendSmsCode(ctx context.Context, m auth.Meta, phone string) error
	SendEmail(ctx context.Context, m auth.Meta, email, scene string) error
	RegisterByPhoneCode(ctx context.Context, m auth.Meta, phone, code, pw string, profile userpool.Profile, opts auth.RegisterOptions) (*auth.Result, error)
	LoginByPhoneCode(ctx context.Context, m auth.Meta, phone, code string, opts auth.LoginOptions) (*auth.Result, error)
	LoginByPhonePassword(ctx context.Context, m auth.Meta, phone, pw string, opts auth.LoginOptions) (*auth.Result, error)
	ResetPasswordByPhoneCode(ctx context.Context, m auth.Meta, phone, code, newPw string) error
	ResetPasswordByEmailCode(ctx context.Context, m auth.Meta, email, code, newPw string) error
	UpdatePhone(ctx context.Context, m auth.Meta, tok, phone, code, oldPhone, oldCode string) (*auth.Result, error)
	UpdateEmail(ctx context.Context, m auth.Meta, tok, email, code, oldEmail, oldCode string) (*auth.Result, error)
	BindPhone(ctx context.Context, m auth.Meta, tok, phone, code string) (*auth.Result, error)
	UnbindPhone(ctx context.Context, m auth.Meta, tok string) (*auth.Result, error)
	BindEmail(ctx context.Context, m auth.Meta, tok, email, code string) (*auth.Result, error)
	UnbindEmail(ctx context.Context, m auth.Meta, tok string) (*auth.Result, error)
}

// Captchas makes CAPTCHA images for browser login pages; *auth.Service
// satisfies it.
type Captchas interface {
	NewCaptcha(ctx context.Context, m auth.Meta) (*auth.Captcha, error)
}

// UserData are the caller's user-defined values; *auth.Service satisfies
// it. Their wire encoding (JSON text) is udv.go's.
type UserData interface {
	ListUdv(ctx context.Context, m auth.Meta, tok string) ([]auth.UDV, error)
	SetUdv(ctx context.Context, m auth.Meta, tok, key string, raw json.RawMessage) ([]auth.UDV, error)
	RemoveUdv(ctx context.Context, m auth.Meta, tok, key string) ([]auth.UDV, error)
}

// KeyStore keeps the RSA key pair with which clients encrypt passwords;
// userpool.Store satisfies it.
type KeyStore interface {
	GetTransportKey(ctx context.Context, purpose string) (*userpool.TransportKey, error)
	EnsureTransportKey(ctx context.Context, k *userpool.TransportKey) (*userpool.TransportKey, error)
}

// Deps are what the transport needs from the rest of the program; every
// member but CORSOrigins and Now is required. internal/server passes the
// one *auth.Service as Auth, Codes, Captcha and Data.
type Deps struct {
	Auth    Core
	Codes   Codes
	Captcha Captchas
	Data    UserData
	// MFA serves the second-factor routes (mfa.go); nil answers them
	// mfa_unsupported.
	MFA  MFA
	Keys KeyStore
	Log  *slog.Logger
	// ClientIP computes the caller's address as the native API does
	// (httpapi.ClientIPFunc): trusted proxies, forwarding header, app secrets.
	ClientIP func(r *http.Request, claimed string) string
	// CORSOrigins are the browser origins allowed to call with credentials,
	// as "scheme://host[:port]".
	CORSOrigins []string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the Authing-compatible transport.
type Server struct {
	Deps
	schema    *graphql.Schema
	key       *rsa.PrivateKey
	publicPEM string
	origins   map[string]bool
	mux       *http.ServeMux
	answers   *answerCache // of introspection-only documents (limits.go)
}

//go:embed schema.graphql
var schemaSDL string

// Limits of one GraphQL request. The SDKs' documents are under 3 KiB, at
// most 3 levels deep and have one root field; a standard introspection
// query is under 2 KiB and at most 14 levels deep (__Type.ofType chains).
// The limits on work and answer size are in limits.go.
const (
	maxBodyBytes      = 64 << 10
	maxQueryBytes     = 16 << 10
	maxDepth          = 15
	maxOverlapChecks  = 10000
	maxRootFieldCalls = 1 // business root fields per request: no alias batching of logins
)

// New loads (or, on first start, creates and stores) the password key and
// builds the transport.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Auth == nil || d.Codes == nil || d.Captcha == nil || d.Data == nil || d.Keys == nil || d.ClientIP == nil {
		return nil, errors.New("authingcompat: Deps.Auth, Codes, Captcha, Data, Keys and ClientIP are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	key, err := loadKey(ctx, d.Keys, d.Now)
	if err != nil {
		return nil, err
	}
	pub, err := publicPEM(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, key: key, publicPEM: pub, origins: map[string]bool{}, answers: newAnswerCache(introspectionCache)}
	for _, o := range d.CORSOrigins {
		s.origins[o] = true
	}
	s.schema, err = graphql.ParseSchema(schemaSDL, &resolver{s: s},
		graphql.UseStringDescriptions(),
		graphql.UseFieldResolvers(),
		graphql.MaxQueryLength(maxQueryBytes),
		graphql.MaxDepth(maxDepth),
		graphql.MaxSelections(maxSelections),
		graphql.OverlapValidationLimit(maxOverlapChecks),
		graphql.MaxParallelism(4),
		graphql.Tracer(fieldBudget{}),
		graphql.Logger(panicLogger{d.Log}),
		graphql.PanicHandler(panicHandler{}),
	)
	if err != nil {
		return nil, fmt.Errorf("authingcompat: schema: %w", err)
	}
	s.mux = http.NewServeMux()
	known := map[string]bool{}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, rt.Handle)
		known[rt.Path] = true
	}
	// Every other method or path under the mounts gets a coded HTTP 200
	// answer, as Authing's SDKs read nothing else.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e := errNoRoute
		if known[r.URL.Path] {
			e = errMethod
		}
		if r.URL.Path == graphqlPath {
			s.writeGraphQLErrors(w, r, []wireError{s.wire(r, e, nil)})
			return
		}
		s.writeREST(w, r, nil, e)
	})
	return s, nil
}

// Mounts are the ServeMux patterns under which internal/server mounts the
// transport beside the native API.
func (s *Server) Mounts() []string { return []string{graphqlPath, "/api/v2/", getIdentitiesPath} }

// Handler serves every route of routes.go, with CORS.
func (s *Server) Handler() http.Handler { return s.cors(s.mux) }

type panicLogger struct{ log *slog.Logger }

// LogPanic logs a resolver panic. The engine's default logger would print
// the request context; this one prints only the value.
func (l panicLogger) LogPanic(ctx context.Context, value any) {
	l.log.LogAttrs(ctx, slog.LevelError, "graphql resolver panic", slog.String("panic", fmt.Sprint(value)))
}
