package e2e

// The OpenID Connect harness: a relying party built on
// github.com/coreos/go-oidc/v3 and golang.org/x/oauth2, and a browser (an
// http.Client with a cookie jar) that fills the hosted sign-in and consent
// forms the way a user's browser would: it parses the HTML form and posts
// every field, the CSRF token included. Other OIDC tests (certification
// modules, benchmarks) build on these helpers.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// relyingParty is one application of a pool, as its code would see the
// provider.
type relyingParty struct {
	in       *instance
	issuer   string
	app      *client.App
	provider *gooidc.Provider
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

// oidcIssuer is the issuer of a pool ("" or "default": the default pool).
func oidcIssuer(in *instance, poolID string) string {
	if poolID == "" || poolID == "default" {
		return in.URL + "/oidc"
	}
	return in.URL + "/oidc/pools/" + poolID
}

// newRP creates an application in the pool (CreateAppRequest as given;
// defaults: a first-party web app with https://app.example.com/callback)
// and discovers the provider.
func newRP(t testing.TB, in *instance, poolID string, req client.CreateAppRequest) *relyingParty {
	t.Helper()
	ctx := context.Background()
	if poolID == "" {
		poolID = "default"
	}
	if req.Name == "" {
		req.Name = "RP"
	}
	if req.Type == "" {
		req.Type = client.AppTypeWeb
	}
	if req.RedirectURIs == nil && req.Type != client.AppTypeMachine {
		req.RedirectURIs = []string{"https://app.example.com/callback"}
	}
	if req.Scopes == nil && req.Type != client.AppTypeMachine {
		req.Scopes = []string{"openid", "profile", "email", "phone", "address", "offline_access"}
	}
	app := must[*client.App](t)(in.admin().CreateApp(ctx, poolID, req))
	rp := &relyingParty{in: in, issuer: oidcIssuer(in, poolID), app: app}
	p, err := gooidc.NewProvider(ctx, rp.issuer)
	if err != nil {
		t.Fatalf("discovery of %s: %v", rp.issuer, err)
	}
	rp.provider = p
	rp.conf = oauth2.Config{ClientID: app.ID, ClientSecret: app.ClientSecret, Endpoint: p.Endpoint(), Scopes: []string{"openid", "profile", "email"}}
	if len(app.RedirectURIs) > 0 {
		rp.conf.RedirectURL = app.RedirectURIs[0]
	}
	rp.verifier = p.Verifier(&gooidc.Config{ClientID: app.ID})
	return rp
}

// authRequest is one authorization request of a relying party.
type authRequest struct {
	State, Nonce, Verifier string
	URL                    string
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authURL builds an authorization URL with state, nonce and PKCE (S256);
// extra parameters are added as given.
func (rp *relyingParty) authURL(scopes []string, extra ...oauth2.AuthCodeOption) *authRequest {
	ar := &authRequest{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier()}
	conf := rp.conf
	if scopes != nil {
		conf.Scopes = scopes
	}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(ar.Verifier), gooidc.Nonce(ar.Nonce)}, extra...)
	ar.URL = conf.AuthCodeURL(ar.State, opts...)
	return ar
}

// exchange trades a code for tokens with the verifier and checks the ID
// token (signature, issuer, audience, expiry, nonce).
func (rp *relyingParty) exchange(t testing.TB, ar *authRequest, code string) (*oauth2.Token, *gooidc.IDToken) {
	t.Helper()
	ctx := context.Background()
	tok, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	if idt.Nonce != ar.Nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, ar.Nonce)
	}
	return tok, idt
}

// browser is a user's browser: cookies, and redirects followed only
// within the server (a redirect to an application is where a flow ends).
type browser struct {
	t    testing.TB
	in   *instance
	http *http.Client
	lang string
}

func newBrowser(t testing.TB, in *instance) *browser {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(in.URL, "http://")
	return &browser{t: t, in: in, http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// page is an answer the browser got.
type page struct {
	Status   int
	URL      *url.URL // where the body came from
	Location string   // a redirect out of the server ("" otherwise)
	Body     string
	Header   http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	p := &page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(body), Header: resp.Header}
	if resp.StatusCode/100 == 3 {
		p.Location = resp.Header.Get("Location")
	}
	return p
}

func (b *browser) get(u string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// htmlForm is a parsed form: its action and its fields' values (inputs;
// for submit buttons, only the one named when submitting).
type htmlForm struct {
	Action  string
	Fields  url.Values
	Buttons map[string]string // button name -> value (the last seen)
}

// form finds the form with the given id in p.
func (p *page) form(t testing.TB, id string) *htmlForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	var found *htmlForm
	var walk func(n *html.Node, in *htmlForm)
	walk = func(n *html.Node, in *htmlForm) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				if v, _ := attr(n, "id"); v == id {
					action, _ := attr(n, "action")
					found = &htmlForm{Action: action, Fields: url.Values{}, Buttons: map[string]string{}}
					in = found
				}
			case "input":
				if in != nil {
					name, _ := attr(n, "name")
					val, _ := attr(n, "value")
					if name != "" {
						in.Fields.Set(name, val)
					}
				}
			case "button":
				if in != nil {
					name, _ := attr(n, "name")
					val, _ := attr(n, "value")
					if name != "" {
						in.Buttons[name] = val
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, nil)
	if found == nil {
		t.Fatalf("no form %q on the page (status %d):\n%s", id, p.Status, p.Body)
	}
	return found
}

// submit posts the form with the given values set (relative actions are
// resolved against the page).
func (b *browser) submit(p *page, f *htmlForm, set map[string]string) *page {
	b.t.Helper()
	vals := url.Values{}
	for k, v := range f.Fields {
		vals[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		vals.Set(k, v)
	}
	action, err := p.URL.Parse(f.Action)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.post(action.String(), vals)
}

// signIn fills the sign-in page's password form.
func (b *browser) signIn(p *page, identifier, password string) *page {
	b.t.Helper()
	return b.submit(p, p.form(b.t, "password-form"), map[string]string{"identifier": identifier, "password": password})
}

// consent answers the consent page ("allow" or "deny").
func (b *browser) consent(p *page, decision string) *page {
	b.t.Helper()
	return b.submit(p, p.form(b.t, "consent-form"), map[string]string{"decision": decision})
}

// callback reads the redirect to the application: it must go to the
// relying party's redirect URI with the request's state; it returns the
// query (code, or error).
func (ar *authRequest) callback(t testing.TB, rp *relyingParty, p *page) url.Values {
	t.Helper()
	if p.Location == "" {
		t.Fatalf("no redirect to the application (status %d at %s):\n%s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != rp.conf.RedirectURL {
		t.Fatalf("redirected to %s, want %s", got, rp.conf.RedirectURL)
	}
	q := u.Query()
	if q.Get("state") != ar.State {
		t.Fatalf("state %q, want %q", q.Get("state"), ar.State)
	}
	return q
}

// codeFlow runs the whole authorization code flow for a signed-out browser
// with the password sign-in (no consent expected) and returns the tokens.
func (b *browser) codeFlow(rp *relyingParty, scopes []string, identifier, password string) (*oauth2.Token, *gooidc.IDToken) {
	b.t.Helper()
	ar := rp.authURL(scopes)
	p := b.get(ar.URL)
	if p.Location == "" {
		p = b.signIn(p, identifier, password)
	}
	q := ar.callback(b.t, rp, p)
	if q.Get("code") == "" {
		b.t.Fatalf("no code: %v", q)
	}
	return rp.exchange(b.t, ar, q.Get("code"))
}

// tokenEndpoint posts a form to the token endpoint with the app's
// credentials (HTTP Basic when secret is not "") and decodes the JSON.
func (rp *relyingParty) tokenCall(t testing.TB, endpoint string, form url.Values, id, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	} else if id != "" {
		form.Set("client_id", id)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	if out == nil {
		out = map[string]any{"_body": string(body)}
	}
	return resp.StatusCode, out
}

// discovery is the provider's metadata as JSON.
func (rp *relyingParty) discovery(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := rp.provider.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (rp *relyingParty) endpoint(t testing.TB, name string) string {
	t.Helper()
	s, _ := rp.discovery(t)[name].(string)
	if s == "" {
		t.Fatalf("no %s in the discovery document", name)
	}
	return s
}

// introspect asks whether tok is active, authenticated as rp.
func (rp *relyingParty) introspect(t testing.TB, tok string) map[string]any {
	t.Helper()
	status, out := rp.tokenCall(t, rp.endpoint(t, "introspection_endpoint"), url.Values{"token": {tok}}, rp.app.ID, rp.app.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("introspection: %d %v", status, out)
	}
	return out
}

// userinfo calls the userinfo endpoint with the token in the header (GET)
// and returns the status and claims.
func userinfo(t testing.TB, endpoint, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, endpoint, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
