package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleClient is a browser of the admin console without JavaScript: a
// cookie jar, no redirects followed (tests look at them), and the Origin
// and Sec-Fetch-Site headers a browser sends on a same-origin form post.
type consoleClient struct {
	t    testing.TB
	in   *instance
	hc   *http.Client
	csrf string // the last page's form token
}

func newConsoleClient(t testing.TB, in *instance) *consoleClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{t: t, in: in, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// consoleAnswer is a console response with its body read.
type consoleAnswer struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *consoleClient) do(req *http.Request) consoleAnswer {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	a := consoleAnswer{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
	if m := csrfField.FindStringSubmatch(a.Body); m != nil {
		c.csrf = m[1]
	}
	return a
}

// get fetches a console path (below /console).
func (c *consoleClient) get(path string) consoleAnswer {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.in.URL+"/console"+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form as a same-origin page of the console would, with
// the last page's form token unless form sets one.
func (c *consoleClient) post(path string, form url.Values) consoleAnswer {
	c.t.Helper()
	return c.postWith(path, form, map[string]string{"Origin": c.in.URL, "Sec-Fetch-Site": "same-origin"})
}

func (c *consoleClient) postWith(path string, form url.Values, headers map[string]string) consoleAnswer {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.in.URL+"/console"+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// signIn signs in with key and fails unless the console lets it in.
func (c *consoleClient) signIn(key string) {
	c.t.Helper()
	c.get("/signin")
	a := c.post("/signin", url.Values{"key": {key}})
	if a.Status != http.StatusSeeOther || a.Location != "/console/" {
		c.t.Fatalf("sign-in answered %d %q:\n%s\nlog errors: %v", a.Status, a.Location, a.Body, c.in.Outbox.errorLines())
	}
}

// sessionCookie is the console session cookie the jar holds ("" none).
func (c *consoleClient) sessionCookie() string {
	u, _ := url.Parse(c.in.URL + "/console/")
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "authpool_console" {
			return ck.Value
		}
	}
	return ""
}
