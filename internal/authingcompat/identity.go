package authingcompat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/userpool"
)

// getIdentitiesPath is what authing-js-sdk's
// SocialAuthenticationClient.getIdentities (authenticationClient.social)
// calls: GET {appHost}/api/v3/get-identities with the user's bearer token.
const getIdentitiesPath = "/api/v3/get-identities"

// v3Identity is Authing's Identity of the v3 API (authing-js-sdk
// types/index.d.ts). authpool keeps no upstream tokens: accessToken and
// refreshToken are always empty.
type v3Identity struct {
	IdentityID    string         `json:"identityId"`
	ExtIdpID      string         `json:"extIdpId"`
	Provider      string         `json:"provider"`
	Type          string         `json:"type"`
	UserIDInIdp   string         `json:"userIdInIdp"`
	UserInfoInIdp map[string]any `json:"userInfoInIdp"`
	AccessToken   string         `json:"accessToken"`
	RefreshToken  string         `json:"refreshToken"`
	OriginConnIDs []string       `json:"originConnIds"`
}

// getIdentities lists the bearer's identities. The connector id is
// Authing's extIdpId, provider and origin connection alike; type is
// "unionid" or "openid" when a WeChat identity's claims say which the
// subject is, else "primary"; identityId is a stable digest of connector
// and subject (authpool's identities have no id of their own).
func (s *Server) getIdentities(w http.ResponseWriter, r *http.Request) {
	ids, err := s.Auth.ListIdentities(r.Context(), s.meta(r, ""), httpapi.Bearer(r))
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	out := make([]v3Identity, 0, len(ids))
	for _, id := range ids {
		out = append(out, v3IdentityOf(id))
	}
	s.writeREST(w, r, out, nil)
}

func v3IdentityOf(id *userpool.Identity) v3Identity {
	info := map[string]any{}
	_ = json.Unmarshal([]byte(id.Data), &info) // bounded when written; bad data: no claims
	typ := "primary"
	switch id.Subject {
	case info["unionid"]:
		typ = "unionid"
	case info["openid"]:
		typ = "openid"
	}
	h := sha256.Sum256([]byte(id.Provider + "\x00" + id.Subject))
	return v3Identity{
		IdentityID: hex.EncodeToString(h[:12]), ExtIdpID: id.Provider, Provider: id.Provider, Type: typ,
		UserIDInIdp: id.Subject, UserInfoInIdp: info, OriginConnIDs: []string{id.Provider},
	}
}
