package importer

import (
	"encoding/json"
	"io"
	"time"

	"github.com/authpool/authpool/api"
)

// keycloakUser is a user of a realm export (`kc.sh export --realm R
// --file realm.json`, or the realm-users-N.json files of
// --users different_files): {"realm": ..., "users": [...]}.
type keycloakUser struct {
	ID                  string                       `json:"id"`
	CreatedTimestamp    int64                        `json:"createdTimestamp"`
	Username            string                       `json:"username"`
	Enabled             *bool                        `json:"enabled"`
	EmailVerified       bool                         `json:"emailVerified"`
	FirstName           string                       `json:"firstName"`
	LastName            string                       `json:"lastName"`
	Email               string                       `json:"email"`
	Attributes          map[string][]string          `json:"attributes"`
	Credentials         []map[string]json.RawMessage `json:"credentials"`
	FederatedIdentities []struct {
		IdentityProvider string `json:"identityProvider"`
		UserID           string `json:"userId"`
		UserName         string `json:"userName"`
	} `json:"federatedIdentities"`
	ServiceAccountClientID string `json:"serviceAccountClientId"`
}

type keycloakReader struct{ s *jsonStream }

func newKeycloak(r io.Reader, _ Options) (Reader, error) {
	return &keycloakReader{s: newJSONStream(r, "users")}, nil
}

func (k *keycloakReader) Next() (int, *api.UserRecord, error) {
	for {
		var u keycloakUser
		n, err := k.s.next(&u)
		if err != nil {
			return n, nil, err
		}
		if u.ServiceAccountClientID != "" {
			// A client's service account, not a person.
			return n, nil, refuse(n, "service_account", "service account of client %s is not a user", u.ServiceAccountClientID)
		}
		rec := &api.UserRecord{ID: u.ID, ExternalID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified,
			Blocked: u.Enabled != nil && !*u.Enabled}
		rec.Username, rec.GivenName, rec.FamilyName = u.Username, u.FirstName, u.LastName
		if u.CreatedTimestamp > 0 {
			rec.CreatedAt = time.UnixMilli(u.CreatedTimestamp).UTC()
		}
		for key, vals := range u.Attributes {
			if len(vals) == 0 {
				continue
			}
			if key == "phoneNumber" || key == "phone" || key == "phone_number" {
				rec.Phone = plusPhone(vals[0])
				continue
			}
			if key == "phoneNumberVerified" {
				rec.PhoneVerified = vals[0] == "true"
				continue
			}
			var v []byte
			if len(vals) == 1 {
				v, _ = json.Marshal(vals[0])
			} else {
				all, _ := json.Marshal(vals)
				v, _ = json.Marshal(string(all))
			}
			if rec.CustomData == nil {
				rec.CustomData = map[string]json.RawMessage{}
			}
			rec.CustomData[key] = v
		}
		for _, c := range u.Credentials {
			var typ string
			_ = json.Unmarshal(c["type"], &typ)
			if typ != "password" {
				continue
			}
			if rec.PasswordHash != "" {
				return n, nil, refuse(n, "invalid_password_hash", "more than one password credential")
			}
			// password.Parse reads the credential object as Keycloak
			// exports it.
			b, _ := json.Marshal(map[string]json.RawMessage{"type": c["type"], "secretData": c["secretData"], "credentialData": c["credentialData"]})
			rec.PasswordHash = string(b)
		}
		for _, f := range u.FederatedIdentities {
			data, _ := json.Marshal(map[string]string{"userName": f.UserName})
			rec.Identities = append(rec.Identities, api.Identity{Provider: f.IdentityProvider, Subject: f.UserID, Data: data})
		}
		return n, rec, nil
	}
}
