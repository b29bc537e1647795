package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestAuthingJSSDKOIDC drives the OIDC helpers of the unmodified official
// authing-js-sdk (buildAuthorizeUrl, getAccessTokenByCode,
// getUserInfoByAccessToken, getNewAccessTokenByRefreshToken,
// introspectToken, revokeToken, buildLogoutUrl,
// getAccessTokenByClientCredentials) against /oidc of a real server on
// every backend, by running compat/authing-js/test-oidc: the SDK changes
// only appHost. The user's browser is the Go harness's (cookie jar, the
// hosted sign-in form filled as a user would), reached through a control
// endpoint: the suite hands it an authorization or logout URL the SDK
// built and gets back where the browser was sent. Runs when
// AUTHPOOL_COMPAT_JS=1, as TestAuthingJSSDK.
func TestAuthingJSSDKOIDC(t *testing.T) {
	if os.Getenv("AUTHPOOL_COMPAT_JS") != "1" {
		t.Skip("set AUTHPOOL_COMPAT_JS=1 (after `npm ci` in compat/authing-js) to run the official authing-js-sdk's OIDC helpers against the server")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "compat", "authing-js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "authing-js-sdk", "package.json")); err != nil {
		t.Fatalf("authing-js-sdk is not installed: run `npm ci` in %s (%v)", dir, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run compat/authing-js: %v", err)
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "js-oidc@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, &client.RegisterProfile{Nickname: "JS"}, nil))
		web := must[*client.App](t)(in.admin().CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Authing JS", Type: client.AppTypeWeb, FirstParty: true,
			RedirectURIs: []string{"https://app.example.com/callback"}, PostLogoutRedirectURIs: []string{"https://app.example.com/bye"},
			Scopes: []string{"openid", "profile", "email", "phone", "address", "offline_access"},
		}))
		machine := must[*client.App](t)(in.admin().CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Authing JS M2M", Type: client.AppTypeMachine, Scopes: []string{"reports:read"},
		}))

		ctl := httptest.NewServer(oidcBrowserControl(t, in, email))
		defer ctl.Close()
		cctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, node, "--test", "--test-concurrency=1", "--test-reporter=tap", "test-oidc/")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "AUTHPOOL_URL="+in.URL, "AUTHPOOL_CONTROL_URL="+ctl.URL, "NO_COLOR=1",
			"AUTHPOOL_OIDC_APP_ID="+web.ID, "AUTHPOOL_OIDC_APP_SECRET="+web.ClientSecret,
			"AUTHPOOL_OIDC_REDIRECT_URI="+web.RedirectURIs[0], "AUTHPOOL_OIDC_LOGOUT_URI="+web.PostLogoutRedirectURIs[0],
			"AUTHPOOL_OIDC_M2M_ID="+machine.ID, "AUTHPOOL_OIDC_M2M_SECRET="+machine.ClientSecret, "AUTHPOOL_OIDC_EMAIL="+email)
		out, err := cmd.CombinedOutput()
		t.Logf("node --test output:\n%s", out)
		if err != nil {
			t.Fatalf("the authing-js-sdk OIDC suite failed: %v", err)
		}
		count := func(what string) int {
			m := regexp.MustCompile(`(?m)^# ` + what + ` (\d+)$`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("no %s count in the node --test output", what)
			}
			n, _ := strconv.Atoi(string(m[1]))
			return n
		}
		if pass, skipped, failed := count("pass"), count("skipped"), count("fail"); pass == 0 || skipped != 0 || failed != 0 {
			t.Fatalf("the authing-js-sdk OIDC suite passed %d, skipped %d, failed %d tests", pass, skipped, failed)
		}
	})
}

// oidcBrowserControl is the user's browser for the JS suite: POST
// /browser/visit {url, fresh} loads the URL in the browser (a new one when
// fresh), signs in with the user's password when the sign-in page comes,
// allows the consent page when it comes, and answers where the browser was
// finally sent ({location}) or the page it stayed on ({status}).
func oidcBrowserControl(t *testing.T, in *instance, email string) http.Handler {
	var mu sync.Mutex
	b := newBrowser(t, in)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /browser/visit", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			URL   string `json:"url"`
			Fresh bool   `json:"fresh"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.URL == "" {
			http.Error(w, "want {url}", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if body.Fresh {
			b = newBrowser(t, in)
		}
		p := b.get(body.URL)
		for i := 0; i < 3 && p.Location == "" && p.Status == http.StatusOK; i++ {
			switch {
			case hasForm(p, "password-form"):
				p = b.signIn(p, email, oidcPassword)
			case hasForm(p, "consent-form"):
				p = b.consent(p, "allow")
			default:
				i = 3
			}
		}
		writeControl(w, map[string]any{"location": p.Location, "status": p.Status})
	})
	return mux
}

func hasForm(p *page, id string) bool {
	return regexp.MustCompile(`<form[^>]*\bid="` + regexp.QuoteMeta(id) + `"`).MatchString(p.Body)
}
