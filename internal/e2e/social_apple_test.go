package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/authpool/authpool/client"
)

// Apple's identifiers in the tests: the services id (client id), the team
// and the key id of the .p8 key.
const (
	appleServicesID = "com.example.signin"
	appleTeamID     = "TEAM123ABC"
	appleKeyID      = "KEY456DEF"
	appleSubject    = "001234.8f3c1e2d9b7a4c6e.0420"
)

// p8 is an Apple-style .p8 key: PKCS #8 PEM of a P-256 key.
func p8(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// appleStandIn answers as Sign in with Apple documents: discovery, a JWKS,
// an authorize endpoint that (with response_mode=form_post) answers a page
// whose form posts state, code and, the first time only, "user" to the
// redirect URI; a token endpoint that takes the client secret as an ES256
// JWT, VERIFIED here with the team's public key and Apple's rules (kid,
// iss = team, sub = services id, aud = https://appleid.apple.com, iat and
// exp within 6 months), and answers an RS256 ID token with the email and
// email_verified as the text "true".
type appleStandIn struct {
	*httptest.Server
	mu       sync.Mutex
	nonces   map[string]string // code -> nonce of its authorization
	seenUser bool
	// secrets counts client secrets checked and accepted.
	accepted int
}

func newAppleStandIn(t *testing.T, teamKey *ecdsa.PublicKey) *appleStandIn {
	signer, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &appleStandIn{nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": a.URL, "authorization_endpoint": a.URL + "/auth/authorize", "token_endpoint": a.URL + "/auth/token",
			"revocation_endpoint": a.URL + "/auth/revoke", "jwks_uri": a.URL + "/auth/keys",
			"response_types_supported": []string{"code"}, "response_modes_supported": []string{"query", "fragment", "form_post"},
			"subject_types_supported": []string{"pairwise"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported": []string{"openid", "email", "name"}, "token_endpoint_auth_methods_supported": []string{"client_secret_post"},
			"claims_supported": []string{"aud", "email", "email_verified", "exp", "iat", "is_private_email", "iss", "nonce", "nonce_supported", "real_user_status", "sub", "transfer_sub"},
		})
	})
	mux.HandleFunc("GET /auth/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &signer.PublicKey, KeyID: "W6WcOKB", Algorithm: "RS256", Use: "sig"}}})
	})
	form := template.Must(template.New("").Parse(`<html><body onload="document.forms[0].submit()">` +
		`<form id="apple-form" method="post" action="{{.R}}"><input type="hidden" name="state" value="{{.S}}">` +
		`<input type="hidden" name="code" value="{{.C}}">{{if .U}}<input type="hidden" name="user" value="{{.U}}">{{end}}</form></body></html>`))
	mux.HandleFunc("GET /auth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		scopes := strings.Fields(q.Get("scope"))
		if q.Get("client_id") != appleServicesID || q.Get("response_type") != "code" || q.Get("response_mode") != "form_post" ||
			q.Get("nonce") == "" || len(scopes) != 3 || scopes[0] != "openid" || scopes[1] != "name" || scopes[2] != "email" {
			http.Error(w, "invalid_request: "+r.URL.RawQuery, 400)
			return
		}
		code := "c" + rand.Text()
		a.mu.Lock()
		a.nonces[code] = q.Get("nonce")
		user := ""
		if !a.seenUser { // the name only at the first authorization
			a.seenUser = true
			// The "user" field is unsigned: its email must not be taken.
			user = `{"name":{"firstName":"Jane","lastName":"Appleseed"},"email":"someone-else@example.com"}`
		}
		a.mu.Unlock()
		_ = form.Execute(w, map[string]string{"R": q.Get("redirect_uri"), "S": q.Get("state"), "C": code, "U": user})
	})
	mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = r.ParseForm()
		fail := func(e string) { w.WriteHeader(400); _, _ = w.Write([]byte(`{"error":"` + e + `"}`)) }
		if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_id") != appleServicesID {
			fail("invalid_client")
			return
		}
		now := time.Now()
		tok, err := jwt.Parse(r.PostForm.Get("client_secret"), func(tk *jwt.Token) (any, error) {
			if tk.Header["kid"] != appleKeyID {
				return nil, jwt.ErrTokenUnverifiable
			}
			return teamKey, nil
		}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(appleTeamID), jwt.WithSubject(appleServicesID),
			jwt.WithAudience("https://appleid.apple.com"), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return now }))
		if err != nil {
			fail("invalid_client")
			return
		}
		iat, _ := tok.Claims.GetIssuedAt()
		exp, _ := tok.Claims.GetExpirationTime()
		if iat == nil || exp.Sub(iat.Time) > 15777000*time.Second || exp.Before(iat.Time) {
			fail("invalid_client")
			return
		}
		a.mu.Lock()
		nonce, ok := a.nonces[r.PostForm.Get("code")]
		delete(a.nonces, r.PostForm.Get("code"))
		a.accepted++
		a.mu.Unlock()
		if !ok || r.PostForm.Get("grant_type") != "authorization_code" {
			fail("invalid_grant")
			return
		}
		idt := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": a.URL, "aud": appleServicesID, "exp": now.Add(10 * time.Minute).Unix(), "iat": now.Unix(),
			"sub": appleSubject, "nonce": nonce, "c_hash": "x", "email": "jane@privaterelay.appleid.com",
			"email_verified": "true", "is_private_email": "true", "auth_time": now.Unix(), "nonce_supported": true,
		})
		idt.Header["kid"] = "W6WcOKB"
		raw, _ := idt.SignedString(signer)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "a" + rand.Text(), "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r" + rand.Text(), "id_token": raw})
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// TestSocialApple: the apple preset against the stand-in, end to end: the
// .p8 key is checked when set and never shown; the binding cookie is
// SameSite=None; Secure (Apple posts back cross-site); the callback takes
// the POST (with the cross-site headers a browser sends); the account's
// email is the ID token's (verified: "true" as text), never the unsigned
// "user" field's, whose name is kept from the first sign-in; a POST
// callback from another browser is 2801; a secret signed with another key
// is refused by "Apple" (2802) and creates nobody.
func TestSocialApple(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		down := start(t, adminConfig(dbURL), nil)
		must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect}}))
		s := &socialSetup{down: down}
		key, keyPEM := p8(t)
		apple := newAppleStandIn(t, &key.PublicKey)

		req := client.CreateConnectorRequest{ID: "apple", Type: client.ConnectorApple, Label: "Apple", Issuer: apple.URL, ClientID: appleServicesID,
			TeamID: appleTeamID, KeyID: appleKeyID, ClientSecret: keyPEM}
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
		for name, bad := range map[string]func(r *client.CreateConnectorRequest){
			"no team id": func(r *client.CreateConnectorRequest) { r.TeamID = "" },
			"no key id":  func(r *client.CreateConnectorRequest) { r.KeyID = "" },
			"no key":     func(r *client.CreateConnectorRequest) { r.ClientSecret = "" },
			"not a key": func(r *client.CreateConnectorRequest) {
				r.ClientSecret = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
			},
			"an RSA key": func(r *client.CreateConnectorRequest) {
				r.ClientSecret = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}))
			},
			"a P-384 key": func(r *client.CreateConnectorRequest) {
				r.ClientSecret = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER}))
			},
			"team id path": func(r *client.CreateConnectorRequest) { r.TeamID = "../x" },
		} {
			r := req
			bad(&r)
			if _, err := down.admin().CreateConnector(ctx, "default", r); err == nil {
				t.Fatalf("%s: created", name)
			} else if ce := wantCode(t, err, 1003); strings.Contains(ce.Message, "PRIVATE KEY") {
				t.Fatalf("%s: the answer shows the key: %s", name, ce.Message)
			}
		}
		c := must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", req))
		if b, _ := json.Marshal(c); !c.HasSecret || strings.Contains(string(b), "PRIVATE") || c.TeamID != appleTeamID || c.KeyID != appleKeyID {
			t.Fatalf("connector as created: %s", b)
		}
		badUpdate := "not a key"
		_, err := down.admin().UpdateConnector(ctx, "default", "apple", client.UpdateConnectorRequest{ClientSecret: &badUpdate})
		wantCode(t, err, 1003)

		users := s.userCount(t)
		// toApple starts a sign-in and returns Apple's page (the form that
		// posts back), checking the binding cookie.
		toApple := func(b *socialBrowser, id string) *page {
			t.Helper()
			b.stopAtHost = strings.TrimPrefix(apple.URL, "http://")
			p := b.get(down.client().BuildSocialAuthorizeURL(id, socialAppRedirect, "st"))
			ck := p.Header.Get("Set-Cookie")
			if !strings.Contains(ck, "SameSite=None") || !strings.Contains(ck, "Secure") || !strings.Contains(ck, "HttpOnly") {
				t.Fatalf("binding cookie: %q", ck)
			}
			if !strings.HasPrefix(p.Location, apple.URL+"/auth/authorize?") {
				t.Fatalf("not sent to apple: %d %q %s", p.Status, p.Location, p.Body)
			}
			return b.get(p.Location)
		}
		post := func(b *socialBrowser, p *page) *page {
			t.Helper()
			f := p.form(t, "apple-form")
			r, _ := http.NewRequest(http.MethodPost, f.Action, strings.NewReader(f.Fields.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "https://appleid.apple.com")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return b.do(r)
		}

		b := newSocialBrowser(t, s)
		q := atApp(t, post(b, toApple(b, "apple")))
		cl, u, err := s.exchange(t, q.Get("code"))
		if err != nil || u.Email != "jane@privaterelay.appleid.com" || !u.EmailVerified || u.Name != "Jane Appleseed" || q.Get("state") != "st" {
			t.Fatalf("apple sign-in: %v %+v %v", err, u, q)
		}
		ids := must[[]client.Identity](t)(cl.ListIdentities(ctx))
		if len(ids) != 1 || ids[0].Provider != "apple" || ids[0].Subject != appleSubject {
			t.Fatalf("apple identity: %+v", ids)
		}
		if b, _ := json.Marshal(ids); strings.Contains(string(b), "someone-else") {
			t.Fatalf("the unsigned user field's email was kept: %s", b)
		}

		// Again (Apple sends no name now): the same user, the name kept.
		b = newSocialBrowser(t, s)
		_, u2, err := s.exchange(t, atApp(t, post(b, toApple(b, "apple"))).Get("code"))
		if err != nil || u2.ID != u.ID || u2.Name != "Jane Appleseed" {
			t.Fatalf("second apple sign-in: %v %+v", err, u2)
		}

		// Apple's page posted from another browser (no binding cookie):
		// refused, and the state is spent for the right browser too.
		b = newSocialBrowser(t, s)
		applePage := toApple(b, "apple")
		other := newSocialBrowser(t, s)
		if p := post(other, applePage); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "2801") {
			t.Fatalf("callback from another browser: %d %s", p.Status, p.Body)
		}
		if p := post(b, applePage); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "2801") {
			t.Fatalf("callback after the state was spent: %d %s", p.Status, p.Body)
		}
		// Apple's answer posted twice at once by the right browser: one
		// sign-in, the other 2801.
		b = newSocialBrowser(t, s)
		applePage = toApple(b, "apple")
		var wg sync.WaitGroup
		results := make([]*page, 2)
		for i := range results {
			wg.Go(func() { results[i] = post(b, applePage) })
		}
		wg.Wait()
		if a, z := results[0].Location != "", results[1].Location != ""; a == z {
			t.Fatalf("two posts of one answer: %d %q, %d %q", results[0].Status, results[0].Location, results[1].Status, results[1].Location)
		}
		// An oversized body is refused before anything is read.
		big := url.Values{"state": {"x"}, "user": {strings.Repeat("a", 100<<10)}}
		if p := b.post(down.URL+"/api/v1/social/callback", big); p.Status != http.StatusBadRequest {
			t.Fatalf("oversized callback: %d", p.Status)
		}

		// A key Apple does not know for this team: Apple refuses the
		// client secret; 2802, nobody created.
		_, otherPEM := p8(t)
		bad := req
		bad.ID, bad.ClientSecret = "apple-other-key", otherPEM
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", bad))
		b = newSocialBrowser(t, s)
		_, _, err = s.exchange(t, atApp(t, post(b, toApple(b, "apple-other-key"))).Get("code"))
		if ce := wantCode(t, err, 2802); ce.Reason != "upstream_refused" {
			t.Fatalf("secret signed with another key: %+v", ce)
		}
		if got := s.userCount(t); got != users+1 {
			t.Fatalf("users %d, want %d", got, users+1)
		}
	})
}

// TestSocialAppleHosted: on the hosted sign-in page the Apple button sets
// the SameSite=None binding cookie too, and Apple's cross-site POST to the
// callback continues the OpenID authorization to the relying party with
// an ID token for the user Apple's identity made.
func TestSocialAppleHosted(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		down := start(t, adminConfig(dbURL), nil)
		s := &socialSetup{down: down}
		key, keyPEM := p8(t)
		apple := newAppleStandIn(t, &key.PublicKey)
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{ID: "apple", Type: "apple", Label: "Apple",
			Issuer: apple.URL, ClientID: appleServicesID, TeamID: appleTeamID, KeyID: appleKeyID, ClientSecret: keyPEM}))
		rp := newRP(t, down, "", client.CreateAppRequest{Name: "RP", FirstParty: true})

		b := newSocialBrowser(t, s)
		b.stopAtHost = strings.TrimPrefix(apple.URL, "http://")
		ar := rp.authURL(nil)
		p := b.get(ar.URL)
		p = b.submit(p, p.form(t, "social-form"), map[string]string{"connector": "apple"})
		if ck := p.Header.Get("Set-Cookie"); !strings.Contains(ck, "SameSite=None") || !strings.Contains(ck, "Secure") || !strings.HasPrefix(p.Location, apple.URL+"/auth/authorize?") {
			t.Fatalf("hosted apple start: %q %q", ck, p.Location)
		}
		p = b.get(p.Location)
		f := p.form(t, "apple-form")
		r, _ := http.NewRequest(http.MethodPost, f.Action, strings.NewReader(f.Fields.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "https://appleid.apple.com")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		q := ar.callback(t, rp, b.do(r))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		u := must[*client.User](t)(down.admin().GetUser(ctx, "default", idt.Subject))
		if u.Email != "jane@privaterelay.appleid.com" || u.Name != "Jane Appleseed" || len(u.Identities) != 1 || u.Identities[0].Subject != appleSubject {
			t.Fatalf("the ID token's user: %+v", u)
		}
	})
}
