package httpapi

import "net/http"

// route is one endpoint of the native API.
type route struct {
	Method, Path string
	Handle       handlerFunc
	// Auth says the route needs a bearer token.
	Auth bool
}

// routes is the index of the native API; docs/API.md and docs/openapi.yaml
// describe the same list (a test checks that openapi.yaml agrees).
func (s *Server) routes() []route {
	return []route{
		{http.MethodGet, "/healthz", s.healthz, false},
		{http.MethodGet, "/readyz", s.readyz, false},
		{http.MethodGet, "/.well-known/jwks.json", s.jwks, false},

		{http.MethodPost, "/api/v1/register/email", s.registerByEmail, false},
		{http.MethodPost, "/api/v1/register/username", s.registerByUsername, false},
		{http.MethodPost, "/api/v1/login/email", s.loginByEmail, false},
		{http.MethodPost, "/api/v1/login/username", s.loginByUsername, false},
		{http.MethodGet, "/api/v1/captcha", s.captcha, false},

		{http.MethodPost, "/api/v1/token/check", s.checkLoginStatus, false},
		{http.MethodPost, "/api/v1/token/refresh", s.refreshToken, true},
		{http.MethodPost, "/api/v1/logout", s.logout, true},

		{http.MethodGet, "/api/v1/users/me", s.getCurrentUser, true},
		{http.MethodPatch, "/api/v1/users/me", s.updateProfile, true},
		{http.MethodPost, "/api/v1/users/me/password", s.updatePassword, true},
	}
}
