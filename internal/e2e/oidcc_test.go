package e2e

// One test per module of the OpenID Foundation's
// oidcc-basic-certification-test-plan and oidcc-config-certification-test-plan
// that can run offline, named after the module (go test -run
// 'TestOIDCC/oidcc-codereuse'), asserting what the module asserts, so that a
// run of the official suite on a connected machine holds no surprise.
// docs/OIDC.md "Conformance" maps each module to what is checked here.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// oidccEnv is what every module starts from: a server, a static client
// registered as the suite's (a confidential web app with every standard
// scope, first party so that no consent page stands between the modules
// and their assertions), a second client, and a user with a full profile.
type oidccEnv struct {
	in        *instance
	rp, rp2   *relyingParty
	email     string
	phone     string
	userID    string
	publicURL string // a server whose public URL is https (discovery only)
}

func newOIDCCEnv(t *testing.T, dbURL string) *oidccEnv {
	ctx := context.Background()
	in := start(t, adminConfig(dbURL), nil)
	e := &oidccEnv{in: in, email: "cert@example.com", phone: "+8613800138001"}
	u := must[*client.User](t)(in.admin().CreateUser(ctx, "default", client.CreateUserRequest{
		Email: e.email, Phone: e.phone, Password: oidcPassword, EmailVerified: true, PhoneVerified: true,
		Profile: &client.Profile{
			Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace", Nickname: "ada",
			PreferredUsername: "ada", Website: "https://ada.example.com", Gender: "F", Birthdate: "1815-12-10",
			Zoneinfo: "Europe/London", Locale: "en-GB", Address: "12 St James's Square, London",
			StreetAddress: "12 St James's Square", Locality: "London", Region: "Westminster", PostalCode: "SW1Y 4JH", Country: "GB",
		},
	}))
	e.userID = u.ID
	e.rp = newRP(t, in, "", client.CreateAppRequest{Name: "Conformance", FirstParty: true})
	e.rp2 = newRP(t, in, "", client.CreateAppRequest{Name: "Conformance 2", FirstParty: true,
		RedirectURIs: []string{"https://app2.example.com/callback"}})
	return e
}

// login runs the code flow in a signed-out browser and returns the browser,
// the tokens and the ID token.
func (e *oidccEnv) login(t *testing.T, scopes []string, extra ...oauth2.AuthCodeOption) (*browser, *oauth2.Token, *gooidc.IDToken) {
	t.Helper()
	b := newBrowser(t, e.in)
	ar := e.rp.authURL(scopes, extra...)
	p := b.get(ar.URL)
	if p.Location != "" {
		t.Fatalf("a signed-out browser was not shown the sign-in page: %s", p.Location)
	}
	q := ar.callback(t, e.rp, b.signIn(p, e.email, oidcPassword))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	tok, idt := e.rp.exchange(t, ar, q.Get("code"))
	return b, tok, idt
}

// code runs an authorization request in b up to the code, signing in
// when the page asks; it reports whether the sign-in page was shown.
func (e *oidccEnv) code(t *testing.T, b *browser, ar *authRequest) (code string, signInShown bool) {
	t.Helper()
	p := b.get(ar.URL)
	if p.Location == "" {
		signInShown = true
		p = b.signIn(p, e.email, oidcPassword)
	}
	q := ar.callback(t, e.rp, p)
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code"), signInShown
}

// claimsOf decodes a JWT's header and payload (no signature check: the
// callers verified it or test what it says).
func claimsOf(t *testing.T, jwt string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact serialization: %d parts", len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("bad base64url in a JWT: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("bad JSON in a JWT: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func idClaims(t *testing.T, idt *gooidc.IDToken) map[string]any {
	t.Helper()
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func rawIDToken(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	return raw
}

// checkIDToken is the suite's ID token validation (OIDC Core 3.1.3.7 and
// 2): iss is the issuer, aud a single value that is the client, azp the
// client, sub at most 255 ASCII characters, iat and exp numbers with iat
// not in the future and exp after it, auth_time present.
func checkIDToken(t *testing.T, rp *relyingParty, idt *gooidc.IDToken) map[string]any {
	t.Helper()
	c := idClaims(t, idt)
	if c["iss"] != rp.issuer {
		t.Errorf("iss %v, want %s", c["iss"], rp.issuer)
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud != rp.app.ID {
			t.Errorf("aud %v", aud)
		}
	case []any:
		if !slices.Contains(aud, any(rp.app.ID)) {
			t.Errorf("aud %v lacks the client", aud)
		}
		if len(aud) > 1 && c["azp"] != rp.app.ID {
			t.Errorf("several audiences without azp: %v", c)
		}
	default:
		t.Errorf("aud %v", c["aud"])
	}
	sub, _ := c["sub"].(string)
	if sub == "" || len(sub) > 255 {
		t.Errorf("sub %q", sub)
	}
	for _, r := range sub {
		if r > 0x7e || r < 0x20 {
			t.Errorf("sub %q is not ASCII", sub)
		}
	}
	iat, ok1 := c["iat"].(float64)
	exp, ok2 := c["exp"].(float64)
	if !ok1 || !ok2 || exp <= iat || time.Unix(int64(iat), 0).After(time.Now().Add(5*time.Minute)) {
		t.Errorf("iat %v exp %v", c["iat"], c["exp"])
	}
	if _, ok := c["auth_time"].(float64); !ok {
		t.Errorf("no auth_time: %v", c)
	}
	return c
}

// userinfoCall calls the userinfo endpoint the three ways the suite does.
func (e *oidccEnv) userinfoCall(t *testing.T, method, where, tok string) (int, http.Header, map[string]any) {
	t.Helper()
	endpoint := e.rp.endpoint(t, "userinfo_endpoint")
	var req *http.Request
	switch where {
	case "header":
		req, _ = http.NewRequest(method, endpoint, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
	case "body":
		req, _ = http.NewRequest(method, endpoint, strings.NewReader(url.Values{"access_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// withParam is the request's URL with a parameter removed or replaced
// ("" removes it).
func withParam(t *testing.T, raw, key, val string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if val == "" {
		q.Del(key)
	} else {
		q.Set(key, val)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// unsignedJWT is a JWT with alg "none" (RFC 7519 §6).
func unsignedJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// noRedirectToApp fails when the answer sent the browser anywhere outside
// the server: an error about the redirect URI must be shown, not sent.
func noRedirectToApp(t *testing.T, p *page) {
	t.Helper()
	if p.Location != "" {
		t.Fatalf("redirected to %s; the error must be shown on the page", p.Location)
	}
	if p.Status < 400 {
		t.Fatalf("status %d, want an error page", p.Status)
	}
}

var oidccModules = []struct {
	name string
	run  func(t *testing.T, e *oidccEnv)
}{
	// ---- oidcc-config-certification-test-plan ----
	{"oidcc-discovery-endpoint-verification", func(t *testing.T, e *oidccEnv) {
		d := e.rp.discovery(t)
		if d["issuer"] != e.in.URL+"/oidc" {
			t.Errorf("issuer %v: must be the URL the document was fetched under, minus /.well-known/openid-configuration", d["issuer"])
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} {
			if s, _ := d[k].(string); !strings.HasPrefix(s, e.in.URL+"/oidc/") {
				t.Errorf("%s = %v", k, d[k])
			}
		}
		has := func(k, v string) bool { l, _ := d[k].([]any); return slices.Contains(l, any(v)) }
		if !has("response_types_supported", "code") {
			t.Errorf("response_types_supported %v lacks code", d["response_types_supported"])
		}
		if !has("subject_types_supported", "public") && !has("subject_types_supported", "pairwise") {
			t.Errorf("subject_types_supported %v", d["subject_types_supported"])
		}
		if !has("id_token_signing_alg_values_supported", "RS256") || has("id_token_signing_alg_values_supported", "none") {
			t.Errorf("id_token_signing_alg_values_supported %v: RS256 required, none refused", d["id_token_signing_alg_values_supported"])
		}
		if !has("scopes_supported", "openid") {
			t.Errorf("scopes_supported %v lacks openid", d["scopes_supported"])
		}
		if cl, ok := d["claims_supported"].([]any); !ok || !slices.Contains(cl, any("sub")) {
			t.Errorf("claims_supported %v", d["claims_supported"])
		}
		// The JWKS: RSA signing keys with kid, public halves only.
		resp, err := http.Get(d["jwks_uri"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var set struct{ Keys []map[string]any }
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(set.Keys) == 0 {
			t.Fatalf("jwks: %d %v %v", resp.StatusCode, err, set)
		}
		for _, k := range set.Keys {
			if k["kty"] != "RSA" || k["kid"] == nil || k["n"] == nil || k["e"] == nil || (k["use"] != nil && k["use"] != "sig") {
				t.Errorf("jwk %v", k)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[private]; ok {
					t.Errorf("the JWKS publishes private member %s", private)
				}
			}
		}
		// With an https public URL (production), every endpoint is https
		// (CheckDiscEndpointAllEndpointsAreHttps).
		cfg := adminConfig(e.in.DBURL)
		cfg.PublicURL = "https://id.example.com"
		prod := start(t, cfg, nil)
		p := newBrowser(t, prod).get(prod.URL + "/oidc/.well-known/openid-configuration")
		var pd map[string]any
		if err := json.Unmarshal([]byte(p.Body), &pd); err != nil || p.Status != 200 {
			t.Fatalf("discovery behind https: %d %s", p.Status, p.Body)
		}
		if pd["issuer"] != "https://id.example.com/oidc" {
			t.Errorf("issuer %v", pd["issuer"])
		}
		for k, v := range pd {
			if s, ok := v.(string); ok && strings.HasSuffix(k, "_endpoint") || k == "jwks_uri" {
				if !strings.HasPrefix(s, "https://id.example.com/oidc/") {
					t.Errorf("%s = %q is not https under the issuer", k, s)
				}
			}
		}
	}},
	{"oidcc-idtoken-rs256", func(t *testing.T, e *oidccEnv) {
		_, tok, _ := e.login(t, nil)
		h, _ := claimsOf(t, rawIDToken(t, tok))
		if h["alg"] != "RS256" {
			t.Errorf("ID token alg %v, want RS256", h["alg"])
		}
	}},

	// ---- oidcc-basic-certification-test-plan ----
	{"oidcc-server", func(t *testing.T, e *oidccEnv) {
		// Code flow, client_secret_basic, state, nonce; the ID token
		// verified (signature, iss, aud, exp, nonce in exchange) and
		// checked; userinfo's sub is the ID token's.
		e.rp.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		defer func() { e.rp.conf.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect }()
		_, tok, idt := e.login(t, nil)
		checkIDToken(t, e.rp, idt)
		if !strings.EqualFold(tok.TokenType, "bearer") || tok.Expiry.IsZero() {
			t.Errorf("token_type %q expiry %v", tok.TokenType, tok.Expiry)
		}
		if idt.Subject != e.userID {
			t.Errorf("sub %s, want %s", idt.Subject, e.userID)
		}
		st, _, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken)
		if st != 200 || ui["sub"] != idt.Subject {
			t.Errorf("userinfo %d %v", st, ui)
		}
	}},
	{"oidcc-response-type-missing", func(t *testing.T, e *oidccEnv) {
		// The OP must refuse: an error shown to the user, or
		// invalid_request / unsupported_response_type to the redirect URI.
		ar := e.rp.authURL(nil)
		p := newBrowser(t, e.in).get(withParam(t, ar.URL, "response_type", ""))
		if p.Location == "" {
			if p.Status < 400 {
				t.Fatalf("no error for a request without response_type: %d", p.Status)
			}
			return
		}
		q := ar.callback(t, e.rp, p)
		if e := q.Get("error"); (e != "invalid_request" && e != "unsupported_response_type") || q.Get("code") != "" {
			t.Fatalf("answer %v", q)
		}
	}},
	{"oidcc-idtoken-signature", func(t *testing.T, e *oidccEnv) {
		// Signed with a key of the JWKS, named by kid; a token altered
		// after signing fails verification.
		_, tok, _ := e.login(t, nil)
		raw := rawIDToken(t, tok)
		h, _ := claimsOf(t, raw)
		kid, _ := h["kid"].(string)
		if kid == "" {
			t.Fatal("no kid in the ID token header")
		}
		resp, err := http.Get(e.rp.endpoint(t, "jwks_uri"))
		if err != nil {
			t.Fatal(err)
		}
		var set struct{ Keys []map[string]any }
		_ = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if !slices.ContainsFunc(set.Keys, func(k map[string]any) bool { return k["kid"] == kid }) {
			t.Errorf("kid %s is not in the JWKS", kid)
		}
		parts := strings.Split(raw, ".")
		_, payload := claimsOf(t, raw)
		payload["sub"] = "someone-else"
		b, _ := json.Marshal(payload)
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		if _, err := e.rp.verifier.Verify(context.Background(), forged); err == nil {
			t.Error("an altered ID token verified")
		}
	}},
	{"oidcc-idtoken-unsigned", func(t *testing.T, e *oidccEnv) {
		// authpool never issues alg none: not in discovery (the module is
		// then skipped by the suite), never in a token, and an unsigned
		// ID token offered as id_token_hint signs nobody in.
		b, tok, idt := e.login(t, nil)
		if h, _ := claimsOf(t, rawIDToken(t, tok)); h["alg"] == "none" {
			t.Fatal("an unsigned ID token")
		}
		_, payload := claimsOf(t, rawIDToken(t, tok))
		forged := unsignedJWT(payload)
		if _, err := e.rp.verifier.Verify(context.Background(), forged); err == nil {
			t.Fatal("the relying party's verifier accepted alg none")
		}
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", forged))
		p := newBrowser(t, e.in).get(ar.URL) // a browser without a session
		if p.Location != "" {
			if q := ar.callback(t, e.rp, p); q.Get("code") != "" {
				t.Fatalf("an unsigned id_token_hint signed %s in", idt.Subject)
			}
		}
		// In the signed-in browser it is refused too, not ignored.
		p = b.get(ar.URL)
		if p.Location != "" {
			if q := ar.callback(t, e.rp, p); q.Get("code") != "" {
				t.Fatal("an unsigned id_token_hint was accepted")
			}
		}
	}},
	{"oidcc-userinfo-get", func(t *testing.T, e *oidccEnv) {
		_, tok, idt := e.login(t, []string{"openid", "email"})
		st, h, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken)
		if st != 200 || ui["sub"] != idt.Subject || ui["email"] != e.email || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("userinfo GET: %d %s %v", st, h.Get("Content-Type"), ui)
		}
	}},
	{"oidcc-userinfo-post-header", func(t *testing.T, e *oidccEnv) {
		_, tok, idt := e.login(t, []string{"openid", "email"})
		if st, _, ui := e.userinfoCall(t, http.MethodPost, "header", tok.AccessToken); st != 200 || ui["sub"] != idt.Subject {
			t.Fatalf("userinfo POST with the header: %d %v", st, ui)
		}
	}},
	{"oidcc-userinfo-post-body", func(t *testing.T, e *oidccEnv) {
		_, tok, idt := e.login(t, []string{"openid", "email"})
		if st, _, ui := e.userinfoCall(t, http.MethodPost, "body", tok.AccessToken); st != 200 || ui["sub"] != idt.Subject {
			t.Fatalf("userinfo POST with the token in the body: %d %v", st, ui)
		}
		// A token that is not one is refused the same way.
		if st, _, _ := e.userinfoCall(t, http.MethodPost, "body", tok.AccessToken+"x"); st != http.StatusUnauthorized && st != http.StatusForbidden {
			t.Errorf("userinfo with a broken token: %d", st)
		}
	}},
	{"oidcc-userinfo-rs256", func(t *testing.T, e *oidccEnv) {
		// Signed userinfo needs a client registered with
		// userinfo_signed_response_alg, which authpool's apps do not have:
		// not applicable. The answer is plain JSON and discovery does not
		// offer signed userinfo.
		if v, ok := e.rp.discovery(t)["userinfo_signing_alg_values_supported"]; ok && v != nil {
			if l, _ := v.([]any); len(l) > 0 {
				t.Errorf("discovery offers signed userinfo (%v) that no client can ask for", v)
			}
		}
		_, tok, _ := e.login(t, nil)
		if st, h, _ := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("userinfo: %d %s", st, h.Get("Content-Type"))
		}
	}},
	{"oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T, e *oidccEnv) {
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		ar.URL = withParam(t, ar.URL, "nonce", "")
		code, _ := e.code(t, b, ar)
		tok, err := e.rp.conf.Exchange(context.Background(), code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := e.rp.verifier.Verify(context.Background(), rawIDToken(t, tok))
		if err != nil {
			t.Fatal(err)
		}
		if c := checkIDToken(t, e.rp, idt); c["nonce"] != nil {
			t.Errorf("nonce %v in the ID token of a request without one", c["nonce"])
		}
	}},
	{"oidcc-scope-profile", func(t *testing.T, e *oidccEnv) {
		ui := e.scopeClaims(t, "profile")
		for k, want := range map[string]any{"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "nickname": "ada",
			"preferred_username": "ada", "website": "https://ada.example.com", "gender": "female", "birthdate": "1815-12-10",
			"zoneinfo": "Europe/London", "locale": "en-GB"} {
			if ui[k] != want {
				t.Errorf("%s = %v, want %v", k, ui[k], want)
			}
		}
		if _, ok := ui["updated_at"].(float64); !ok {
			t.Errorf("updated_at %v: must be a number", ui["updated_at"])
		}
		for _, k := range []string{"email", "phone_number", "address"} {
			if _, ok := ui[k]; ok {
				t.Errorf("%s without its scope", k)
			}
		}
	}},
	{"oidcc-scope-email", func(t *testing.T, e *oidccEnv) {
		ui := e.scopeClaims(t, "email")
		if ui["email"] != e.email || ui["email_verified"] != true {
			t.Errorf("email claims %v", ui)
		}
		for _, k := range []string{"name", "phone_number", "address"} {
			if _, ok := ui[k]; ok {
				t.Errorf("%s without its scope", k)
			}
		}
	}},
	{"oidcc-scope-address", func(t *testing.T, e *oidccEnv) {
		ui := e.scopeClaims(t, "address")
		a, _ := ui["address"].(map[string]any)
		if a == nil || a["formatted"] != "12 St James's Square, London" || a["street_address"] != "12 St James's Square" ||
			a["locality"] != "London" || a["region"] != "Westminster" || a["postal_code"] != "SW1Y 4JH" || a["country"] != "GB" {
			t.Errorf("address %v", ui["address"])
		}
	}},
	{"oidcc-scope-phone", func(t *testing.T, e *oidccEnv) {
		ui := e.scopeClaims(t, "phone")
		if ui["phone_number"] != e.phone || ui["phone_number_verified"] != true {
			t.Errorf("phone claims %v", ui)
		}
	}},
	{"oidcc-scope-all", func(t *testing.T, e *oidccEnv) {
		ui := e.scopeClaims(t, "profile", "email", "address", "phone")
		for _, k := range []string{"name", "email", "email_verified", "address", "phone_number", "phone_number_verified"} {
			if _, ok := ui[k]; !ok {
				t.Errorf("no %s with every scope: %v", k, ui)
			}
		}
	}},
	{"oidcc-ensure-other-scope-order-succeeds", func(t *testing.T, e *oidccEnv) {
		_, tok, idt := e.login(t, []string{"email", "openid"})
		checkIDToken(t, e.rp, idt)
		if st, _, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st != 200 || ui["email"] != e.email {
			t.Errorf("userinfo %d %v", st, ui)
		}
	}},
	{"oidcc-display-page", func(t *testing.T, e *oidccEnv) {
		_, _, idt := e.login(t, nil, oauth2.SetAuthURLParam("display", "page"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-display-popup", func(t *testing.T, e *oidccEnv) {
		_, _, idt := e.login(t, nil, oauth2.SetAuthURLParam("display", "popup"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-prompt-login", func(t *testing.T, e *oidccEnv) {
		// A second request with prompt=login must show the sign-in again
		// although the browser has a session; the new auth_time is later.
		b, _, idt := e.login(t, nil)
		first := idClaims(t, idt)["auth_time"].(float64)
		e.in.Clock.Advance(2 * time.Second)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "login"))
		code, shown := e.code(t, b, ar)
		if !shown {
			t.Fatal("prompt=login did not ask the user to sign in again")
		}
		_, idt2 := e.rp.exchange(t, ar, code)
		if second := checkIDToken(t, e.rp, idt2)["auth_time"].(float64); second <= first {
			t.Errorf("auth_time %v after prompt=login, want later than %v", second, first)
		}
	}},
	{"oidcc-prompt-none-not-logged-in", func(t *testing.T, e *oidccEnv) {
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"))
		p := newBrowser(t, e.in).get(ar.URL)
		q := ar.callback(t, e.rp, p) // checks the redirect URI and state
		switch q.Get("error") {
		case "login_required", "interaction_required", "account_selection_required", "consent_required":
		default:
			t.Fatalf("prompt=none without a session: %v", q)
		}
		if q.Get("code") != "" {
			t.Fatal("a code without a session")
		}
	}},
	{"oidcc-prompt-none-logged-in", func(t *testing.T, e *oidccEnv) {
		b, _, idt := e.login(t, nil)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"))
		code, shown := e.code(t, b, ar)
		if shown {
			t.Fatal("prompt=none showed a page")
		}
		_, idt2 := e.rp.exchange(t, ar, code)
		c1, c2 := idClaims(t, idt), checkIDToken(t, e.rp, idt2)
		if idt2.Subject != idt.Subject || c1["auth_time"] != c2["auth_time"] {
			t.Errorf("sub %s auth_time %v, want %s %v", idt2.Subject, c2["auth_time"], idt.Subject, c1["auth_time"])
		}
	}},
	{"oidcc-max-age-1", func(t *testing.T, e *oidccEnv) {
		// After more than a second, max_age=1 demands a new sign-in, and
		// the ID token's auth_time says when it happened.
		b, _, idt := e.login(t, nil)
		first := idClaims(t, idt)["auth_time"].(float64)
		e.in.Clock.Advance(2 * time.Second)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("max_age", "1"))
		code, shown := e.code(t, b, ar)
		if !shown {
			t.Fatal("max_age=1 two seconds after the sign-in did not ask again")
		}
		_, idt2 := e.rp.exchange(t, ar, code)
		at, ok := checkIDToken(t, e.rp, idt2)["auth_time"].(float64)
		if !ok || at <= first || time.Unix(int64(at), 0).Before(e.in.Clock.Now().Add(-time.Second)) {
			t.Errorf("auth_time %v, want the new sign-in (after %v)", at, first)
		}
	}},
	{"oidcc-max-age-10000", func(t *testing.T, e *oidccEnv) {
		b, _, idt := e.login(t, nil)
		first := idClaims(t, idt)["auth_time"]
		e.in.Clock.Advance(2 * time.Second)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("max_age", "10000"))
		code, shown := e.code(t, b, ar)
		if shown {
			t.Fatal("max_age=10000 asked to sign in again")
		}
		_, idt2 := e.rp.exchange(t, ar, code)
		if at := checkIDToken(t, e.rp, idt2)["auth_time"]; at != first {
			t.Errorf("auth_time %v, want the first sign-in's %v", at, first)
		}
	}},
	{"oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T, e *oidccEnv) {
		_, _, idt := e.login(t, nil, oauth2.SetAuthURLParam("extra", "foobar"), oauth2.SetAuthURLParam("x-unknown", strings.Repeat("z", 200)))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-id-token-hint", func(t *testing.T, e *oidccEnv) {
		// prompt=none with the ID token as id_token_hint answers for the
		// same user at once.
		b, tok, idt := e.login(t, nil)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", rawIDToken(t, tok)))
		code, shown := e.code(t, b, ar)
		if shown {
			t.Fatal("a page was shown")
		}
		if _, idt2 := e.rp.exchange(t, ar, code); idt2.Subject != idt.Subject {
			t.Errorf("sub %s, want %s", idt2.Subject, idt.Subject)
		}
		// The hint of another user does not answer for this session.
		other := "hint-other@example.com"
		must[*client.User](t)(e.in.admin().CreateUser(context.Background(), "default", client.CreateUserRequest{Email: other, Password: oidcPassword}))
		ob := newBrowser(t, e.in)
		oar := e.rp.authURL(nil)
		oq := oar.callback(t, e.rp, ob.signIn(ob.get(oar.URL), other, oidcPassword))
		otok, _ := e.rp.exchange(t, oar, oq.Get("code"))
		ar = e.rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", rawIDToken(t, otok)))
		q := ar.callback(t, e.rp, b.get(ar.URL))
		if q.Get("code") != "" || q.Get("error") == "" {
			t.Fatalf("another user's id_token_hint: %v", q)
		}
	}},
	{"oidcc-login-hint", func(t *testing.T, e *oidccEnv) {
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("login_hint", e.email))
		p := b.get(ar.URL)
		if f := p.form(t, "password-form"); f.Fields.Get("identifier") != e.email {
			t.Errorf("the sign-in form is not filled with the login_hint: %q", f.Fields.Get("identifier"))
		}
		q := ar.callback(t, e.rp, b.signIn(p, e.email, oidcPassword))
		_, idt := e.rp.exchange(t, ar, q.Get("code"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-ui-locales", func(t *testing.T, e *oidccEnv) {
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil, oauth2.SetAuthURLParam("ui_locales", "zh-CN"))
		p := b.get(ar.URL)
		if !strings.Contains(p.Body, `lang="zh-CN"`) {
			t.Errorf("ui_locales=zh-CN not honoured")
		}
		q := ar.callback(t, e.rp, b.signIn(p, e.email, oidcPassword))
		e.rp.exchange(t, ar, q.Get("code"))
		// A locale authpool does not speak is not an error.
		_, _, idt := e.login(t, nil, oauth2.SetAuthURLParam("ui_locales", "se tlh"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-claims-locales", func(t *testing.T, e *oidccEnv) {
		_, tok, idt := e.login(t, []string{"openid", "profile"}, oauth2.SetAuthURLParam("claims_locales", "de fr"))
		checkIDToken(t, e.rp, idt)
		if st, _, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st != 200 || ui["name"] != "Ada Lovelace" {
			t.Errorf("userinfo %d %v", st, ui)
		}
	}},
	{"oidcc-ensure-request-with-acr-values-succeeds", func(t *testing.T, e *oidccEnv) {
		_, _, idt := e.login(t, nil, oauth2.SetAuthURLParam("acr_values", "1 2"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-codereuse", func(t *testing.T, e *oidccEnv) {
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		code, _ := e.code(t, b, ar)
		e.rp.exchange(t, ar, code)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.rp.conf.RedirectURL}, "code_verifier": {ar.Verifier}}
		if st, out := e.rp.tokenCall(t, e.rp.endpoint(t, "token_endpoint"), form, e.rp.app.ID, e.rp.app.ClientSecret); st != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("second use of a code: %d %v", st, out)
		}
	}},
	{"oidcc-codereuse-30seconds", func(t *testing.T, e *oidccEnv) {
		// The second use, 30 s later, fails, and the access token issued
		// from the first is revoked (RFC 6749 §4.1.2).
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		code, _ := e.code(t, b, ar)
		tok, _ := e.rp.exchange(t, ar, code)
		if st, _, _ := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st != 200 {
			t.Fatalf("userinfo before the reuse: %d", st)
		}
		e.in.Clock.Advance(30 * time.Second)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.rp.conf.RedirectURL}, "code_verifier": {ar.Verifier}}
		if st, out := e.rp.tokenCall(t, e.rp.endpoint(t, "token_endpoint"), form, e.rp.app.ID, e.rp.app.ClientSecret); st != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("second use of a code after 30 s: %d %v", st, out)
		}
		if st, _, _ := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st == 200 {
			t.Error("the access token from the first use still works at userinfo")
		}
	}},
	{"oidcc-ensure-registered-redirect-uri", func(t *testing.T, e *oidccEnv) {
		ar := e.rp.authURL(nil)
		for _, bad := range []string{"https://app.example.com/callback/../evil", "https://app.example.com/callbackx",
			"https://evil.example/callback", "https://app.example.com/callback?x=1", "HTTPS://app.example.com/callback"} {
			noRedirectToApp(t, newBrowser(t, e.in).get(withParam(t, ar.URL, "redirect_uri", bad)))
		}
	}},
	{"oidcc-ensure-redirect-uri-in-authorization-request", func(t *testing.T, e *oidccEnv) {
		// Without redirect_uri the OP must not fall back on the registered
		// one: an error shown to the user.
		ar := e.rp.authURL(nil)
		noRedirectToApp(t, newBrowser(t, e.in).get(withParam(t, ar.URL, "redirect_uri", "")))
	}},
	{"oidcc-ensure-post-request-succeeds", func(t *testing.T, e *oidccEnv) {
		// The authorization request as a form POST (OIDC Core 3.1.2.1).
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		u, _ := url.Parse(ar.URL)
		params := u.Query()
		u.RawQuery = ""
		p := b.post(u.String(), params)
		if p.Location == "" {
			p = b.signIn(p, e.email, oidcPassword)
		}
		q := ar.callback(t, e.rp, p)
		_, idt := e.rp.exchange(t, ar, q.Get("code"))
		checkIDToken(t, e.rp, idt)
	}},
	{"oidcc-server-client-secret-post", func(t *testing.T, e *oidccEnv) {
		e.rp.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		defer func() { e.rp.conf.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect }()
		_, tok, idt := e.login(t, nil)
		checkIDToken(t, e.rp, idt)
		// A wrong secret in the body is refused.
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		code, _ := e.code(t, b, ar)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.rp.conf.RedirectURL},
			"code_verifier": {ar.Verifier}, "client_id": {e.rp.app.ID}, "client_secret": {e.rp.app.ClientSecret + "x"}}
		if st, out := e.rp.tokenCall(t, e.rp.endpoint(t, "token_endpoint"), form, "", ""); st != 401 && st != 400 || out["access_token"] != nil {
			t.Errorf("wrong client_secret in the body: %d %v", st, out)
		}
		// Introspection takes client_secret_post too (discovery offers it,
		// and Authing's SDK uses it by default); a wrong secret in the body
		// is refused; the form is bounded (64 KiB: at the bound it is read,
		// past it refused).
		intro := e.rp.endpoint(t, "introspection_endpoint")
		post := func(form url.Values, pad int) (int, map[string]any) {
			body := form.Encode()
			if pad > 0 {
				body += "&pad=" + strings.Repeat("a", pad-len(body)-len("&pad="))
			}
			resp, err := http.Post(intro, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		creds := url.Values{"token": {tok.AccessToken}, "client_id": {e.rp.app.ID}, "client_secret": {e.rp.app.ClientSecret}}
		if st, out := post(creds, 0); st != 200 || out["active"] != true {
			t.Errorf("introspection with client_secret_post: %d %v", st, out)
		}
		if st, out := post(creds, 64<<10); st != 200 || out["active"] != true {
			t.Errorf("introspection with a 64 KiB form: %d %v", st, out)
		}
		if st, out := post(creds, 64<<10+1); st != 400 || out["active"] != nil {
			t.Errorf("introspection with a form past 64 KiB: %d %v", st, out)
		}
		wrong := url.Values{"token": {tok.AccessToken}, "client_id": {e.rp.app.ID}, "client_secret": {e.rp.app.ClientSecret + "x"}}
		if st, out := post(wrong, 0); st != 401 || out["active"] != nil {
			t.Errorf("introspection with a wrong client_secret in the body: %d %v", st, out)
		}
		if st, out := post(url.Values{"token": {tok.AccessToken}, "client_id": {e.rp.app.ID}}, 0); st != 401 || out["active"] != nil {
			t.Errorf("introspection without a secret: %d %v", st, out)
		}
	}},
	{"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", func(t *testing.T, e *oidccEnv) {
		// authpool does not take request objects; discovery says so and a
		// request with one is answered request_not_supported (OIDC Core
		// 6.1), with the state, at the registered redirect URI.
		d := e.rp.discovery(t)
		if d["request_parameter_supported"] == true {
			t.Errorf("request_parameter_supported is true")
		}
		ar := e.rp.authURL(nil)
		obj := unsignedJWT(map[string]any{"iss": e.rp.app.ID, "aud": e.rp.issuer, "client_id": e.rp.app.ID, "response_type": "code",
			"scope": "openid", "redirect_uri": e.rp.conf.RedirectURL, "state": ar.State, "nonce": ar.Nonce})
		q := ar.callback(t, e.rp, newBrowser(t, e.in).get(withParam(t, ar.URL, "request", obj)))
		if q.Get("error") != "request_not_supported" || q.Get("code") != "" {
			t.Fatalf("a request object: %v", q)
		}
	}},
	{"oidcc-ensure-request-object-with-redirect-uri", func(t *testing.T, e *oidccEnv) {
		// Applies to OPs that take request objects; authpool refuses them,
		// and never follows a redirect_uri found inside one.
		ar := e.rp.authURL(nil)
		obj := unsignedJWT(map[string]any{"iss": e.rp.app.ID, "aud": e.rp.issuer, "client_id": e.rp.app.ID, "response_type": "code",
			"scope": "openid", "redirect_uri": "https://evil.example/cb", "state": ar.State})
		p := newBrowser(t, e.in).get(withParam(t, ar.URL, "request", obj))
		if strings.HasPrefix(p.Location, "https://evil.example") {
			t.Fatalf("followed the request object's redirect_uri: %s", p.Location)
		}
		if p.Location != "" {
			if q := ar.callback(t, e.rp, p); q.Get("code") != "" {
				t.Fatalf("a code for a request object: %v", q)
			}
		}
	}},
	{"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", func(t *testing.T, e *oidccEnv) {
		// The suite runs this module for dynamically registered clients
		// only; authpool's clients are static. Discovery does not offer
		// request_uri, and authpool never fetches one.
		if v, ok := e.rp.discovery(t)["request_uri_parameter_supported"]; ok && v != false {
			t.Errorf("request_uri_parameter_supported %v", v)
		}
		// A request that names one anyway is refused with
		// request_uri_not_supported (OIDC Core 6.2) at the registered
		// redirect URI, with its state, and nothing is fetched.
		fetched := make(chan struct{}, 1)
		obj := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched <- struct{}{} }))
		defer obj.Close()
		ar := e.rp.authURL(nil)
		q := ar.callback(t, e.rp, newBrowser(t, e.in).get(withParam(t, ar.URL, "request_uri", obj.URL+"/req.jwt")))
		if q.Get("error") != "request_uri_not_supported" || q.Get("code") != "" {
			t.Fatalf("a request_uri: %v", q)
		}
		select {
		case <-fetched:
			t.Error("the request_uri was fetched")
		default:
		}
	}},
	{"discovery-acr-values", func(t *testing.T, e *oidccEnv) {
		// The acr_values authpool honours (they ask for MFA) are listed.
		got, _ := e.rp.discovery(t)["acr_values_supported"].([]any)
		if len(got) != 2 || got[0] != "mfa" || got[1] != "http://schemas.openid.net/pape/policies/2007/06/multi-factor" {
			t.Errorf("acr_values_supported = %v", got)
		}
	}},
	{"oidcc-claims-essential", func(t *testing.T, e *oidccEnv) {
		// The claims parameter asking for name as essential: the request
		// succeeds (the OP may ignore the parameter) and userinfo answers.
		_, tok, idt := e.login(t, []string{"openid", "profile"}, oauth2.SetAuthURLParam("claims", `{"userinfo":{"name":{"essential":true}}}`))
		checkIDToken(t, e.rp, idt)
		if st, _, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken); st != 200 || ui["sub"] != idt.Subject || ui["name"] != "Ada Lovelace" {
			t.Errorf("userinfo %d %v", st, ui)
		}
	}},
	{"oidcc-refresh-token", func(t *testing.T, e *oidccEnv) {
		// offline_access gives a refresh token; the refresh answers a new
		// access token and an ID token with the same iss, sub, aud and
		// auth_time; another client cannot use it.
		_, tok, idt := e.login(t, []string{"openid", "offline_access"})
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		tokenURL := e.rp.endpoint(t, "token_endpoint")
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		if st, out := e.rp2.tokenCall(t, tokenURL, refresh, e.rp2.app.ID, e.rp2.app.ClientSecret); st < 400 || out["access_token"] != nil {
			t.Fatalf("another client's refresh: %d %v", st, out)
		}
		st, out := e.rp.tokenCall(t, tokenURL, refresh, e.rp.app.ID, e.rp.app.ClientSecret)
		at, _ := out["access_token"].(string)
		raw, _ := out["id_token"].(string)
		if st != 200 || at == "" || at == tok.AccessToken {
			t.Fatalf("refresh: %d %v", st, out)
		}
		if raw != "" {
			idt2, err := e.rp.verifier.Verify(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			c1, c2 := idClaims(t, idt), checkIDToken(t, e.rp, idt2)
			for _, k := range []string{"iss", "sub", "auth_time"} {
				if c1[k] != c2[k] {
					t.Errorf("%s %v after refresh, was %v", k, c2[k], c1[k])
				}
			}
		}
		if st, _, ui := e.userinfoCall(t, http.MethodGet, "header", at); st != 200 || ui["sub"] != idt.Subject {
			t.Errorf("userinfo with the refreshed token: %d %v", st, ui)
		}
	}},
	{"oidcc-ensure-request-with-valid-pkce-succeeds", func(t *testing.T, e *oidccEnv) {
		b := newBrowser(t, e.in)
		ar := e.rp.authURL(nil)
		if !strings.Contains(ar.URL, "code_challenge_method=S256") {
			t.Fatal("the request carries no S256 challenge")
		}
		code, _ := e.code(t, b, ar)
		_, idt := e.rp.exchange(t, ar, code)
		checkIDToken(t, e.rp, idt)
	}},
}

// scopeClaims signs in with openid and the scopes, checks the ID token, and
// returns what userinfo answers.
func (e *oidccEnv) scopeClaims(t *testing.T, scopes ...string) map[string]any {
	t.Helper()
	_, tok, idt := e.login(t, append([]string{"openid"}, scopes...))
	checkIDToken(t, e.rp, idt)
	st, _, ui := e.userinfoCall(t, http.MethodGet, "header", tok.AccessToken)
	if st != 200 || ui["sub"] != idt.Subject {
		t.Fatalf("userinfo: %d %v", st, ui)
	}
	return ui
}

// TestOIDCC runs every module on every backend: TestOIDCC/{module}/{store}.
func TestOIDCC(t *testing.T) {
	urls := storetest.DatabaseURLs(t)
	names := make([]string, 0, len(urls))
	for n := range urls {
		names = append(names, n)
	}
	slices.Sort(names)
	envs := map[string]*oidccEnv{}
	for _, n := range names {
		envs[n] = newOIDCCEnv(t, urls[n])
	}
	for _, m := range oidccModules {
		t.Run(m.name, func(t *testing.T) {
			for _, n := range names {
				t.Run(n, func(t *testing.T) { m.run(t, envs[n]) })
			}
		})
	}
}
