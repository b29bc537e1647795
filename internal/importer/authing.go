package importer

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/authpool/authpool/api"
)

// authingUser is a user as Authing's management API lists it
// (`listUsers` of the v3 Node/Go SDKs, /api/v3/list-users: data.list)
// and as its console export carries it: a JSON array, JSON lines, or a
// page {"data": {"list": [...]}} saved as is is read as an array through
// its "list".
type authingUser struct {
	UserID            string                     `json:"userId"`
	ID                string                     `json:"id"` // v2 SDKs
	Status            string                     `json:"status"`
	Email             string                     `json:"email"`
	EmailVerified     bool                       `json:"emailVerified"`
	Phone             string                     `json:"phone"`
	PhoneCountryCode  string                     `json:"phoneCountryCode"`
	PhoneVerified     bool                       `json:"phoneVerified"`
	Username          string                     `json:"username"`
	Name              string                     `json:"name"`
	Nickname          string                     `json:"nickname"`
	Photo             string                     `json:"photo"`
	Gender            string                     `json:"gender"`
	Birthdate         string                     `json:"birthdate"`
	Country           string                     `json:"country"`
	Province          string                     `json:"province"`
	City              string                     `json:"city"`
	Address           string                     `json:"address"`
	StreetAddress     string                     `json:"streetAddress"`
	PostalCode        string                     `json:"postalCode"`
	Company           string                     `json:"company"`
	GivenName         string                     `json:"givenName"`
	FamilyName        string                     `json:"familyName"`
	MiddleName        string                     `json:"middleName"`
	PreferredUsername string                     `json:"preferredUsername"`
	Profile           string                     `json:"profile"`
	Website           string                     `json:"website"`
	Zoneinfo          string                     `json:"zoneinfo"`
	Locale            string                     `json:"locale"`
	Locality          string                     `json:"locality"`
	Region            string                     `json:"region"`
	Blocked           bool                       `json:"blocked"`
	CreatedAt         string                     `json:"createdAt"`
	SignedUp          string                     `json:"signedUp"`
	ExternalID        string                     `json:"externalId"`
	PasswordHash      string                     `json:"passwordHash"`
	CustomData        map[string]json.RawMessage `json:"customData"`
	Identities        []struct {
		ExtIdpID    string `json:"extIdpId"`
		Provider    string `json:"provider"`
		UserIDInIdp string `json:"userIdInIdp"`
	} `json:"identities"`
}

type authingReader struct{ s *jsonStream }

func newAuthing(r io.Reader, _ Options) (Reader, error) {
	return &authingReader{s: newJSONStream(r, "list")}, nil
}

func (a *authingReader) Next() (int, *api.UserRecord, error) {
	var u authingUser
	n, err := a.s.next(&u)
	if err != nil {
		return n, nil, err
	}
	id := u.UserID
	if id == "" {
		id = u.ID
	}
	phone := strings.TrimSpace(u.Phone)
	if phone != "" && !strings.HasPrefix(phone, "+") {
		cc := strings.TrimSpace(u.PhoneCountryCode)
		if cc == "" {
			cc = "+86" // Authing's default region
		}
		phone = "+" + strings.TrimPrefix(cc, "+") + phone
	}
	rec := &api.UserRecord{ID: id, ExternalID: id, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: phone, PhoneVerified: u.PhoneVerified, PasswordHash: u.PasswordHash,
		Blocked: u.Blocked || u.Status == "Suspended" || u.Status == "Deactivated"}
	p := &rec.Profile
	p.Username, p.Name, p.Nickname, p.Photo, p.Gender, p.Birthdate = u.Username, u.Name, u.Nickname, u.Photo, u.Gender, u.Birthdate
	p.Country, p.Province, p.City, p.Address, p.StreetAddress, p.PostalCode = u.Country, u.Province, u.City, u.Address, u.StreetAddress, u.PostalCode
	p.Company, p.GivenName, p.FamilyName, p.MiddleName, p.PreferredUsername = u.Company, u.GivenName, u.FamilyName, u.MiddleName, u.PreferredUsername
	p.Profile, p.Website, p.Zoneinfo, p.Locale, p.Locality, p.Region = u.Profile, u.Website, u.Zoneinfo, u.Locale, u.Locality, u.Region
	if p.Gender == "U" {
		p.Gender = "" // Authing's "unknown"
	}
	if t, ok := pgTime(u.CreatedAt); ok {
		rec.CreatedAt = t
	}
	if t, ok := pgTime(u.SignedUp); ok {
		rec.SignedUp = t
	}
	rec.CustomData = customData(nil, u.CustomData)
	for _, i := range u.Identities {
		prov := i.Provider
		if i.ExtIdpID != "" {
			prov += ":" + i.ExtIdpID
		}
		if prov != "" && i.UserIDInIdp != "" {
			rec.Identities = append(rec.Identities, api.Identity{Provider: prov, Subject: i.UserIDInIdp})
		}
	}
	return n, rec, nil
}
