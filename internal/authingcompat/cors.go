package authingcompat

import (
	"net/http"

	"github.com/authpool/authpool/internal/httpapi"
)

// corsHeaders are the request headers the SDKs send from a browser.
const corsHeaders = "content-type, authorization, x-authing-app-id, x-authing-userpool-id, x-authing-app-tenant-id, x-authing-request-from, x-authing-sdk-version, x-authing-lang"

// cors lets the browsers of the configured origins call with credentials
// (the JS SDK's axios sets withCredentials, so "*" would not do): the
// origin is echoed, never a wildcard. A request from any other origin is
// served without CORS headers, so the browser withholds the answer; a
// preflight from one gets no permission.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && s.origins[origin]
		if origin != "" {
			w.Header().Add("Vary", "Origin")
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				w.Header().Set("Access-Control-Allow-Headers", corsHeaders)
				w.Header().Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSiteBody refuses a body not declared JSON from a browser page of an
// origin that is not configured (httpapi.CrossSiteBody): the JS SDK of a
// configured origin sends JSON after a preflight; a page elsewhere could
// otherwise send a login or a code request without one.
func (s *Server) crossSiteBody(r *http.Request) error {
	return httpapi.CrossSiteBody(r, func(origin string) bool { return s.origins[origin] })
}
