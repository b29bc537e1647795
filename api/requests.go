package api

// Header names the native API reads.
const (
	HeaderUserPoolID = "X-Authpool-User-Pool-Id"
	HeaderAppID      = "X-Authpool-App-Id"
	HeaderRequestID  = "X-Request-Id"
)

// MaxBodyBytes is the largest request body the server reads (64 KiB);
// larger bodies get HTTP 413 and code 1002.
const MaxBodyBytes = 64 << 10

// MaxPipelineBodyBytes is the body bound of the administration routes
// that carry a pipeline (create, update, test run): 256 KiB, room for a
// script of 32 KiB however it is JSON-escaped.
const MaxPipelineBodyBytes = 256 << 10

// RegisterOptions shapes what a registration returns.
type RegisterOptions struct {
	// ForceLogin runs the complete login process: a token is issued, the
	// login count grows by one and the last login time and IP are set.
	ForceLogin bool `json:"forceLogin,omitempty"`
	// GenerateToken issues a token without login side effects.
	GenerateToken bool `json:"generateToken,omitempty"`
	// ClientIP is the end user's address when a backend calls on their
	// behalf; it is honoured only from trusted callers.
	ClientIP string `json:"clientIp,omitempty"`
	// CustomData are user-defined values for the new user, keyed by field
	// key and checked against the fields' types like SetUdv.
	CustomData map[string]any `json:"customData,omitempty"`
	// Context is passed to the pool's pipelines as context.params.
	Context map[string]any `json:"context,omitempty"`
}

// LoginOptions shapes a login.
type LoginOptions struct {
	// AutoRegister creates the account when it does not exist.
	AutoRegister bool `json:"autoRegister,omitempty"`
	// CaptchaCode is the answer to the CAPTCHA CaptchaID (GET
	// /api/v1/captcha), needed after a 2000 answer. A browser may leave
	// CaptchaID empty: the CAPTCHA route's cookie carries it.
	CaptchaCode string `json:"captchaCode,omitempty"`
	CaptchaID   string `json:"captchaId,omitempty"`
	// ClientIP is the end user's address when a backend calls on their
	// behalf; it is honoured only from trusted callers (docs/SECURITY.md).
	ClientIP string `json:"clientIp,omitempty"`
	// Context is passed to the pool's pipelines as context.params.
	Context map[string]any `json:"context,omitempty"`
}

type RegisterByEmailRequest struct {
	Email    string           `json:"email"`
	Password string           `json:"password"`
	Profile  *RegisterProfile `json:"profile,omitempty"`
	Options  *RegisterOptions `json:"options,omitempty"`
}

type RegisterByUsernameRequest struct {
	Username string           `json:"username"`
	Password string           `json:"password"`
	Profile  *RegisterProfile `json:"profile,omitempty"`
	Options  *RegisterOptions `json:"options,omitempty"`
}

type LoginByEmailRequest struct {
	Email    string        `json:"email"`
	Password string        `json:"password"`
	Options  *LoginOptions `json:"options,omitempty"`
}

type LoginByUsernameRequest struct {
	Username string        `json:"username"`
	Password string        `json:"password"`
	Options  *LoginOptions `json:"options,omitempty"`
}

// CheckLoginStatusRequest checks Token, or the bearer token when Token is empty.
type CheckLoginStatusRequest struct {
	Token string `json:"token,omitempty"`
}

type UpdatePasswordRequest struct {
	NewPassword string `json:"newPassword"`
	OldPassword string `json:"oldPassword,omitempty"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}
