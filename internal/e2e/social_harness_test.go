package e2e

// The social sign-in harness (docs/SOCIAL.md): a second authpool server is
// the upstream OpenID provider of the server under test, a browser (cookie
// jar) walks authorize -> upstream sign-in -> callback -> the app's
// redirect URI, and the app's side is the Go SDK's ExchangeSocialCode.

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// socialAppRedirect is the app's redirect URI: the browser stops there.
const socialAppRedirect = "https://app.example.com/social/cb"

const socialPassword = "upstream-pass-1234"

type socialSetup struct {
	up, down *instance
	upApp    *client.App
}

// newSocial starts the upstream (its own SQLite file: it stands for a
// provider elsewhere) and the server under test over dbURL, registers
// the server's callback at the upstream, an app with socialAppRedirect
// and the oidc connector "upstream" on the server.
func newSocial(t *testing.T, dbURL string) *socialSetup {
	t.Helper()
	ctx := context.Background()
	up := start(t, adminConfig("sqlite:"+filepath.Join(t.TempDir(), "upstream.db")), nil)
	down := start(t, adminConfig(dbURL), nil)
	upApp := must[*client.App](t)(up.admin().CreateApp(ctx, "default", client.CreateAppRequest{
		// A native app: the only kind the upstream lets redirect to http
		// on a loopback host; a public client, so PKCE alone binds the code.
		Name: "downstream", Type: client.AppTypeNative, FirstParty: true,
		RedirectURIs: []string{down.URL + "/api/v1/social/callback"}, Scopes: []string{"openid", "profile", "email"},
	}))
	must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{
		Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect},
	}))
	c := must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
		ID: "upstream", Type: client.ConnectorOIDC, Label: "Upstream", Issuer: oidcIssuer(up, "default"),
		ClientID: upApp.ID, ClientSecret: upApp.ClientSecret, Scopes: []string{"openid", "email", "profile"},
	}))
	if c.HasSecret != (upApp.ClientSecret != "") || c.CallbackURL != down.URL+"/api/v1/social/callback" {
		t.Fatalf("connector as created: %+v", c)
	}
	return &socialSetup{up: up, down: down, upApp: upApp}
}

// upstreamUser registers a user at the upstream, its email verified or
// not, and returns its id there (the upstream subject).
func (s *socialSetup) upstreamUser(t *testing.T, email string, verified bool) string {
	t.Helper()
	ctx := context.Background()
	u := must[*client.User](t)(s.up.client().RegisterByEmail(ctx, email, socialPassword, nil, nil))
	if verified {
		must[*client.User](t)(s.up.admin().UpdateUser(ctx, "default", u.ID, client.UpdateUserRequest{EmailVerified: &verified}))
	}
	return u.ID
}

// socialBrowser is a user's browser across both servers: it follows
// redirects until one leaves for the app (or, with stopAtCallback, for
// the server's social callback).
type socialBrowser struct {
	*browser
	stopAtCallback bool
	// stopAtHost stops at a redirect to this host (the upstream's).
	stopAtHost string
}

func newSocialBrowser(t *testing.T, s *socialSetup) *socialBrowser {
	jar, _ := cookiejar.New(nil)
	sb := &socialBrowser{}
	sb.browser = &browser{t: t, in: s.down, http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "app.example.com" || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			if sb.stopAtCallback && req.URL.Path == "/api/v1/social/callback" || req.URL.Host == sb.stopAtHost {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
	return sb
}

// toUpstream starts a sign-in and signs in at the upstream; it returns
// the last answer (a redirect to the app, or to the callback with
// stopAtCallback).
func (b *socialBrowser) toUpstream(s *socialSetup, email, state string) *page {
	b.t.Helper()
	p := b.get(s.down.client().BuildSocialAuthorizeURL("upstream", socialAppRedirect, state))
	if p.Location == "" && strings.Contains(p.Body, "password-form") {
		p = b.signIn(p, email, socialPassword)
	}
	return p
}

// atApp reads the redirect to the app: its query (code, state).
func atApp(t *testing.T, p *page) url.Values {
	t.Helper()
	if p.Location == "" {
		t.Fatalf("no redirect to the app (status %d at %s):\n%s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != socialAppRedirect {
		t.Fatalf("redirected to %s, want %s", p.Location, socialAppRedirect)
	}
	return u.Query()
}

// signIn runs a whole native sign-in in a fresh browser and returns the
// app's code.
func (s *socialSetup) signIn(t *testing.T, email string) string {
	t.Helper()
	b := newSocialBrowser(t, s)
	q := atApp(t, b.toUpstream(s, email, "app-state-1"))
	if q.Get("state") != "app-state-1" || q.Get("code") == "" {
		t.Fatalf("at the app: %v", q)
	}
	return q.Get("code")
}

// exchange is the app's side: the SDK redeems the code.
func (s *socialSetup) exchange(t *testing.T, code string) (*client.AuthenticationClient, *client.User, error) {
	t.Helper()
	c := s.down.client()
	u, err := c.ExchangeSocialCode(context.Background(), code, socialAppRedirect)
	return c, u, err
}

// userCount is how many users the server's default pool holds.
func (s *socialSetup) userCount(t *testing.T) int {
	t.Helper()
	l := must[*client.UserList](t)(s.down.admin().ListUsers(context.Background(), "default", client.ListUsersOptions{}))
	return l.Total
}
