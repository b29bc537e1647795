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
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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
	// FrameAncestors is the pool's CSP frame-ancestors source list
	// (userpool.CheckFrameAncestors); "" is 'none'.
	FrameAncestors string
}

// BrandOf is the pool's branding, with authpool's defaults.
func BrandOf(p *userpool.Pool) Brand {
	b := Brand{Name: p.Settings.BrandDisplayName, Logo: p.Settings.BrandLogoURL, Color: p.Settings.BrandPrimaryColor,
		FrameAncestors: p.Settings.FrameAncestors}
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
	// CustomCSS says that the theme directory has a custom.css, which
	// the layout links after authpool.css (filled by Render).
	CustomCSS bool
}

// Renderer renders the embedded templates, or their replacements from a
// theme directory.
type Renderer struct {
	pages     map[string]*template.Template
	log       *slog.Logger
	customCSS []byte // the theme directory's custom.css, nil when none
}

// NewRenderer parses the embedded templates: each page template is parsed
// with layout.html.
func NewRenderer(log *slog.Logger) (*Renderer, error) {
	return NewRendererDir(log, "")
}

// CustomCSSFile is the name of the theme directory's style sheet.
const CustomCSSFile = "custom.css"

// maxThemeFile bounds a file read from the theme directory.
const maxThemeFile = 1 << 20

// NewRendererDir is NewRenderer with a theme directory (AUTHPOOL_WEB_TEMPLATES_DIR,
// "" for none): a file there named like an embedded template (layout.html,
// signin.html, signup.html, ...) replaces it, and a custom.css is served
// beside authpool.css and linked by every page. The directory is read
// once, at start; a template that does not parse fails the start.
func NewRendererDir(log *slog.Logger, dir string) (*Renderer, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("web: %s is not a directory", dir)
		}
	}
	r := &Renderer{pages: map[string]*template.Template{}, log: log}
	read := func(name string) ([]byte, error) {
		if dir != "" {
			b, err := readThemeFile(dir, name)
			if err == nil {
				return b, nil
			}
			if !os.IsNotExist(err) {
				return nil, err
			}
		}
		return templateFS.ReadFile("templates/" + name)
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		file := strings.TrimPrefix(n, "templates/")
		base := strings.TrimSuffix(file, ".html")
		if base == "layout" {
			continue
		}
		page, err := read(file)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout.html").Parse(string(layout))
		if err == nil {
			t, err = t.New(file).Parse(string(page))
		}
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", file, err)
		}
		r.pages[base] = t.Lookup("layout.html")
	}
	if dir != "" {
		css, err := readThemeFile(dir, CustomCSSFile)
		switch {
		case err == nil:
			r.customCSS = css
		case !os.IsNotExist(err):
			return nil, err
		}
	}
	return r, nil
}

func readThemeFile(dir, name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxThemeFile+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxThemeFile {
		return nil, fmt.Errorf("web: theme file %s is larger than %d bytes", name, maxThemeFile)
	}
	return buf.Bytes(), nil
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
	FramedSecurityHeaders(w, nonce, "")
}

// FramedSecurityHeaders is SecurityHeaders with the pool's frame-ancestors
// source list ("" is 'none', which X-Frame-Options DENY repeats for old
// browsers; a list has no X-Frame-Options form, so none is sent). The list
// was checked by userpool.CheckFrameAncestors when the setting was saved.
// There is no form-action: a form's answer redirects to the application
// (its registered redirect URI), which browsers check against form-action.
func FramedSecurityHeaders(w http.ResponseWriter, nonce, ancestors string) {
	h := w.Header()
	fa := "'none'"
	if ancestors != "" {
		fa = ancestors
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-"+nonce+"'; img-src 'self' https: data:; "+
		"connect-src 'self'; base-uri 'none'; frame-ancestors "+fa)
	if ancestors == "" {
		h.Set("X-Frame-Options", "DENY")
	}
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
	p.Nonce, p.Static, p.CustomCSS = newNonce(), StaticPrefix, r.customCSS != nil
	lang := p.Lang
	p.T = func(key string) string { return T(lang, key) }
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		r.log.ErrorContext(req.Context(), "render page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	FramedSecurityHeaders(w, p.Nonce, p.Brand.FrameAncestors)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Static serves the embedded files and the theme's custom.css.
func (r *Renderer) Static() http.Handler {
	static := Static()
	if r.customCSS == nil {
		return static
	}
	css := r.customCSS
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != StaticPrefix+CustomCSSFile {
			static.ServeHTTP(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(css)
	})
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
