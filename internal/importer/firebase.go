package importer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
)

// firebaseUser is a user of `firebase auth:export users.json
// --format=json`: {"users": [...]}.
type firebaseUser struct {
	LocalID          string `json:"localId"`
	Email            string `json:"email"`
	EmailVerified    bool   `json:"emailVerified"`
	PasswordHash     string `json:"passwordHash"`
	Salt             string `json:"salt"`
	DisplayName      string `json:"displayName"`
	PhotoURL         string `json:"photoUrl"`
	PhoneNumber      string `json:"phoneNumber"`
	Disabled         bool   `json:"disabled"`
	CreatedAt        string `json:"createdAt"`
	LastSignedInAt   string `json:"lastSignedInAt"`
	CustomAttributes string `json:"customAttributes"`
	ProviderUserInfo []struct {
		ProviderID  string `json:"providerId"`
		RawID       string `json:"rawId"`
		Email       string `json:"email"`
		DisplayName string `json:"displayName"`
		PhotoURL    string `json:"photoUrl"`
	} `json:"providerUserInfo"`
}

type firebaseReader struct {
	s   *jsonStream
	cfg FirebaseConfig
}

func newFirebase(r io.Reader, opt Options) (Reader, error) {
	c := opt.Firebase
	if c.SignerKey != "" || c.SaltSeparator != "" || c.Rounds != 0 || c.MemCost != 0 {
		if c.SignerKey == "" || c.Rounds == 0 || c.MemCost == 0 {
			return nil, fmt.Errorf("importer: the Firebase hash config needs the signer key, rounds and mem cost (and the salt separator)")
		}
		for _, v := range []string{c.SignerKey, c.SaltSeparator} {
			if _, err := base64.StdEncoding.DecodeString(std64(v)); err != nil {
				return nil, fmt.Errorf("importer: the Firebase signer key and salt separator are base64: %v", err)
			}
		}
	}
	return &firebaseReader{s: newJSONStream(r, "users"), cfg: c}, nil
}

// std64 turns URL-safe base64 (as some exports write it) into the standard
// alphabet.
func std64(s string) string { return strings.NewReplacer("-", "+", "_", "/").Replace(s) }

func (f *firebaseReader) Next() (int, *api.UserRecord, error) {
	var u firebaseUser
	n, err := f.s.next(&u)
	if err != nil {
		return n, nil, err
	}
	rec := &api.UserRecord{
		ID: u.LocalID, ExternalID: u.LocalID, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.PhoneNumber, PhoneVerified: u.PhoneNumber != "", Blocked: u.Disabled,
	}
	rec.Name, rec.Photo = u.DisplayName, u.PhotoURL
	if ms, err := strconv.ParseInt(u.CreatedAt, 10, 64); err == nil && ms > 0 {
		rec.CreatedAt = time.UnixMilli(ms).UTC()
	}
	if u.CustomAttributes != "" {
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal([]byte(u.CustomAttributes), &attrs); err != nil {
			return n, nil, refuse(n, "invalid_record", "customAttributes is not a JSON object")
		}
		rec.CustomData = customData(nil, attrs)
	}
	for _, p := range u.ProviderUserInfo {
		if p.ProviderID == "password" || p.ProviderID == "phone" || p.RawID == "" {
			continue
		}
		data, _ := json.Marshal(map[string]string{"email": p.Email, "displayName": p.DisplayName})
		rec.Identities = append(rec.Identities, api.Identity{Provider: p.ProviderID, Subject: p.RawID, Data: data})
	}
	if u.PasswordHash != "" {
		if f.cfg.SignerKey == "" {
			return n, nil, refuse(n, "invalid_password_hash", "the user has a password hash but no Firebase hash config was given")
		}
		rec.PasswordHash = fmt.Sprintf("$firebase-scrypt$rounds=%d,mem=%d$%s$%s$%s$%s", f.cfg.Rounds, f.cfg.MemCost,
			std64(f.cfg.SignerKey), std64(f.cfg.SaltSeparator), std64(u.Salt), std64(u.PasswordHash))
	}
	return n, rec, nil
}
