package authingcompat

import "net/http"

// route is one endpoint of the Authing-compatible transport.
type route struct {
	Method, Path string
	Handle       http.HandlerFunc
}

const graphqlPath = "/graphql/v2"

// routes is the index of the transport; docs/AUTHING.md and the /graphql/v2
// and /api/v2/ paths of docs/openapi.yaml describe the same list (a test
// checks that openapi.yaml agrees). The GraphQL root fields are listed in
// schema.graphql and resolved in resolve_*.go, codes.go and udv.go.
func (s *Server) routes() []route {
	return []route{
		{http.MethodPost, graphqlPath, s.graphql},
		{http.MethodGet, "/api/v2/.well-known", s.wellKnown},
		{http.MethodPost, "/api/v2/sms/send", s.sendSMS},
		{http.MethodGet, "/api/v2/logout", s.logout},
		{http.MethodGet, "/api/v2/users/me", s.usersMe},
		{http.MethodGet, "/api/v2/security/captcha", s.captcha},
		{http.MethodGet, getIdentitiesPath, s.getIdentities}, // identity.go

		// Second factors (mfa.go, docs/MFA.md).
		{http.MethodGet, "/api/v2/mfa/authenticator", s.mfa(s.mfaAuthenticators)},
		{http.MethodPost, "/api/v2/mfa/totp/associate", s.mfa(s.mfaAssociate)},
		{http.MethodDelete, "/api/v2/mfa/totp/associate", s.mfa(s.mfaUnbind)},
		{http.MethodPost, "/api/v2/mfa/totp/associate/confirm", s.mfa(s.mfaConfirm)},
		{http.MethodPost, "/api/v2/mfa/totp/verify", s.mfa(s.mfaVerifyTOTP)},
		{http.MethodPost, "/api/v2/mfa/totp/recovery", s.mfa(s.mfaVerifyRecovery)},
		{http.MethodPost, "/api/v2/applications/mfa/sms/verify", s.mfa(s.mfaVerifySMS)},
		{http.MethodPost, "/api/v2/applications/mfa/email/verify", s.mfa(s.mfaVerifyEmail)},
		{http.MethodPost, "/api/v2/applications/mfa/check", s.mfa(s.mfaCheck)},
		{http.MethodPost, "/api/v2/mfa/face/associate", s.mfaFace},
		{http.MethodPost, "/api/v2/mfa/face/verify", s.mfaFace},
	}
}
