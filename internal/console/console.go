// Package console is the admin console: server-rendered pages over the
// administration use cases (internal/admin), for the people who run user
// pools. It is served by the same binary under a path (/console by
// default), or on a separate listen address. A browser signs in with the
// administrator key or a named key; the console session is a cookie
// whose token the store keeps only as a keyed hash. Every page is one
// handler file and one template (docs/CONSOLE.md says how to add one);
// routes.go is the index.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the console needs from the rest of the program.
type Deps struct {
	Admin *admin.Service
	// Store keeps the console sessions and the server secret.
	Store userpool.Store
	// Path is where the console is served ("/console"); no trailing slash.
	Path string
	// Secure sets the cookie's Secure attribute (the public URL is https).
	Secure bool
	// IdleTimeout ends a session unused this long; Lifetime ends it
	// whatever its use.
	IdleTimeout, Lifetime time.Duration
	Now                   func() time.Time
	Log                   *slog.Logger
	// ClientIP is the caller's address as the native API sees it.
	ClientIP func(r *http.Request, claimed string) string
}

// Service serves the console.
type Service struct {
	d     Deps
	key   []byte // HMAC key of session tokens and their CSRF tokens
	csrf  web.CSRF
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New builds the console. Its secret (shared by replicas through the
// store) keys the session hashes and the CSRF tokens.
func New(ctx context.Context, d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	secret, err := d.Store.EnsureServerSecret(ctx, "console", fresh)
	if err != nil {
		return nil, fmt.Errorf("console: server secret: %w", err)
	}
	s := &Service{d: d, key: derive(secret, "session"), csrf: web.CSRF{Secret: derive(secret, "signin-csrf"), Secure: d.Secure}}
	if s.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+d.Path+rt.Path, s.guard(rt))
	}
	static := http.FileServerFS(mustSub(staticFS, "static"))
	s.mux.Handle("GET "+d.Path+"/static/", http.StripPrefix(d.Path+"/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		static.ServeHTTP(w, r)
	})))
	s.mux.Handle(d.Path+"/", http.HandlerFunc(s.notFound))
	s.mux.Handle("GET "+d.Path, http.RedirectHandler(d.Path+"/", http.StatusSeeOther))
	return s, nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}

// derive is a purpose-bound key from the console's secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("authpool-console\x00" + purpose))
	return m.Sum(nil)
}

// Patterns are the ServeMux patterns the console serves (every method).
func (s *Service) Patterns() []string { return []string{s.d.Path + "/", s.d.Path} }

// Handler serves the console.
func (s *Service) Handler() http.Handler { return s.mux }

// Purge deletes ended and idle console sessions (the server's janitor).
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now := s.d.Now()
	return s.d.Store.PurgeConsoleSessions(ctx, now, now.Add(-s.d.IdleTimeout))
}

// handlerFunc is a console handler: it renders or redirects, or returns
// an error that fail turns into a page.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// call is what a handler knows of its request.
type call struct {
	lang  string
	sess  *userpool.ConsoleSession // nil on public routes
	token string                   // the session cookie's token
	who   admin.Principal
	csrf  string // the form token of this page
	meta  auth.Meta
}

// errNoSession: the request has no (live) console session.
var errNoSession = errors.New("console: no session")

// errForeign: a change came from a page of another origin.
var errForeign = errors.New("console: request from another origin")

// errCSRF: a change without this session's form token.
var errCSRF = errors.New("console: missing or wrong form token")

// guard runs the checks every route shares, then its handler: a change
// (any method but GET) must come from a page of this origin; every route
// but the public ones needs a live session, and its changes this
// session's form token and a key that may change things.
func (s *Service) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{lang: web.Lang(r, ""), meta: auth.Meta{PoolID: r.PathValue("poolId"), ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent()}}
		change := r.Method != http.MethodGet && r.Method != http.MethodHead
		if change && foreign(r) {
			s.fail(w, r, c, errForeign)
			return
		}
		if !rt.Public {
			sess, token, err := s.session(r)
			if err != nil {
				s.fail(w, r, c, err)
				return
			}
			c.sess, c.token = sess, token
			c.who = admin.Principal{KeyID: sess.KeyID, Name: sess.KeyName, ReadOnly: sess.ReadOnly}
			c.csrf = s.formToken(token)
			if change {
				limit := int64(64 << 10)
				if rt.MaxBody > 0 {
					limit = rt.MaxBody
				}
				r.Body = http.MaxBytesReader(w, r.Body, limit)
				if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(r.PostForm.Get(web.CSRFField)), []byte(c.csrf)) {
					s.fail(w, r, c, errCSRF)
					return
				}
				if c.who.ReadOnly && !rt.ReadOnlyOK {
					s.fail(w, r, c, admin.ErrReadOnly)
					return
				}
			}
			r = r.WithContext(admin.WithPrincipal(r.Context(), c.who))
		}
		if err := rt.Handle(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	})
}

// foreign reports whether a browser says the request comes from a page
// of another origin: Sec-Fetch-Site (which pages cannot forge) says
// anything but same-origin, or, without it, Origin names another host
// than the one addressed. SameSite=Strict keeps the cookie from such requests anyway;
// this refuses them before anything is read, the sign-in included.
func foreign(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		// A browser that sends it is believed alone: under the pages'
		// Referrer-Policy no-referrer, Chromium sends "Origin: null" with
		// the console's own same-origin form posts.
		return site != "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	_, host, ok := strings.Cut(origin, "://")
	return !ok || origin == "null" || !strings.EqualFold(host, r.Host)
}

func (s *Service) notFound(w http.ResponseWriter, r *http.Request) {
	c := &call{lang: web.Lang(r, "")}
	// Unknown paths say nothing more to a browser without a session.
	if _, _, err := s.session(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.fail(w, r, c, userpool.ErrNotFound)
}

// fail answers an error: no session sends a page request to the sign-in
// page; everything else is an error page with the message for its code
// (internal causes are logged, never shown).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	switch {
	case errors.Is(err, errNoSession):
		if r.Method == http.MethodGet {
			web.SecurityHeaders(w, "")
			http.Redirect(w, r, s.d.Path+"/signin", http.StatusSeeOther)
			return
		}
		s.errorPage(w, r, c, http.StatusUnauthorized, T(c.lang, "error.signed_out"))
		return
	case errors.Is(err, errForeign), errors.Is(err, errCSRF):
		s.errorPage(w, r, c, http.StatusForbidden, T(c.lang, "error.csrf"))
		return
	}
	e := userpool.AsError(err)
	st := statusOf(e.Code)
	if st >= 500 {
		s.d.Log.LogAttrs(r.Context(), slog.LevelError, "console", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	msg := web.ErrorMessage(c.lang, err)
	if e.Code == userpool.CodeInvalidArgument || e.Code == userpool.CodeNoPermission {
		msg = e.Message // says which value or why, written for people
	}
	s.errorPage(w, r, c, st, msg)
}

// statusOf is the console's HTTP status for a coded error.
func statusOf(c userpool.Code) int {
	switch c {
	case userpool.CodeNotFound, userpool.CodeUserNotFound, userpool.CodeUnknownUserPool, userpool.CodeUnknownField:
		return http.StatusNotFound
	case userpool.CodeNoPermission, userpool.CodeAdminUnauthorized:
		return http.StatusForbidden
	case userpool.CodeRateLimited:
		return http.StatusTooManyRequests
	case userpool.CodeUnavailable:
		return http.StatusServiceUnavailable
	case userpool.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// codeOf is err's code (CodeInternal for an uncoded error).
func codeOf(err error) userpool.Code { return userpool.AsError(err).Code }
