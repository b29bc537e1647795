// Package web is what every server-rendered page of authpool shares: the
// embedded templates and static files, the Content-Security-Policy and
// other headers, CSRF tokens bound to a pre-session cookie, the English and
// Simplified Chinese catalogues, and per-pool branding. The pages
// themselves live with their flows (internal/oidc's sign-in and consent);
// later hosted pages and the admin console reuse this package.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticPrefix is where Static is mounted.
const StaticPrefix = "/_authpool/static/"

// Brand is what a page shows of its pool.
type Brand struct {
	Name  string
	Logo  string
	Color string // #rrggbb or ""
}

// BrandOf is the pool's branding, with authpool's defaults.
func BrandOf(p *userpool.Pool) Brand {
	b := Brand{Name: p.Settings.BrandDisplayName, Logo: p.Settings.BrandLogoURL, Color: p.Settings.BrandPrimaryColor}
	if b.Name == "" {
		b.Name = p.Name
	}
	if b.Name == "" {
		b.Name = "authpool"
	}
	return b
}

// Page is what every template receives.
type Page struct {
	Lang   string
	T      func(key string) string
	Brand  Brand
	Nonce  string // the CSP nonce of the page's one style element (the brand colour)
	CSRF   string // the form token
	Static string // StaticPrefix
	Error  string // a message to show, already translated
	Data   any    // the page's own data
}

// Renderer renders the embedded templates.
type Renderer struct {
	pages map[string]*template.Template
	log   *slog.Logger
}

// NewRenderer parses the embedded templates: each page template is parsed
// with layout.html.
func NewRenderer(log *slog.Logger) (*Renderer, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, log: log}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		r.pages[base] = t
	}
	return r, nil
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	// base64url (CSP allows it): no "+" that html/template would write
	// as &#43; in the attribute, unlike the header.
	return base64.RawURLEncoding.EncodeToString(b)
}

// SecurityHeaders sets the headers of every page: a strict CSP (scripts
// and styles only from this server's static files, plus the one nonced
// style element), no framing, no referrer, no caching.
func SecurityHeaders(w http.ResponseWriter, nonce string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-"+nonce+"'; img-src 'self' https: data:; "+
		"connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// Render writes page name with status. p.Nonce, p.Static and p.T are
// filled here.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, name string, p Page) {
	t, ok := r.pages[name]
	if !ok {
		http.Error(w, "page not found", http.StatusInternalServerError)
		return
	}
	p.Nonce, p.Static = newNonce(), StaticPrefix
	lang := p.Lang
	p.T = func(key string) string { return T(lang, key) }
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		r.log.ErrorContext(req.Context(), "render page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w, p.Nonce)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Static serves the embedded CSS and JavaScript under StaticPrefix. They
// change only with the binary, so clients may cache them for a day.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static") // the directory is embedded
	files := http.FileServerFS(sub)
	return http.StripPrefix(StaticPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")

		files.ServeHTTP(w, r)
	}))
}
