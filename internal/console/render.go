package console

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// Page is what every console template receives.
type Page struct {
	Lang  string
	Title string // a catalogue key
	Base  string // the console's path
	// Section is the nav entry shown as current.
	Section string
	Nav     []navItem
	Pool    *userpool.Pool   // the pool addressed, nil on pages of no pool
	Pools   []*userpool.Pool // for the pool switcher
	Who     admin.Principal
	CSRF    string
	Nonce   string
	Error   string // a message to show, already translated
	Notice  string
	Data    any
}

// T is the text of key in the page's language.
func (p Page) T(key string) string { return T(p.Lang, key) }

// PoolPath is the path of one of the current pool's pages.
func (p Page) PoolPath(rest string) string {
	if p.Pool == nil {
		return p.Base + "/"
	}
	return p.Base + "/pools/" + p.Pool.ID + rest
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join": strings.Join,
}

// parsePages parses each page template with layout.html.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// render writes page name of a signed-in call: the layout with the
// navigation and the pool switcher around the page's own content.
func (s *Service) render(w http.ResponseWriter, r *http.Request, c *call, status int, name string, p Page) {
	if c.sess != nil {
		p.Who, p.CSRF = c.who, c.csrf
		if p.Nav == nil {
			p.Nav = s.nav()
		}
		if p.Pools == nil {
			pools, err := s.d.Admin.ListPools(r.Context())
			if err != nil {
				s.d.Log.LogAttrs(r.Context(), slog.LevelWarn, "console: list pools", slog.String("error", err.Error()))
			}
			p.Pools = pools
		}
	}
	t, ok := s.pages[name]
	if !ok {
		http.Error(w, "page not found", http.StatusInternalServerError)
		return
	}
	p.Lang, p.Base, p.Nonce = c.lang, s.d.Path, newNonce()
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		s.d.Log.LogAttrs(r.Context(), slog.LevelError, "console: render", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	web.SecurityHeaders(w, p.Nonce)
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the console's own form posts, which the origin
	// check must refuse. Other sites still get no Referer.
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage renders msg with status; signed in, inside the layout.
func (s *Service) errorPage(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) {
	s.render(w, r, c, status, "error", Page{Title: "error.title", Error: msg})
}

// redirect answers a change with 303 to path (post/redirect/get).
func (s *Service) redirect(w http.ResponseWriter, r *http.Request, path string) {
	web.SecurityHeaders(w, "")
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// pool reads the pool of the call's path; pages of a pool call it first.
func (s *Service) pool(r *http.Request, c *call) (*userpool.Pool, error) {
	p, err := s.d.Admin.GetPool(r.Context(), c.meta)
	if err != nil {
		return nil, err
	}
	c.meta.PoolID = p.ID
	return p, nil
}
