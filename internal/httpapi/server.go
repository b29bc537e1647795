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

	"github.com/authpool/authpool/internal/auth"
)

// Deps are what the transport needs from the rest of the program.
type Deps struct {
	Auth *auth.Service
	// JWKS returns the public signing keys as a JWKS document.
	JWKS func() []byte
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
}

// Server is the native HTTP API.
type Server struct {
	Deps
	mux *http.ServeMux
}

// New builds the API; its Handler serves every route in routes.go.
func New(d Deps) *Server {
	s := &Server{Deps: d, mux: http.NewServeMux()}
	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.adapt(rt.Handle))
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	// One coded answer for unknown routes and wrong methods, instead of
	// ServeMux's plain-text ones.
	s.mux.Handle("/", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		if methods, ok := allowed[r.URL.Path]; ok {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			return errMethod
		}
		return errNoRoute
	}))
	return s
}

// Handler returns the API wrapped in request logging and panic recovery.
func (s *Server) Handler() http.Handler { return s.withRequestLog(s.mux) }
