package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/authpool/authpool/internal/userpool"
)

// TestEveryCodeHasAMessage: every Code constant userpool declares has an
// English and a Chinese message for the pages.
func TestEveryCodeHasAMessage(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../userpool", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			ast.Inspect(f, func(node ast.Node) bool {
				vs, ok := node.(*ast.ValueSpec)
				if !ok || len(vs.Values) != 1 {
					return true
				}
				typ, _ := vs.Type.(*ast.Ident)
				lit, _ := vs.Values[0].(*ast.BasicLit)
				if typ == nil || typ.Name != "Code" || lit == nil {
					return true
				}
				c, _ := strconv.Atoi(lit.Value)
				n++
				m, ok := codeMessages[userpool.Code(c)]
				if !ok || m[0] == "" || m[1] == "" {
					t.Errorf("code %d (%s) has no page message", c, vs.Names[0].Name)
				}
				return true
			})
		}
	}
	if n < 40 {
		t.Fatalf("found only %d codes", n)
	}
	// A code without an entry (one added later) shows the error's own
	// message.
	e := userpool.Errorf(9999, "not_yet_translated", "enter the code of your authenticator")
	if got := ErrorMessage(LangZH, e); got != e.Message {
		t.Errorf("unknown code: %q", got)
	}
}

// TestTemplateKeysTranslated: every key the templates and pages use has
// both languages.
func TestTemplateKeysTranslated(t *testing.T) {
	re := regexp.MustCompile(`"((?:signin|mfa|consent|scope|error|loggedout|placeholder|common|signup|rules|pw|reset|verify|retry)\.[a-z_]+)"`)
	files, _ := os.ReadDir("templates")
	var keys []string
	for _, f := range files {
		b, _ := os.ReadFile("templates/" + f.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, name := range []string{"pages.go", "userpages.go", "signuppage.go", "resetpage.go", "verifypage.go"} {
		b, err := os.ReadFile("../oidc/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) < 20 {
		t.Fatalf("found %d keys", len(keys))
	}
	for _, k := range keys {
		if m, ok := texts[k]; !ok || m[0] == "" || m[1] == "" {
			t.Errorf("key %s is not translated", k)
		}
	}
}

func TestLang(t *testing.T) {
	for _, c := range []struct{ ui, accept, want string }{
		{"", "", LangEN}, {"zh-CN", "", LangZH}, {"zh", "en", LangZH}, {"fr zh-Hans", "", LangZH}, {"", "zh-CN,zh;q=0.9", LangZH},
		{"", "de-DE", LangEN}, {"en", "zh-CN", LangEN}, {strings.Repeat("x", 5000), strings.Repeat("zh,", 5000), LangEN},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", c.accept)
		if got := Lang(r, c.ui); got != c.want {
			t.Errorf("Lang(%q, %q) = %s, want %s", c.ui, c.accept, got, c.want)
		}
	}
}

// TestCSRF: a token checks only with the cookie it was made for.
func TestCSRF(t *testing.T) {
	c := CSRF{Secret: []byte(strings.Repeat("k", 32))}
	w := httptest.NewRecorder()
	tok := c.Token(w, httptest.NewRequest(http.MethodGet, "/", nil))
	ck := w.Result().Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v", ck)
	}
	post := func(cookie, token string) bool {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{CSRFField: {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: cookie})
		}
		_ = r.ParseForm()
		return c.Check(r)
	}
	other := httptest.NewRecorder()
	otherTok := c.Token(other, httptest.NewRequest(http.MethodGet, "/", nil))
	if !post(ck.Value, tok) {
		t.Error("the right token failed")
	}
	for _, bad := range [][2]string{{ck.Value, ""}, {"", tok}, {ck.Value, otherTok}, {ck.Value, tok + "x"}, {"short", c.mac("short")}} {
		if post(bad[0], bad[1]) {
			t.Errorf("accepted cookie %q token %q", bad[0], bad[1])
		}
	}
	// A request with a valid cookie reuses it.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(ck)
	w2 := httptest.NewRecorder()
	if c.Token(w2, r) != tok || len(w2.Result().Cookies()) != 0 {
		t.Error("a valid cookie was replaced")
	}
}

// TestBrandColourInCSS: the validated colour reaches the nonced style
// element unchanged.
func TestBrandColourInCSS(t *testing.T) {
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodGet, "/", nil), 200, "message", Page{Lang: LangEN, Brand: Brand{Name: "<b>Shop</b>", Color: "#1a73e8"},
		Data: struct{ Title, Body string }{"error.title", ""}})
	body := w.Body.String()
	nonce := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(body)
	if !strings.Contains(body, "--brand: #1a73e8") || nonce == nil || !strings.Contains(w.Header().Get("Content-Security-Policy"), "'nonce-"+nonce[1]+"'") {
		t.Errorf("brand colour or nonce missing:\n%s\n%s", body, w.Header().Get("Content-Security-Policy"))
	}
	if strings.Contains(body, "<b>Shop</b>") {
		t.Error("the brand name was not escaped")
	}
}
