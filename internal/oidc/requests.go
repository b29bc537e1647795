package oidc

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/authpool/authpool/internal/userpool"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
)

// requestData is the JSON kept in an auth request's Data: the parameters
// of /oidc/auth the provider needs later, and the sign-in's result.
type requestData struct {
	Scopes        []string `json:"scopes"`
	ResponseType  string   `json:"responseType"`
	ResponseMode  string   `json:"responseMode,omitempty"`
	RedirectURI   string   `json:"redirectUri"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	Challenge     string   `json:"challenge,omitempty"`
	ChallengeMeth string   `json:"challengeMethod,omitempty"`
	Prompt        []string `json:"prompt,omitempty"`
	MaxAge        *uint    `json:"maxAge,omitempty"`
	LoginHint     string   `json:"loginHint,omitempty"`
	UILocales     string   `json:"uiLocales,omitempty"`
	HintSubject   string   `json:"hintSubject,omitempty"` // sub of a valid id_token_hint
	// ACR is the acr_values entry asking for MFA that the request named
	// (ACRMFA or ACRPAPEMultiFactor); "" when it asked none.
	ACR string `json:"acr,omitempty"`

	// The sign-in's result.
	Done      bool      `json:"done,omitempty"`
	UserID    string    `json:"userId,omitempty"`
	SessionID string    `json:"sessionId,omitempty"`
	AuthTime  time.Time `json:"authTime,omitzero"`
	AMR       []string  `json:"amr,omitempty"`
}

// authRequest is op.AuthRequest over a stored request.
type authRequest struct {
	row  *userpool.OIDCAuthRequest
	data requestData
}

func loadAuthRequest(r *userpool.OIDCAuthRequest) (*authRequest, error) {
	a := &authRequest{row: r}
	if err := json.Unmarshal(r.Data, &a.data); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *authRequest) encode() []byte {
	b, _ := json.Marshal(a.data) // plain data always encodes
	return b
}

func (a *authRequest) GetID() string { return a.row.ID }
func (a *authRequest) GetACR() string {
	if a.data.ACR != "" && slices.Contains(a.data.AMR, "mfa") {
		return a.data.ACR
	}
	return ""
}
func (a *authRequest) GetAMR() []string      { return a.data.AMR }
func (a *authRequest) GetAudience() []string { return []string{a.row.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.data.AuthTime
}
func (a *authRequest) GetClientID() string { return a.row.ClientID }
func (a *authRequest) GetCodeChallenge() *zoidc.CodeChallenge {
	if a.data.Challenge == "" {
		return nil
	}
	return &zoidc.CodeChallenge{Challenge: a.data.Challenge, Method: zoidc.CodeChallengeMethod(a.data.ChallengeMeth)}
}
func (a *authRequest) GetNonce() string       { return a.data.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.data.RedirectURI }
func (a *authRequest) GetResponseType() zoidc.ResponseType {
	return zoidc.ResponseType(a.data.ResponseType)
}
func (a *authRequest) GetResponseMode() zoidc.ResponseMode {
	return zoidc.ResponseMode(a.data.ResponseMode)
}
func (a *authRequest) GetScopes() []string { return a.data.Scopes }
func (a *authRequest) GetState() string    { return a.data.State }
func (a *authRequest) GetSubject() string  { return a.data.UserID }
func (a *authRequest) Done() bool          { return a.data.Done }
func (a *authRequest) sessionID() string   { return a.data.SessionID }

// refreshRequest is op.RefreshTokenRequest over a grant and the number of
// the refresh token presented.
type refreshRequest struct {
	grant  *userpool.OIDCGrant
	seq    int64
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.grant.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.grant.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }
func (r *refreshRequest) sessionID() string           { return r.grant.SessionID }

// ccRequest is a client-credentials token request: the app acts for
// itself, so it is the subject.
type ccRequest struct {
	clientID string
	scopes   []string
}

func (c *ccRequest) GetSubject() string    { return c.clientID }
func (c *ccRequest) GetAudience() []string { return []string{c.clientID} }
func (c *ccRequest) GetScopes() []string   { return c.scopes }
