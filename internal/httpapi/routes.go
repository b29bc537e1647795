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

		{http.MethodPost, "/api/v1/token/check", s.checkLoginStatus, false},
		{http.MethodPost, "/api/v1/token/refresh", s.refreshToken, true},
		{http.MethodPost, "/api/v1/logout", s.logout, true},

		{http.MethodGet, "/api/v1/users/me", s.getCurrentUser, true},
		{http.MethodPatch, "/api/v1/users/me", s.updateProfile, true},
		{http.MethodPost, "/api/v1/users/me/password", s.updatePassword, true},

		{http.MethodPost, "/api/v1/codes/sms", s.sendSmsCode, false},
		{http.MethodPost, "/api/v1/codes/email", s.sendEmail, false},
		{http.MethodPost, "/api/v1/register/phone-code", s.registerByPhoneCode, false},
		{http.MethodPost, "/api/v1/login/phone-code", s.loginByPhoneCode, false},
		{http.MethodPost, "/api/v1/login/phone-password", s.loginByPhonePassword, false},
		{http.MethodPost, "/api/v1/password/reset/phone", s.resetPasswordByPhoneCode, false},
		{http.MethodPost, "/api/v1/password/reset/email", s.resetPasswordByEmailCode, false},
		{http.MethodPost, "/api/v1/email/verify", s.verifyEmail, false},
		// The link in VERIFY_EMAIL mails; answers with a small HTML page.
		{http.MethodGet, "/api/v1/email/verify", s.verifyEmailLink, false},

		{http.MethodPost, "/api/v1/users/me/phone", s.bindPhone, true},
		{http.MethodPut, "/api/v1/users/me/phone", s.updatePhone, true},
		{http.MethodDelete, "/api/v1/users/me/phone", s.unbindPhone, true},
		{http.MethodPost, "/api/v1/users/me/email", s.bindEmail, true},
		{http.MethodPut, "/api/v1/users/me/email", s.updateEmail, true},
		{http.MethodDelete, "/api/v1/users/me/email", s.unbindEmail, true},
	}
}
