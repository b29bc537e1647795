package httpapi

import (
	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

func toProfile(p *api.Profile) userpool.Profile {
	if p == nil {
		return userpool.Profile{}
	}
	return userpool.Profile(*p)
}

func fromUser(u *userpool.User) api.User {
	return api.User{
		ID: u.ID, UserPoolID: u.PoolID,
		Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified,
		Profile:     api.Profile(u.Profile),
		LoginsCount: u.LoginsCount, LastLogin: u.LastLogin, SignedUp: u.SignedUp,
		Blocked: u.Blocked, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func fromResult(res *auth.Result) api.User {
	u := fromUser(res.User)
	u.Token = res.Token
	u.TokenExpiredAt = res.TokenExpires
	u.NewlyCreated = res.NewlyCreated
	u.CustomData, u.CustomDataTypes = customData(res.CustomData)
	return u
}

func registerOpts(o *api.RegisterOptions) (auth.RegisterOptions, string) {
	if o == nil {
		return auth.RegisterOptions{}, ""
	}
	// Values decoded from JSON always re-encode, so the error is nil.
	custom, _ := rawCustomData(o.CustomData)
	return auth.RegisterOptions{ForceLogin: o.ForceLogin, GenerateToken: o.GenerateToken, CustomData: custom, Context: o.Context}, o.ClientIP
}

func loginOpts(o *api.LoginOptions) (auth.LoginOptions, string) {
	if o == nil {
		return auth.LoginOptions{}, ""
	}
	return auth.LoginOptions{AutoRegister: o.AutoRegister, CaptchaCode: o.CaptchaCode, CaptchaID: o.CaptchaID, Context: o.Context}, o.ClientIP
}

// profileUpdate lists the fields an UpdateProfileInput sets, by the names
// auth uses (the JSON names).
func profileUpdate(in *api.UpdateProfileInput) auth.ProfileUpdate {
	return auth.ProfileUpdate{
		Fields: map[string]*string{
			"username": in.Username, "nickname": in.Nickname, "photo": in.Photo, "company": in.Company,
			"browser": in.Browser, "device": in.Device, "lastIP": in.LastIP, "name": in.Name,
			"givenName": in.GivenName, "familyName": in.FamilyName, "middleName": in.MiddleName,
			"profile": in.Profile, "preferredUsername": in.PreferredUsername, "website": in.Website,
			"gender": in.Gender, "birthdate": in.Birthdate, "zoneinfo": in.Zoneinfo, "locale": in.Locale,
			"address": in.Address, "streetAddress": in.StreetAddress, "locality": in.Locality,
			"region": in.Region, "postalCode": in.PostalCode, "city": in.City, "province": in.Province,
			"country": in.Country,
		},
		Email: in.Email, Phone: in.Phone, Password: in.Password,
	}
}
