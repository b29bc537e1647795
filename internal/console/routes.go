package console

import "net/http"

// route is one page or action of the console. Paths are below the
// console's path; {poolId} names the pool ("default" is the default pool).
type route struct {
	Method, Path string
	Handle       handlerFunc
	// Public routes need no session: the sign-in alone.
	Public bool
	// ReadOnlyOK lets a read-only key make this change (signing out).
	// Every other change is refused to it.
	ReadOnlyOK bool
	// MaxBody bounds a change's form (0: 64 KiB).
	MaxBody int64
}

// routes is the index of the console: one line per page and action. A
// GET is a page; every other method is a change, which needs a session,
// its form token, a page of this origin and a key that may change
// things (console.go, guard).
func (s *Service) routes() []route {
	const pool = "/pools/{poolId}"
	return []route{
		{Method: http.MethodGet, Path: "/signin", Handle: s.signinPage, Public: true},
		{Method: http.MethodPost, Path: "/signin", Handle: s.signin, Public: true},
		{Method: http.MethodPost, Path: "/signout", Handle: s.signout, ReadOnlyOK: true},
		{Method: http.MethodGet, Path: "/{$}", Handle: s.home},
		{Method: http.MethodGet, Path: "/switch", Handle: s.switchPool},

		// overview.go
		{Method: http.MethodGet, Path: pool + "/overview", Handle: s.overview},

		// users.go: the list and the new user form
		{Method: http.MethodGet, Path: pool + "/users", Handle: s.users},
		{Method: http.MethodGet, Path: pool + "/users/new", Handle: s.newUserPage},
		{Method: http.MethodPost, Path: pool + "/users", Handle: s.createUser},
		// user.go: one user
		{Method: http.MethodGet, Path: pool + "/users/{userId}", Handle: s.user},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/block", Handle: s.blockUser},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/unblock", Handle: s.unblockUser},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/verified", Handle: s.setVerified},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/values", Handle: s.setValue},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/values/remove", Handle: s.removeValue},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/sessions/revoke", Handle: s.revokeSessions},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/sessions/{sessionId}/revoke", Handle: s.revokeSession},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/mfa/reset", Handle: s.resetMFA},
		{Method: http.MethodPost, Path: pool + "/users/{userId}/delete", Handle: s.deleteUser},

		// settings.go
		{Method: http.MethodGet, Path: pool + "/settings", Handle: s.settings},
		{Method: http.MethodPost, Path: pool + "/settings", Handle: s.saveSettings},
		// fields.go
		{Method: http.MethodGet, Path: pool + "/fields", Handle: s.fields},
		{Method: http.MethodPost, Path: pool + "/fields", Handle: s.defineField},
		{Method: http.MethodPost, Path: pool + "/fields/{key}", Handle: s.updateField},
		{Method: http.MethodGet, Path: pool + "/fields/{key}/delete", Handle: s.confirmDeleteField},
		{Method: http.MethodPost, Path: pool + "/fields/{key}/delete", Handle: s.deleteField},
		// apps.go
		{Method: http.MethodGet, Path: pool + "/apps", Handle: s.apps},
		{Method: http.MethodPost, Path: pool + "/apps", Handle: s.createApp},
		{Method: http.MethodGet, Path: pool + "/apps/{appId}", Handle: s.app},
		{Method: http.MethodPost, Path: pool + "/apps/{appId}", Handle: s.updateApp},
		{Method: http.MethodPost, Path: pool + "/apps/{appId}/rotate", Handle: s.rotateAppSecret},
		{Method: http.MethodPost, Path: pool + "/apps/{appId}/delete", Handle: s.deleteApp},
		// connectors.go: social sign-in
		{Method: http.MethodGet, Path: pool + "/connectors", Handle: s.connectors},
		{Method: http.MethodPost, Path: pool + "/connectors", Handle: s.createConnector},
		{Method: http.MethodPost, Path: pool + "/connectors/{connectorId}", Handle: s.updateConnector},
		{Method: http.MethodPost, Path: pool + "/connectors/{connectorId}/enabled", Handle: s.setConnectorEnabled},
		{Method: http.MethodPost, Path: pool + "/connectors/{connectorId}/delete", Handle: s.deleteConnector},
		// pipelines.go
		{Method: http.MethodGet, Path: pool + "/pipelines", Handle: s.pipelines},
		{Method: http.MethodPost, Path: pool + "/pipelines", Handle: s.createPipeline, MaxBody: pipelineBody},
		{Method: http.MethodGet, Path: pool + "/pipelines/{pipelineId}", Handle: s.pipelinePageGet},
		{Method: http.MethodPost, Path: pool + "/pipelines/{pipelineId}", Handle: s.savePipeline, MaxBody: pipelineBody},
		{Method: http.MethodPost, Path: pool + "/pipelines/{pipelineId}/enabled", Handle: s.setPipelineEnabled},
		{Method: http.MethodPost, Path: pool + "/pipelines/{pipelineId}/move", Handle: s.movePipeline},
		{Method: http.MethodPost, Path: pool + "/pipelines/{pipelineId}/try", Handle: s.tryPipeline},
		{Method: http.MethodPost, Path: pool + "/pipelines/{pipelineId}/delete", Handle: s.deletePipeline},
		// webhooks.go
		{Method: http.MethodGet, Path: pool + "/webhooks", Handle: s.webhooks},
		{Method: http.MethodPost, Path: pool + "/webhooks", Handle: s.createWebhook},
		{Method: http.MethodGet, Path: pool + "/webhooks/{webhookId}", Handle: s.webhook},
		{Method: http.MethodPost, Path: pool + "/webhooks/{webhookId}", Handle: s.updateWebhook},
		{Method: http.MethodPost, Path: pool + "/webhooks/{webhookId}/rotate", Handle: s.rotateWebhookSecret},
		{Method: http.MethodPost, Path: pool + "/webhooks/{webhookId}/delete", Handle: s.deleteWebhook},
		{Method: http.MethodGet, Path: pool + "/webhooks/deliveries/{deliveryId}", Handle: s.delivery},
		{Method: http.MethodPost, Path: pool + "/webhooks/deliveries/{deliveryId}/redeliver", Handle: s.redeliver},
		// audit.go
		{Method: http.MethodGet, Path: pool + "/audit", Handle: s.audit},
		{Method: http.MethodGet, Path: pool + "/audit/export", Handle: s.exportAudit},
		// keys.go
		{Method: http.MethodGet, Path: pool + "/keys", Handle: s.signingKeys},
		{Method: http.MethodPost, Path: pool + "/keys/rotate", Handle: s.rotateSigningKey},
		// adminkeys.go: the operators' named admin keys (server-wide)
		{Method: http.MethodGet, Path: pool + "/admin-keys", Handle: s.adminKeys},
		{Method: http.MethodPost, Path: pool + "/admin-keys", Handle: s.createAdminKey},
		{Method: http.MethodPost, Path: pool + "/admin-keys/{keyId}/revoke", Handle: s.revokeAdminKey},
		// pools.go
		{Method: http.MethodGet, Path: pool + "/pools", Handle: s.pools},
		{Method: http.MethodPost, Path: pool + "/pools", Handle: s.createPool},
		{Method: http.MethodPost, Path: pool + "/rename", Handle: s.renamePool},
	}
}

// navItem is one entry of the navigation: a section of the current pool.
type navItem struct {
	Key  string // catalogue key of its label, and its Page.Section
	Path string // below /pools/{poolId}
}

// nav is the navigation, in order. A new section adds its entry here.
func (s *Service) nav() []navItem {
	return []navItem{
		{Key: "nav.overview", Path: "/overview"},
		{Key: "nav.users", Path: "/users"},
		{Key: "nav.settings", Path: "/settings"},
		{Key: "nav.fields", Path: "/fields"},
		{Key: "nav.apps", Path: "/apps"},
		{Key: "nav.connectors", Path: "/connectors"},
		{Key: "nav.pipelines", Path: "/pipelines"},
		{Key: "nav.webhooks", Path: "/webhooks"},
		{Key: "nav.audit", Path: "/audit"},
		{Key: "nav.keys", Path: "/keys"},
		{Key: "nav.admin_keys", Path: "/admin-keys"},
		{Key: "nav.pools", Path: "/pools"},
	}
}

// Route names one route of the console, for tests that must try each.
type Route struct {
	Method, Path string
	Public       bool
	ReadOnlyOK   bool
}

// Routes lists the console's routes (paths below its own path).
func Routes() []Route {
	var out []Route
	for _, rt := range (&Service{}).routes() {
		out = append(out, Route{rt.Method, rt.Path, rt.Public, rt.ReadOnlyOK})
	}
	return out
}
