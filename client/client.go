// Package client is authpool's Go SDK. AuthenticationClient lets an
// application register, log in and manage its end users over authpool's
// native HTTP API. It imports only package api and the standard library,
// never logs, and returns every failure as a *Error.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/authpool/authpool/api"
)

// Types of the wire contract, reachable from this package.
type (
	User               = api.User
	Profile            = api.Profile
	RegisterProfile    = api.RegisterProfile
	UpdateProfileInput = api.UpdateProfileInput
	RegisterOptions    = api.RegisterOptions
	LoginOptions       = api.LoginOptions
	LoginStatus        = api.LoginStatus
	RefreshedToken     = api.RefreshedToken
	Captcha            = api.Captcha
)

// Options configure an AuthenticationClient.
type Options struct {
	// AppHost is the server's base URL, e.g. "http://127.0.0.1:8080".
	AppHost string
	// UserPoolID selects the user pool; "" means the server's default pool.
	UserPoolID string
	AppID      string
	// AppSecret, with AppID, authenticates a backend configured on the
	// server (AUTHPOOL_APP_SECRETS), whose ClientIP options the server then
	// believes. Server-side use only: never ship it to a browser or an app.
	AppSecret string
	// Token is an initial token (e.g. one kept from an earlier login).
	Token      string
	HTTPClient *http.Client
	// Timeout bounds each call when HTTPClient is nil (default 30 s).
	Timeout time.Duration
}

// AuthenticationClient is safe for concurrent use. It keeps the current
// user and token: a register or login that returns a token, GetCurrentUser
// and UpdateProfile update them; Logout clears them.
type AuthenticationClient struct {
	opts Options
	hc   *http.Client

	mu    sync.RWMutex
	token string
	user  *User
}

// NewAuthenticationClient returns a client for opts.
func NewAuthenticationClient(opts Options) *AuthenticationClient {
	hc := opts.HTTPClient
	if hc == nil {
		t := opts.Timeout
		if t == 0 {
			t = 30 * time.Second
		}
		hc = &http.Client{Timeout: t}
	}
	opts.AppHost = strings.TrimRight(opts.AppHost, "/")
	return &AuthenticationClient{opts: opts, hc: hc, token: opts.Token}
}

// Token returns the current token ("" when logged out).
func (c *AuthenticationClient) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken replaces the current token.
func (c *AuthenticationClient) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
}

// CurrentUser returns the last user the client saw, or nil.
func (c *AuthenticationClient) CurrentUser() *User {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.user == nil {
		return nil
	}
	u := *c.user
	return &u
}

// remember stores u as the current user, and its token when it has one.
func (c *AuthenticationClient) remember(u *User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u.Token != "" {
		c.token = u.Token
		c.user = u
	} else if c.token != "" && c.user != nil && c.user.ID == u.ID {
		c.user = u
	}
}

func (c *AuthenticationClient) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.user = "", nil
}

// do sends one request. in (if not nil) is sent as JSON; out (if not nil)
// receives the JSON answer. withToken sends the current token as bearer.
func (c *AuthenticationClient) do(ctx context.Context, method, path string, in, out any, withToken bool) error {
	req, err := newRequest(ctx, method, c.opts.AppHost+path, in)
	if err != nil {
		return err
	}
	if c.opts.UserPoolID != "" {
		req.Header.Set(api.HeaderUserPoolID, c.opts.UserPoolID)
	}
	if c.opts.AppID != "" {
		req.Header.Set(api.HeaderAppID, c.opts.AppID)
	}
	if c.opts.AppSecret != "" {
		req.Header.Set(api.HeaderAppSecret, c.opts.AppSecret)
	}
	if withToken {
		if t := c.Token(); t != "" {
			req.Header.Set("Authorization", "Bearer "+t)
		}
	}
	return send(c.hc, req, out)
}

// newRequest builds a request whose body is in as JSON (none when nil).
func newRequest(ctx context.Context, method, url string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: "encode request: " + err.Error()}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: err.Error(), cause: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// send runs req and decodes a JSON answer into out (if not nil), or the
// error body into an *Error.
func send(hc *http.Client, req *http.Request, out any) error {
	raw, status, err := sendRaw(hc, req)
	if err != nil {
		return err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Code: errTransport, Reason: "unexpected_response", HTTPStatus: status, Message: "decode response: " + err.Error(), cause: err}
		}
	}
	return nil
}

// sendRaw sends req and returns the body of a successful answer (at most
// 8 MiB) and its status, or the server's error rebuilt as *Error.
func sendRaw(hc *http.Client, req *http.Request) ([]byte, int, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, &Error{Code: errTransport, Reason: "transport_error", Message: err.Error(), cause: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, resp.StatusCode, &Error{Code: errTransport, Reason: "transport_error", Message: err.Error(), HTTPStatus: resp.StatusCode, cause: err}
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Code == 0 {
			return nil, resp.StatusCode, &Error{Code: errTransport, Reason: "unexpected_response", HTTPStatus: resp.StatusCode,
				Message: fmt.Sprintf("unexpected HTTP %d from server", resp.StatusCode)}
		}
		e := &Error{Code: eb.Code, Reason: eb.Reason, Message: eb.Message, Data: eb.Data, HTTPStatus: resp.StatusCode}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			if d, perr := time.ParseDuration(ra + "s"); perr == nil {
				e.RetryAfter = d
			}
		}
		return nil, resp.StatusCode, e
	}
	return raw, resp.StatusCode, nil
}

// Error is every failure the SDK returns. Code follows authpool's table
// (docs/API.md); use errors.As to read it.
type Error struct {
	Code       int
	Reason     string
	Message    string
	HTTPStatus int
	Data       map[string]any
	// RetryAfter is set on 429 answers.
	RetryAfter time.Duration
	cause      error
}

// errTransport marks failures that never reached a server answer (network
// errors, unreadable bodies); it is not a server code.
const errTransport = -1

func (e *Error) Error() string {
	return fmt.Sprintf("authpool: %s (%d): %s", e.Reason, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// Is matches another *Error with the same Code (and Reason when set).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}
