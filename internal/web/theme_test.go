package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestThemeDirectory: a template of the theme directory replaces the
// built-in one of the same name (the others stay), custom.css is served
// and linked, a template that does not parse or a missing directory is
// refused, and the pool's frame-ancestors reach the header.
func TestThemeDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("message.html", `{{define "content"}}<p id="themed">Ours: {{call .T .Data.Title}}</p>{{end}}`)
	write(CustomCSSFile, `body { background: hotpink; }`)
	r, err := NewRendererDir(slog.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	render := func(r *Renderer, name string, p Page) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.Render(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, name, p)
		return w
	}
	w := render(r, "message", Page{Lang: LangEN, Brand: Brand{Name: "x", FrameAncestors: "'self' https://app.example.com"},
		Data: struct{ Title, Body string }{"error.title", ""}})
	body := w.Body.String()
	if !strings.Contains(body, `<p id="themed">Ours: Something went wrong</p>`) || !strings.Contains(body, StaticPrefix+"custom.css") {
		t.Errorf("themed page:\n%s", body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://app.example.com") || w.Header().Get("X-Frame-Options") != "" {
		t.Errorf("headers %v", w.Header())
	}
	// Other pages are the built-in ones; the default framing is none.
	w = render(r, "consent", Page{Lang: LangEN, Data: struct {
		Action, AuthRequestID, AppName, Who string
		Scopes                              []string
	}{AppName: "App"}})
	if !strings.Contains(w.Body.String(), `id="consent-form"`) || !strings.HasSuffix(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("built-in page: %v\n%s", w.Header(), w.Body)
	}
	cw := httptest.NewRecorder()
	r.Static().ServeHTTP(cw, httptest.NewRequest(http.MethodGet, StaticPrefix+CustomCSSFile, nil))
	if cw.Code != 200 || !strings.Contains(cw.Body.String(), "hotpink") || !strings.HasPrefix(cw.Header().Get("Content-Type"), "text/css") {
		t.Errorf("custom.css: %d %v", cw.Code, cw.Header())
	}
	// Without a theme: no custom.css link, and none served.
	plain, err := NewRenderer(slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(render(plain, "message", Page{Data: struct{ Title, Body string }{"error.title", ""}}).Body.String(), "custom.css") {
		t.Error("custom.css linked without a theme")
	}
	cw = httptest.NewRecorder()
	plain.Static().ServeHTTP(cw, httptest.NewRequest(http.MethodGet, StaticPrefix+CustomCSSFile, nil))
	if cw.Code != http.StatusNotFound {
		t.Errorf("custom.css without a theme: %d", cw.Code)
	}

	write("signin.html", `{{define "content"}}{{if}}{{end}}`)
	if _, err := NewRendererDir(slog.Default(), dir); err == nil || !strings.Contains(err.Error(), "signin.html") {
		t.Errorf("a broken template: %v", err)
	}
	if _, err := NewRendererDir(slog.Default(), filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing directory was accepted")
	}
	os.Remove(filepath.Join(dir, "signin.html"))
	write(CustomCSSFile, strings.Repeat("a", maxThemeFile+1))
	if _, err := NewRendererDir(slog.Default(), dir); err == nil {
		t.Error("an oversized custom.css was accepted")
	}
}
