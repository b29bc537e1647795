// Package httpapi is authpool's native REST transport. routes.go lists the
// whole surface; every handler decodes, calls an auth use case and encodes,
// or returns an error that one adapter (errors.go) turns into a response.
// This is the only package that knows HTTP statuses.
package httpapi

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/metrics"
)

// Deps are what the transport needs from the rest of the program.
type Deps struct {
	Auth *auth.Service
	// Admin serves the administration API (routes under /api/v1/admin/).
	Admin *admin.Service
	// JWKS returns the public signing keys as a JWKS document.
	JWKS func(context.Context) []byte
	// Ready reports whether the store is reachable.
	Ready func(ctx context.Context) error
	Log   *slog.Logger
	// TrustedProxies may set the client address (forwarding header,
	// clientIp); see clientip.go.
	TrustedProxies []netip.Prefix
	// ForwardedHeader is the header the trusted proxies write:
	// HeaderXForwardedFor ("" means it too) or HeaderForwarded. The other
	// is ignored, since a client can send either.
	ForwardedHeader string
	// AppSecrets maps app ids to the SHA-256 of their server-side secret.
	AppSecrets map[string][sha256.Size]byte
	// Metrics records every request (nil: none) and serves GET /metrics
	// behind the administrator key.
	Metrics *metrics.Metrics
	// Draining reports that the server is shutting down (nil: never):
	// readiness answers 503 and new requests are refused with 503 and
	// Retry-After, except the probes and /metrics (see drain.go).
	Draining func() bool
	// PublicBase is the server's public URL without a trailing slash
	// (connectors' callback URL).
	PublicBase string
	// SocialHosted ends a social sign-in that started on the hosted
	// sign-in page (the OpenID provider's; nil: none).
	SocialHosted func(w http.ResponseWriter, r *http.Request, out *auth.SocialOutcome)
	// Mounts are other transports served beside the native API (the
	// Authing-compatible one), sharing its request log, request ids and
	// panic recovery. Their routes are theirs to list and document.
	Mounts []Mount
}

// Mount is a handler served for a ServeMux pattern, every method.
type Mount struct {
	Pattern string
	Handler http.Handler
}

// Server is the native HTTP API.
type Server struct {
	Deps
	mux *http.ServeMux
}

// New builds the API; its Handler serves every route in routes.go.
func New(d Deps) *Server {
	s := &Server{Deps: d, mux: http.NewServeMux()}
	var all []route
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.adapt(s.checked(rt)))
		all = append(all, rt)
	}
	for _, m := range d.Mounts {
		s.mux.Handle(m.Pattern, m.Handler)
	}
	// One coded answer for unknown routes and wrong methods, instead of
	// ServeMux's plain-text ones.
	s.mux.Handle("/", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		var methods []string
		for _, rt := range all {
			if pathMatches(rt.Path, r.URL.Path) {
				methods = append(methods, rt.Method)
			}
		}
		if len(methods) > 0 {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			return errMethod
		}
		return errNoRoute
	}))
	return s
}

// Handler returns the API wrapped in request logging and panic recovery.
func (s *Server) Handler() http.Handler { return s.withRequestLog(s.mux) }

// pathMatches reports whether path fits a route pattern's path, where a
// "{name}" segment matches any one non-empty segment.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return true
}

// checked runs the checks every route shares before its handler: the
// path's {name} segments must be text (pathvalue.go), and a route that
// takes a bearer token refuses an Authorization header of another scheme
// with a message that says so (credentials.go).
func (s *Server) checked(rt route) handlerFunc {
	names := pathNames(rt.Path)
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := checkPathValues(r, names); err != nil {
			return err
		}
		if rt.Auth {
			if err := bearerScheme(r, errBearerScheme); err != nil {
				return err
			}
		}
		return rt.Handle(w, r)
	}
}
