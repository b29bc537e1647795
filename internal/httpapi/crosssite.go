package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// A page of another site can make a browser send a "simple" request (a
// form or fetch with a text/plain, application/x-www-form-urlencoded or
// multipart/form-data body, or none declared) without asking the server
// first (no CORS preflight). A JSON route that read such a body would let
// that page register, log in or send codes from its visitors' browsers and
// addresses. So a body that comes from a browser page of another origin
// must be declared JSON: a page can only do that after a preflight, which
// only the configured origins pass. Requests that are not from a browser
// page of another origin (curl, SDKs, servers: no Origin, no Sec-Fetch-*;
// or the server's own pages) keep any Content-Type.

var errCrossSiteBody = userpool.Errorf(userpool.CodeUnsupportedMediaType, "unsupported_media_type",
	"a request from a page of another site must send its body as Content-Type: application/json")

// CrossSiteBody refuses (code 1010, HTTP 415) a body that is not declared
// JSON when the request comes from a browser page of another origin.
// allowed reports the origins allowed to call cross-origin (CORS); nil
// allows none.
func CrossSiteBody(r *http.Request, allowed func(origin string) bool) error {
	if jsonMediaType(r.Header.Get("Content-Type")) || !foreignPage(r, allowed) {
		return nil
	}
	return errCrossSiteBody
}

// foreignPage reports whether the browser says the request comes from a
// page of another origin: Sec-Fetch-Site (which pages cannot forge) says
// cross-site or same-site, or, from browsers that do not send it, Origin
// names another host than the one addressed. An allowed origin is never
// foreign.
func foreignPage(r *http.Request, allowed func(string) bool) bool {
	origin := r.Header.Get("Origin")
	if origin != "" && allowed != nil && allowed(origin) {
		return false
	}
	switch strings.ToLower(r.Header.Get("Sec-Fetch-Site")) {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	// "null" (sandboxed frames, file: pages) and garbage are foreign.
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// jsonMediaType reports whether a Content-Type declares JSON
// (application/json, or a +json type such as application/merge-patch+json).
func jsonMediaType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
