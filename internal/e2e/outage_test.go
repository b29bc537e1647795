package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

// tcpProxy forwards connections to a PostgreSQL server until it is cut:
// then it closes every connection and stops listening, so that the
// database is unreachable as in an outage (refused connections, dropped
// sessions), until restore listens on the same address again.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.listen(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) listen(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close(); c.Close() }()
	_, _ = io.Copy(c, up)
	up.Close()
	c.Close()
}

// cut makes the database unreachable: no listener, every connection closed.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens on the proxy's address again.
func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.listen(ln)
}

// TestPostgresOutage runs a real server on PostgreSQL through a TCP proxy
// and cuts the proxy: while the database cannot be reached, every route
// (native, admin, Authing GraphQL and REST) answers HTTP 503 with a
// Retry-After and code 1008, never 500/1000; once it is back, the same
// requests succeed again.
func TestPostgresOutage(t *testing.T) {
	base, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("PostgreSQL not configured")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	in := start(t, adminConfig(u.String()), nil)
	ctx := context.Background()
	c := in.client()
	user := must[*client.User](t)(c.RegisterByEmail(ctx, "outage@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
	tok := c.Token()
	ac := in.authing(t)

	type check struct {
		name, method, path, body string
		hdr                      map[string]string
		// ok is the status of the request while the database is up.
		ok int
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	admin := map[string]string{"Authorization": "Bearer " + testAdminKey}
	gqlLogin, _ := json.Marshal(map[string]any{"query": docs["loginByEmail"], "variables": map[string]any{"input": map[string]any{
		"email": "outage@example.com", "password": ac.enc("passw0rd!"), "autoRegister": false, "params": nil, "context": nil,
	}}})
	checks := []check{
		{"login", "POST", "/api/v1/login/email", `{"email":"outage@example.com","password":"passw0rd!"}`, nil, 200},
		{"register", "POST", "/api/v1/register/username", `{"username":"REPLACE","password":"passw0rd!"}`, nil, 200},
		{"current user", "GET", "/api/v1/users/me", "", bearer, 200},
		{"token check", "POST", "/api/v1/token/check", `{"token":"` + tok + `"}`, nil, 200},
		{"admin pools", "GET", "/api/v1/admin/pools", "", admin, 200},
		{"admin user", "GET", "/api/v1/admin/pools/default/users/" + user.ID, "", admin, 200},
		{"authing graphql login", "POST", "/graphql/v2", string(gqlLogin), nil, 200},
		{"authing rest users/me", "GET", "/api/v2/users/me", "", bearer, 200},
		{"readyz", "GET", "/readyz", "", nil, 200},
	}
	n := 0
	do := func(ck check) (int, http.Header, []byte) {
		t.Helper()
		body := ck.body
		if strings.Contains(body, "REPLACE") {
			n++
			body = strings.Replace(body, "REPLACE", "outage"+string(rune('a'+n)), 1)
		}
		req, err := http.NewRequest(ck.method, in.URL+ck.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range ck.hdr {
			req.Header.Set(k, v)
		}
		for k, v := range ac.header {
			if strings.HasPrefix(ck.path, "/graphql") || strings.HasPrefix(ck.path, "/api/v2") {
				req.Header[k] = v
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, raw
	}
	// codeOf reads the code of the native error body, Authing's REST
	// envelope or the first GraphQL error object.
	codeOf := func(raw []byte) int {
		var b struct {
			Code   int `json:"code"`
			Errors []struct {
				Message struct {
					Code int `json:"code"`
				} `json:"message"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(raw, &b)
		if len(b.Errors) > 0 {
			return b.Errors[0].Message.Code
		}
		return b.Code
	}

	for _, ck := range checks {
		if st, _, raw := do(ck); st/100 != 2 || codeOf(raw) > 200 {
			t.Fatalf("%s before the outage: HTTP %d %s", ck.name, st, raw)
		}
	}

	proxy.cut()
	for _, ck := range checks {
		st, hdr, raw := do(ck)
		if st != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: HTTP %d, Retry-After %q, body %s; want 503 with Retry-After", ck.name, st, hdr.Get("Retry-After"), raw)
			continue
		}
		if ck.path != "/readyz" && codeOf(raw) != api.CodeUnavailable {
			t.Errorf("%s during the outage: code %d, want %d: %s", ck.name, codeOf(raw), api.CodeUnavailable, raw)
		}
	}
	if t.Failed() {
		return
	}

	proxy.restore()
	for _, ck := range checks {
		// Connections the pool still holds from before the cut are found
		// dead and replaced; the first requests may meet them.
		for try := 0; ; try++ {
			st, _, raw := do(ck)
			if st/100 == 2 && codeOf(raw) <= 200 {
				break
			}
			if st != http.StatusServiceUnavailable || try == 50 {
				t.Fatalf("%s after the outage: HTTP %d %s", ck.name, st, raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
