package api

import "time"

// Application types (App.Type).
const (
	AppTypeWeb     = "web"     // confidential: client secret; authorization code (+ PKCE)
	AppTypeSPA     = "spa"     // public: no secret; authorization code + PKCE
	AppTypeNative  = "native"  // public: no secret; authorization code + PKCE; loopback and private-use redirect URIs
	AppTypeMachine = "machine" // confidential: client secret; client credentials only
)

// App is an application (an OAuth / OpenID Connect client) as the
// administration API shows it. ID is the client_id. ClientSecret appears
// only in the answers of creation and of a secret rotation (web and
// machine apps): only its hash is kept, so it cannot be shown again.
// Token lifetimes are Go duration text ("1h", "720h").
type App struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Type                   string    `json:"type"`
	RedirectURIs           []string  `json:"redirectUris"`
	PostLogoutRedirectURIs []string  `json:"postLogoutRedirectUris"`
	Scopes                 []string  `json:"scopes"`
	FirstParty             bool      `json:"firstParty"`
	AccessTokenTTL         string    `json:"accessTokenTTL"`
	IDTokenTTL             string    `json:"idTokenTTL"`
	RefreshTokenTTL        string    `json:"refreshTokenTTL"`
	HasSecret              bool      `json:"hasSecret"`
	ClientSecret           string    `json:"clientSecret,omitempty"`
	CreatedAt              time.Time `json:"createdAt"`
	UpdatedAt              time.Time `json:"updatedAt"`
}

// AppList answers GET .../apps, oldest first.
type AppList struct {
	Apps []App `json:"apps"`
}

// CreateAppRequest creates an application. Name and Type are required.
// Scopes default to openid, profile and email (none for machine apps);
// empty lifetimes to 1h (access), 1h (ID) and 720h (refresh).
type CreateAppRequest struct {
	Name                   string   `json:"name"`
	Type                   string   `json:"type"`
	RedirectURIs           []string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	FirstParty             bool     `json:"firstParty,omitempty"`
	AccessTokenTTL         string   `json:"accessTokenTTL,omitempty"`
	IDTokenTTL             string   `json:"idTokenTTL,omitempty"`
	RefreshTokenTTL        string   `json:"refreshTokenTTL,omitempty"`
}

// UpdateAppRequest changes what it names; absent fields stay. Type may be
// given only with the app's current type: it never changes. A list given
// replaces the whole list (an empty list clears it).
type UpdateAppRequest struct {
	Name                   *string   `json:"name,omitempty"`
	Type                   *string   `json:"type,omitempty"`
	RedirectURIs           *[]string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs *[]string `json:"postLogoutRedirectUris,omitempty"`
	Scopes                 *[]string `json:"scopes,omitempty"`
	FirstParty             *bool     `json:"firstParty,omitempty"`
	AccessTokenTTL         *string   `json:"accessTokenTTL,omitempty"`
	IDTokenTTL             *string   `json:"idTokenTTL,omitempty"`
	RefreshTokenTTL        *string   `json:"refreshTokenTTL,omitempty"`
}
