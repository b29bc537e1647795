package api

import "time"

// Social sign-in (docs/SOCIAL.md): a pool's connectors to upstream
// identity providers, the sign-in flow's exchange, and users' identities.

// Codes of social sign-in.
const (
	CodeSocialState        = 2801 // social_state_invalid: unknown, expired, used, or another browser's sign-in (or its one-time code)
	CodeSocialUpstream     = 2802 // upstream_unreachable, upstream_refused, upstream_answer_invalid
	CodeSocialLinkRequired = 2803 // social_link_required: data.linkToken; sign in to the existing account and confirm
	CodeIdentityTaken      = 2804 // identity_taken: the upstream account is linked to another user
	CodeConnectorExists    = 2805 // connector_exists
	CodeConnectorDisabled  = 2806 // connector_disabled: no such connector, or disabled
)

// Connector types.
const (
	ConnectorOIDC      = "oidc"
	ConnectorOAuth2    = "oauth2"
	ConnectorGitHub    = "github"
	ConnectorGoogle    = "google"
	ConnectorMicrosoft = "microsoft"
	ConnectorApple     = "apple"  // teamId, keyId; clientSecret: the .p8 key (PEM)
	ConnectorWeChat    = "wechat" // clientId: the AppID; clientSecret: the AppSecret
)

// SocialCallbackPath is the one callback URL of every connector: register
// {publicUrl}/api/v1/social/callback at the upstream.
const SocialCallbackPath = "/api/v1/social/callback"

// Connector is a pool's upstream identity provider as the administration
// API shows it. The client secret is write-only: HasSecret says one is
// stored.
type Connector struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	Label       string            `json:"label"`
	Icon        string            `json:"icon,omitempty"`
	Enabled     bool              `json:"enabled"`
	ClientID    string            `json:"clientId"`
	HasSecret   bool              `json:"hasSecret"`
	Issuer      string            `json:"issuer,omitempty"`
	AuthURL     string            `json:"authUrl,omitempty"`
	TokenURL    string            `json:"tokenUrl,omitempty"`
	UserInfoURL string            `json:"userInfoUrl,omitempty"`
	Scopes      []string          `json:"scopes"`
	ClaimMap    map[string]string `json:"claimMap,omitempty"`
	TeamID      string            `json:"teamId,omitempty"`
	KeyID       string            `json:"keyId,omitempty"`
	Tenant      string            `json:"tenant,omitempty"`
	// CallbackURL is the URL to register at the upstream.
	CallbackURL string    `json:"callbackUrl"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ConnectorList answers GET .../connectors, in id order.
type ConnectorList struct {
	Connectors []Connector `json:"connectors"`
}

// CreateConnectorRequest creates a connector: ID, Type and ClientID are
// required; an oidc connector needs Issuer, an oauth2 one AuthURL,
// TokenURL, UserInfoURL and ClaimMap["subject"]. Enabled defaults to
// true.
type CreateConnectorRequest struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Label        string            `json:"label,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	Enabled      *bool             `json:"enabled,omitempty"`
	ClientID     string            `json:"clientId"`
	ClientSecret string            `json:"clientSecret,omitempty"`
	Issuer       string            `json:"issuer,omitempty"`
	AuthURL      string            `json:"authUrl,omitempty"`
	TokenURL     string            `json:"tokenUrl,omitempty"`
	UserInfoURL  string            `json:"userInfoUrl,omitempty"`
	Scopes       []string          `json:"scopes,omitempty"`
	ClaimMap     map[string]string `json:"claimMap,omitempty"`
	TeamID       string            `json:"teamId,omitempty"`
	KeyID        string            `json:"keyId,omitempty"`
	Tenant       string            `json:"tenant,omitempty"`
}

// UpdateConnectorRequest changes what it names; absent fields stay. An
// empty ClientSecret removes the secret.
type UpdateConnectorRequest struct {
	Label        *string            `json:"label,omitempty"`
	Icon         *string            `json:"icon,omitempty"`
	Enabled      *bool              `json:"enabled,omitempty"`
	ClientID     *string            `json:"clientId,omitempty"`
	ClientSecret *string            `json:"clientSecret,omitempty"`
	Issuer       *string            `json:"issuer,omitempty"`
	AuthURL      *string            `json:"authUrl,omitempty"`
	TokenURL     *string            `json:"tokenUrl,omitempty"`
	UserInfoURL  *string            `json:"userInfoUrl,omitempty"`
	Scopes       *[]string          `json:"scopes,omitempty"`
	ClaimMap     *map[string]string `json:"claimMap,omitempty"`
	TeamID       *string            `json:"teamId,omitempty"`
	KeyID        *string            `json:"keyId,omitempty"`
	Tenant       *string            `json:"tenant,omitempty"`
}

// SocialTokenRequest exchanges the one-time code the sign-in brought to
// the app's redirect URI (the same redirect URI) for the login's answer:
// the user with a token, or the login's error (1635 with an MFA token,
// 2803 with a link token, ...).
type SocialTokenRequest struct {
	Code        string `json:"code"`
	RedirectURI string `json:"redirectUri"`
	// CodeVerifier is the PKCE verifier of the code_challenge the app
	// sent to authorize (required then, refused otherwise).
	CodeVerifier string `json:"codeVerifier,omitempty"`
}

// ConfirmLinkRequest links the identity a 2803 answer left waiting to
// the signed-in user.
type ConfirmLinkRequest struct {
	LinkToken string `json:"linkToken"`
}
