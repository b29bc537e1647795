// Package connector speaks to upstream identity providers (issue 15,
// docs/SOCIAL.md): it builds the authorization URL (state, nonce, PKCE
// S256) and turns the upstream's answer into a verified Profile. oidc.go
// finds a provider by discovery and verifies its ID token with
// coreos/go-oidc; oauth2.go reads a userinfo answer through a claim
// mapping. It holds no policy: which user a profile becomes, and whether
// it may be linked, is internal/auth's (social.go).
package connector

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/internal/userpool"
)

// Profile is what the upstream says about the user, verified.
type Profile struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Username      string
	Picture       string
	// Claims are the upstream's profile claims kept with the identity
	// (a bounded selection, never tokens).
	Claims map[string]any
}

// Request is one authorization in flight: what the upstream is sent and
// what the callback must check.
type Request struct {
	State, Nonce, Verifier string
	// FormUser is the "user" field Apple posts to the callback on the
	// first authorization (unsigned: only the name is read from it).
	FormUser string
}

// NewRequest returns fresh random state, nonce and PKCE verifier.
func NewRequest() Request {
	return Request{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
}

func random() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Upstream is one connector ready to use.
type Upstream interface {
	// AuthURL is where the browser goes to sign in upstream.
	AuthURL(ctx context.Context, r Request) (string, error)
	// Exchange redeems the code and returns the verified profile.
	Exchange(ctx context.Context, r Request, code string) (*Profile, error)
}

// Errors of the upstream: each is a coded error (2802) with its reason, so
// the user sees a clear message and the cause goes to the log.
func upstreamErr(reason, msg string, cause error) error {
	return &userpool.Error{Code: userpool.CodeSocialUpstream, Reason: reason, Message: msg, Cause: cause}
}

// Unreachable: the upstream could not be reached or answered no usable
// document.
func Unreachable(cause error) error {
	return upstreamErr("upstream_unreachable", "the identity provider could not be reached: try again later", cause)
}

// Refused: the upstream answered the sign-in with an error.
func Refused(cause error) error {
	return upstreamErr("upstream_refused", "the identity provider did not complete the sign-in", cause)
}

// Invalid: the upstream's answer does not verify.
func Invalid(cause error) error {
	return upstreamErr("upstream_answer_invalid", "the identity provider's answer could not be verified", cause)
}

// Registry builds Upstreams; it caches discovery documents and key sets
// per issuer, so a sign-in costs no discovery round trip.
type Registry struct {
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	providers map[string]*cachedProvider
}

// NewRegistry returns a Registry using client (nil: one with a 10 s
// timeout that follows no redirects) and the clock now.
func NewRegistry(client *http.Client, now func() time.Time) *Registry {
	if client == nil {
		client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Registry{client: client, now: now, providers: map[string]*cachedProvider{}}
}

// Client is the registry's HTTP client.
func (g *Registry) Client() *http.Client { return g.client }

// Upstream returns the connector c (with its opened secret) whose
// upstream sends the browser back to redirectURL.
func (g *Registry) Upstream(c *userpool.Connector, secret, redirectURL string) (Upstream, error) {
	switch c.Type {
	case userpool.ConnectorOIDC:
		return &oidcUpstream{g: g, c: c, secret: secret, redirect: redirectURL}, nil
	case userpool.ConnectorOAuth2:
		return &oauth2Upstream{g: g, c: c, secret: secret, redirect: redirectURL}, nil
	}
	return presetUpstream(g, c, secret, redirectURL)
}

// ctx carries the registry's client to x/oauth2 and go-oidc.
func (g *Registry) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, g.client)
}

// getJSON fetches url with the bearer token into v, bounded.
func (g *Registry) getJSON(ctx context.Context, url, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Invalid(err)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return g.doJSON(req, v)
}

func (g *Registry) doJSON(req *http.Request, v any) error {
	resp, err := g.client.Do(req)
	if err != nil {
		return Unreachable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, userpool.MaxUpstreamAnswerBytes+1))
	if err != nil {
		return Unreachable(err)
	}
	if len(body) > userpool.MaxUpstreamAnswerBytes {
		return Invalid(errors.New("answer larger than 1 MiB"))
	}
	if resp.StatusCode/100 != 2 {
		return Refused(fmt.Errorf("%s answered %s", req.URL.Host, resp.Status))
	}
	// Numbers stay exact (json.Number): a numeric user id beyond 2^53
	// must not become another user's.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return Invalid(fmt.Errorf("%s answered no JSON object: %w", req.URL.Host, err))
	}
	return nil
}

// exchangeErr classifies an x/oauth2 exchange failure.
func exchangeErr(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return Refused(fmt.Errorf("token endpoint: %s %s", re.ErrorCode, truncate(re.ErrorDescription, 200)))
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) || strings.Contains(err.Error(), "connection refused") {
		return Unreachable(err)
	}
	return Unreachable(err)
}

// claim reads a dotted path ("data.id") of an answer.
func claim(m map[string]any, path string) any {
	var cur any = m
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

// text is a claim as text: strings as they are, numbers as JSON writes
// them (GitHub's numeric user id), anything else empty.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}

// truth is a claim as a boolean; some providers send "true" as text.
func truth(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// keptClaims are the profile claims an identity keeps.
var keptClaims = []string{"sub", "email", "email_verified", "name", "given_name", "family_name", "preferred_username", "nickname", "picture", "locale", "login", "avatar_url", "unionid", "openid", "headimgurl"}

// keep selects the kept claims of an answer, bounded.
func keep(m map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range keptClaims {
		v, ok := m[k]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			out[k] = truncate(x, 1024)
		case bool, float64, json.Number:
			out[k] = x
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// finish checks and bounds a profile.
func finish(p *Profile) (*Profile, error) {
	if p.Subject == "" || len(p.Subject) > userpool.MaxUpstreamSubjectLen || strings.ContainsAny(p.Subject, "\x00") {
		return nil, Invalid(errors.New("the answer has no usable subject"))
	}
	if len(p.Email) > 320 {
		p.Email, p.EmailVerified = "", false
	}
	p.Name, p.Username, p.Picture = truncate(p.Name, 256), truncate(p.Username, 256), truncate(p.Picture, 2048)
	return p, nil
}

// s256 is the PKCE challenge of a verifier (for presets that build their
// URL by hand).
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
