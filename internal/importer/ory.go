package importer

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/authpool/authpool/api"
)

// oryIdentity is an identity as Ory Kratos imports it (POST /admin/identities,
// `kratos import identities`) and lists it (`kratos list identities
// --format json`): a JSON array or JSON lines.
type oryIdentity struct {
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	SchemaID   string `json:"schema_id"`
	State      string `json:"state"`
	CreatedAt  string `json:"created_at"`
	Traits     struct {
		Email       string          `json:"email"`
		Username    string          `json:"username"`
		Phone       string          `json:"phone"`
		PhoneNumber string          `json:"phone_number"`
		Name        json.RawMessage `json:"name"`
		Picture     string          `json:"picture"`
	} `json:"traits"`
	VerifiableAddresses []struct {
		Value    string `json:"value"`
		Verified bool   `json:"verified"`
		Via      string `json:"via"`
	} `json:"verifiable_addresses"`
	Credentials struct {
		Password *struct {
			Config struct {
				HashedPassword string `json:"hashed_password"`
				Password       string `json:"password"`
			} `json:"config"`
		} `json:"password"`
		OIDC *struct {
			Config struct {
				Providers []struct {
					Provider string `json:"provider"`
					Subject  string `json:"subject"`
				} `json:"providers"`
			} `json:"config"`
		} `json:"oidc"`
	} `json:"credentials"`
	MetadataPublic map[string]json.RawMessage `json:"metadata_public"`
}

type oryReader struct{ s *jsonStream }

func newOry(r io.Reader, _ Options) (Reader, error) { return &oryReader{s: newJSONStream(r, "")}, nil }

func (o *oryReader) Next() (int, *api.UserRecord, error) {
	var u oryIdentity
	n, err := o.s.next(&u)
	if err != nil {
		return n, nil, err
	}
	ext := u.ExternalID
	if ext == "" {
		ext = u.ID
	}
	rec := &api.UserRecord{ID: u.ID, ExternalID: ext, Email: u.Traits.Email, Blocked: u.State == "inactive"}
	rec.Username = u.Traits.Username
	rec.Phone = plusPhone(u.Traits.Phone + u.Traits.PhoneNumber)
	rec.Photo = u.Traits.Picture
	if len(u.Traits.Name) > 0 {
		var s string
		var parts struct{ First, Last string }
		if json.Unmarshal(u.Traits.Name, &s) == nil {
			rec.Name = s
		} else if json.Unmarshal(u.Traits.Name, &parts) == nil {
			rec.GivenName, rec.FamilyName = parts.First, parts.Last
			rec.Name = strings.TrimSpace(parts.First + " " + parts.Last)
		}
	}
	if t, ok := pgTime(u.CreatedAt); ok {
		rec.CreatedAt = t
	}
	for _, a := range u.VerifiableAddresses {
		switch {
		case a.Via == "email" && strings.EqualFold(a.Value, rec.Email):
			rec.EmailVerified = a.Verified
		case a.Via == "sms" && rec.Phone != "" && plusPhone(a.Value) == rec.Phone:
			rec.PhoneVerified = a.Verified
		}
	}
	if p := u.Credentials.Password; p != nil {
		if p.Config.Password != "" {
			return n, nil, refuse(n, "cleartext_password", "a cleartext password is not imported (authpool hashes nothing at import); give hashed_password")
		}
		rec.PasswordHash = p.Config.HashedPassword
	}
	if o := u.Credentials.OIDC; o != nil {
		for _, p := range o.Config.Providers {
			rec.Identities = append(rec.Identities, api.Identity{Provider: p.Provider, Subject: p.Subject})
		}
	}
	rec.CustomData = customData(nil, u.MetadataPublic)
	return n, rec, nil
}
