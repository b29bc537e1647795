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
	return append([]route{
		{http.MethodGet, "/healthz", s.healthz, false},
		{http.MethodGet, "/readyz", s.readyz, false},
		{http.MethodGet, "/livez", s.livez, false},
		{http.MethodGet, "/metrics", s.admin(s.metricsHandler), false},
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
		{http.MethodGet, "/api/v1/users/me/udv", s.listUdv, true},
		{http.MethodPut, "/api/v1/users/me/udv/{key}", s.setUdv, true},
		{http.MethodDelete, "/api/v1/users/me/udv/{key}", s.removeUdv, true},

		// Second factors (docs/MFA.md). Enrol and confirm take a bearer
		// token or, for a login that must enrol, an MFA token in the body.
		{http.MethodPost, "/api/v1/mfa/verify", s.verifyMFA, false},
		{http.MethodPost, "/api/v1/mfa/totp/enrol", s.enrolTOTP, false},
		{http.MethodPost, "/api/v1/mfa/totp/confirm", s.confirmTOTP, false},
		{http.MethodGet, "/api/v1/users/me/mfa", s.listFactors, true},
		{http.MethodPost, "/api/v1/users/me/mfa/recovery-codes", s.regenerateRecoveryCodes, true},
		{http.MethodPut, "/api/v1/users/me/mfa/{kind}", s.enableFactor, true},
		{http.MethodDelete, "/api/v1/users/me/mfa/{kind}", s.removeFactor, true},
		// Passkeys (docs/MFA.md "Passkeys"): each ceremony is begin + finish.
		{http.MethodPost, "/api/v1/users/me/passkeys/register/begin", s.beginPasskeyRegistration, true},
		{http.MethodPost, "/api/v1/users/me/passkeys/register/finish", s.finishPasskeyRegistration, true},
		{http.MethodGet, "/api/v1/users/me/passkeys", s.listPasskeys, true},
		{http.MethodPatch, "/api/v1/users/me/passkeys/{id}", s.renamePasskey, true},
		{http.MethodDelete, "/api/v1/users/me/passkeys/{id}", s.removePasskey, true},
		{http.MethodPost, "/api/v1/login/passkey/begin", s.beginPasskeyLogin, false},
		{http.MethodPost, "/api/v1/login/passkey/finish", s.finishPasskeyLogin, false},
		{http.MethodPost, "/api/v1/mfa/passkey/begin", s.beginPasskeyMFA, false},
		{http.MethodPost, "/api/v1/mfa/passkey/finish", s.finishPasskeyMFA, false},
		{http.MethodPost, "/api/v1/mfa/passkey/enrol/begin", s.beginPasskeyEnrolmentMFA, false},
		{http.MethodPost, "/api/v1/mfa/passkey/enrol/finish", s.finishPasskeyEnrolmentMFA, false},
		// Applications the user consented to (OpenID provider).
		{http.MethodGet, "/api/v1/users/me/apps", s.listGrantedApps, true},
		{http.MethodDelete, "/api/v1/users/me/apps/{appId}", s.revokeGrantedApp, true},
		// The account's sessions and its deletion (docs/ACCOUNT.md).
		{http.MethodGet, "/api/v1/users/me/sessions", s.listSessions, true},
		{http.MethodDelete, "/api/v1/users/me/sessions", s.revokeOtherSessions, true},
		{http.MethodDelete, "/api/v1/users/me/sessions/{sessionId}", s.revokeSession, true},
		{http.MethodDelete, "/api/v1/users/me", s.deleteAccount, true},

		// Social sign-in (docs/SOCIAL.md): the browser goes to authorize,
		// comes back through the upstream to the one callback, and lands
		// on the app's redirect URI with a one-time code the app exchanges.
		{http.MethodGet, "/api/v1/social/connectors", s.socialConnectors, false},
		{http.MethodGet, "/api/v1/social/{connector}/authorize", s.socialAuthorize, false},
		{http.MethodGet, "/api/v1/social/callback", s.socialCallback, false},
		{http.MethodPost, "/api/v1/social/callback", s.socialCallback, false}, // Apple's form_post
		{http.MethodPost, "/api/v1/social/token", s.socialToken, false},
		{http.MethodGet, "/api/v1/users/me/identities", s.listIdentities, true},
		{http.MethodPost, "/api/v1/users/me/identities/confirm", s.confirmIdentityLink, true},
		{http.MethodDelete, "/api/v1/users/me/identities/{provider}/{subject}", s.unlinkIdentity, true},
	}, s.adminRoutes()...)
}

// adminRoutes is the administration API. Every route takes an
// administrator key as "Authorization: Bearer <key>" (s.admin checks it;
// the Auth flag is for end-user tokens and stays false). "default" names
// the default pool in {poolId}.
func (s *Server) adminRoutes() []route {
	const pool = "/api/v1/admin/pools/{poolId}"
	return []route{
		{http.MethodGet, "/api/v1/admin/pools", s.admin(s.adminListPools), false},
		{http.MethodPost, "/api/v1/admin/pools", s.admin(s.adminCreatePool), false},
		{http.MethodGet, pool, s.admin(s.adminGetPool), false},
		{http.MethodPatch, pool, s.admin(s.adminUpdatePool), false},

		// Token signing keys belong to no pool.
		{http.MethodGet, "/api/v1/admin/keys", s.admin(s.adminListKeys), false},
		{http.MethodPost, "/api/v1/admin/keys/rotate", s.admin(s.adminRotateKey), false},
		// Named administrator keys (adminnamedkeys.go), managed with the
		// administrator key alone.
		{http.MethodGet, "/api/v1/admin/admin-keys", s.admin(s.adminListNamedKeys), false},
		{http.MethodPost, "/api/v1/admin/admin-keys", s.admin(s.adminCreateNamedKey), false},
		{http.MethodDelete, "/api/v1/admin/admin-keys/{keyId}", s.admin(s.adminRevokeNamedKey), false},

		{http.MethodGet, pool + "/fields", s.admin(s.adminListFields), false},
		{http.MethodPost, pool + "/fields", s.admin(s.adminDefineField), false},
		{http.MethodGet, pool + "/fields/{key}", s.admin(s.adminGetField), false},
		{http.MethodPatch, pool + "/fields/{key}", s.admin(s.adminUpdateField), false},
		{http.MethodDelete, pool + "/fields/{key}", s.admin(s.adminDeleteField), false},

		{http.MethodGet, pool + "/users", s.admin(s.adminListUsers), false},
		{http.MethodPost, pool + "/users", s.admin(s.adminCreateUser), false},
		// Streamed JSON lines both ways (adminimport.go).
		{http.MethodPost, pool + "/users/import", s.admin(s.adminImportUsers), false},
		{http.MethodGet, pool + "/users/export", s.admin(s.adminExportUsers), false},
		{http.MethodGet, pool + "/users/{userId}", s.admin(s.adminGetUser), false},
		{http.MethodPatch, pool + "/users/{userId}", s.admin(s.adminUpdateUser), false},
		{http.MethodDelete, pool + "/users/{userId}", s.admin(s.adminDeleteUser), false},
		{http.MethodPost, pool + "/users/{userId}/block", s.admin(s.adminBlockUser), false},
		{http.MethodPost, pool + "/users/{userId}/unblock", s.admin(s.adminUnblockUser), false},

		{http.MethodGet, pool + "/users/{userId}/mfa", s.admin(s.adminUserMFA), false},
		{http.MethodPatch, pool + "/users/{userId}/mfa", s.admin(s.adminSetUserMFA), false},
		{http.MethodDelete, pool + "/users/{userId}/mfa", s.admin(s.adminResetUserMFA), false},

		{http.MethodGet, pool + "/users/{userId}/sessions", s.admin(s.adminListSessions), false},
		{http.MethodDelete, pool + "/users/{userId}/sessions", s.admin(s.adminRevokeSessions), false},
		{http.MethodDelete, pool + "/users/{userId}/sessions/{sessionId}", s.admin(s.adminRevokeSession), false},

		{http.MethodGet, pool + "/audit", s.admin(s.adminListAudit), false},

		// Pipeline create, update and test run read bodies of up to
		// api.MaxPipelineBodyBytes; every other route keeps the 64 KiB bound.
		{http.MethodGet, pool + "/pipelines", s.admin(s.adminListPipelines), false},
		{http.MethodPost, pool + "/pipelines", s.admin(s.adminCreatePipeline), false},
		{http.MethodPost, pool + "/pipelines/reorder", s.admin(s.adminReorderPipelines), false},
		{http.MethodGet, pool + "/pipelines/{pipelineId}", s.admin(s.adminGetPipeline), false},
		{http.MethodPatch, pool + "/pipelines/{pipelineId}", s.admin(s.adminUpdatePipeline), false},
		{http.MethodDelete, pool + "/pipelines/{pipelineId}", s.admin(s.adminDeletePipeline), false},
		{http.MethodPost, pool + "/pipelines/{pipelineId}/try", s.admin(s.adminTryPipeline), false},
		{http.MethodGet, pool + "/pipelines/{pipelineId}/logs", s.admin(s.adminPipelineLogs), false},

		{http.MethodGet, pool + "/webhooks", s.admin(s.adminListWebhooks), false},
		{http.MethodPost, pool + "/webhooks", s.admin(s.adminCreateWebhook), false},
		{http.MethodGet, pool + "/webhooks/{webhookId}", s.admin(s.adminGetWebhook), false},
		{http.MethodPatch, pool + "/webhooks/{webhookId}", s.admin(s.adminUpdateWebhook), false},
		{http.MethodDelete, pool + "/webhooks/{webhookId}", s.admin(s.adminDeleteWebhook), false},
		{http.MethodGet, pool + "/deliveries", s.admin(s.adminListDeliveries), false},
		{http.MethodGet, pool + "/deliveries/{deliveryId}", s.admin(s.adminGetDelivery), false},
		{http.MethodPost, pool + "/deliveries/{deliveryId}/redeliver", s.admin(s.adminRedeliver), false},

		{http.MethodGet, pool + "/apps", s.admin(s.adminListApps), false},
		{http.MethodPost, pool + "/apps", s.admin(s.adminCreateApp), false},
		{http.MethodGet, pool + "/apps/{appId}", s.admin(s.adminGetApp), false},
		{http.MethodPatch, pool + "/apps/{appId}", s.admin(s.adminUpdateApp), false},
		{http.MethodDelete, pool + "/apps/{appId}", s.admin(s.adminDeleteApp), false},
		{http.MethodPost, pool + "/apps/{appId}/secret", s.admin(s.adminRotateAppSecret), false},

		{http.MethodGet, pool + "/connectors", s.admin(s.adminListConnectors), false},
		{http.MethodPost, pool + "/connectors", s.admin(s.adminCreateConnector), false},
		{http.MethodGet, pool + "/connectors/{connectorId}", s.admin(s.adminGetConnector), false},
		{http.MethodPatch, pool + "/connectors/{connectorId}", s.admin(s.adminUpdateConnector), false},
		{http.MethodDelete, pool + "/connectors/{connectorId}", s.admin(s.adminDeleteConnector), false},
	}
}
