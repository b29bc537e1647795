package authingcompat

import (
	"context"
	"strconv"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// user is Authing's User, for GraphQL (fields resolve by name) and for the
// REST /api/v2/users/me (the JSON names are the GraphQL names). Fields
// authpool does not keep are null, or their neutral value where the SDKs
// expect one: no identities, no custom data, not deleted.
type user struct {
	ID                string       `json:"id"`
	Arn               string       `json:"arn"`
	UserPoolID        string       `json:"userPoolId"`
	Status            *string      `json:"status"`
	Username          *string      `json:"username"`
	Email             *string      `json:"email"`
	EmailVerified     *bool        `json:"emailVerified"`
	Phone             *string      `json:"phone"`
	PhoneVerified     *bool        `json:"phoneVerified"`
	Unionid           *string      `json:"unionid"`
	Openid            *string      `json:"openid"`
	Identities        *[]*identity `json:"identities"`
	Nickname          *string      `json:"nickname"`
	RegisterSource    *[]string    `json:"registerSource"`
	Photo             *string      `json:"photo"`
	Password          *string      `json:"password"` // always null: selected by every SDK document
	Oauth             *string      `json:"oauth"`
	Token             *string      `json:"token"`
	TokenExpiredAt    *string      `json:"tokenExpiredAt"`
	LoginsCount       *int32       `json:"loginsCount"`
	LastLogin         *string      `json:"lastLogin"`
	LastIP            *string      `json:"lastIP"`
	SignedUp          *string      `json:"signedUp"`
	Blocked           *bool        `json:"blocked"`
	IsDeleted         *bool        `json:"isDeleted"`
	Device            *string      `json:"device"`
	Browser           *string      `json:"browser"`
	Company           *string      `json:"company"`
	Name              *string      `json:"name"`
	GivenName         *string      `json:"givenName"`
	FamilyName        *string      `json:"familyName"`
	MiddleName        *string      `json:"middleName"`
	Profile           *string      `json:"profile"`
	PreferredUsername *string      `json:"preferredUsername"`
	Website           *string      `json:"website"`
	Gender            *string      `json:"gender"`
	Birthdate         *string      `json:"birthdate"`
	Zoneinfo          *string      `json:"zoneinfo"`
	Locale            *string      `json:"locale"`
	Address           *string      `json:"address"`
	Formatted         *string      `json:"formatted"`
	StreetAddress     *string      `json:"streetAddress"`
	Locality          *string      `json:"locality"`
	Region            *string      `json:"region"`
	PostalCode        *string      `json:"postalCode"`
	City              *string      `json:"city"`
	Province          *string      `json:"province"`
	Country           *string      `json:"country"`
	CreatedAt         *string      `json:"createdAt"`
	UpdatedAt         *string      `json:"updatedAt"`
	ExternalID        *string      `json:"externalId"`
	PhoneCountryCode  *string      `json:"phoneCountryCode"`
	NewlyCreated      *bool        `json:"newlyCreated"`
	ExpiredAt         *string      `json:"expiredAt"`
	DirectManagement  *string      `json:"directManagement"`
	// Custom is customData when known; the GraphQL field resolves through
	// the CustomData method, which reads it on demand otherwise.
	Custom *[]*customDatum `json:"customData"`
	// loadCustom reads the user's values; nil when Custom is complete.
	loadCustom func(ctx context.Context) ([]auth.UDV, error)
}

// CustomData resolves User.customData.
func (u *user) CustomData(ctx context.Context) (*[]*customDatum, error) {
	cd := u.Custom
	if u.loadCustom != nil {
		vs, err := u.loadCustom(ctx)
		if err != nil {
			return nil, err
		}
		loaded, err := customDataOf(vs)
		if err != nil {
			return nil, err
		}
		cd = &loaded
	}
	if cd != nil {
		n := 0
		for _, d := range *cd {
			n += len(d.Key)
			if d.Value != nil {
				n += len(*d.Value)
			}
		}
		if err := callFrom(ctx).charge(n); err != nil {
			return nil, err
		}
	}
	return cd, nil
}

type identity struct {
	Openid        *string `json:"openid"`
	UserIDInIdp   *string `json:"userIdInIdp"`
	UserInfoInIdp *string `json:"userInfoInIdp"`
	UserID        *string `json:"userId"`
	ConnectionID  *string `json:"connectionId"`
	IsSocial      *bool   `json:"isSocial"`
	Provider      *string `json:"provider"`
	Type          *string `json:"type"`
	UserPoolID    *string `json:"userPoolId"`
	ExtIdpID      *string `json:"extIdpId"`
	RefreshToken  *string `json:"refreshToken"`
	AccessToken   *string `json:"accessToken"`
}

// customDatum is one user-defined value of a user (UserCustomData).
type customDatum struct {
	Key      string  `json:"key"`
	Value    *string `json:"value"`
	Label    *string `json:"label"`
	DataType string  `json:"dataType"`
}

// arn is Authing's resource name of a user.
func arn(poolID, userID string) string { return "arn:cn:authing:" + poolID + ":user:" + userID }

// str is a nullable string: authpool keeps "" for "not set", Authing says null.
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func boolean(b bool) *bool { return &b }

// isoTime is Authing's time format (ISO 8601, UTC, milliseconds).
func isoTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return str(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// fromResult renders a use case's answer: the user, and the token it
// carries (issued, or the caller's own echoed back), which the SDKs store
// in place of theirs.
func fromResult(res *auth.Result) *user {
	u := fromUser(res.User)
	if cd, err := customDataOf(res.CustomData); err == nil {
		u.Custom = &cd
	} else {
		// Values the use cases decoded always encode; should one not, the
		// user is answered and the field read again on demand, which
		// reports the error.
		u.loadCustom = func(context.Context) ([]auth.UDV, error) { return nil, err }
	}
	if res.Token != "" {
		u.Token = str(res.Token)
		u.TokenExpiredAt = isoTime(res.TokenExpires)
	}
	u.NewlyCreated = boolean(res.NewlyCreated)
	return u
}

func fromUser(u *userpool.User) *user {
	status := "Activated"
	if u.Blocked {
		status = "Suspended"
	}
	logins := int32(min(u.LoginsCount, 1<<31-1))
	out := &user{
		ID: u.ID, Arn: arn(u.PoolID, u.ID), UserPoolID: u.PoolID,
		Status:           &status,
		Username:         str(u.Username),
		Email:            str(u.Email),
		EmailVerified:    boolean(u.EmailVerified),
		Phone:            str(u.Phone),
		PhoneCountryCode: countryCode(u.Phone),
		PhoneVerified:    boolean(u.PhoneVerified),
		Identities:       &[]*identity{},
		Nickname:         str(u.Nickname), Photo: str(u.Photo),
		LoginsCount: &logins,
		LastLogin:   isoTime(u.LastLogin), LastIP: str(u.LastIP),
		SignedUp: isoTime(u.SignedUp), Blocked: boolean(u.Blocked), IsDeleted: boolean(false),
		Device: str(u.Device), Browser: str(u.Browser), Company: str(u.Company),
		Name: str(u.Name), GivenName: str(u.GivenName), FamilyName: str(u.FamilyName),
		MiddleName: str(u.MiddleName), Profile: str(u.Profile.Profile),
		PreferredUsername: str(u.PreferredUsername), Website: str(u.Website),
		Gender: str(u.Gender), Birthdate: str(u.Birthdate), Zoneinfo: str(u.Zoneinfo),
		Locale: str(u.Locale), Address: str(u.Address), StreetAddress: str(u.StreetAddress),
		Locality: str(u.Locality), Region: str(u.Region), PostalCode: str(u.PostalCode),
		City: str(u.City), Province: str(u.Province), Country: str(u.Country),
		CreatedAt: isoTime(u.CreatedAt), UpdatedAt: isoTime(u.UpdatedAt),
		NewlyCreated: boolean(false),
	}
	return out
}

// countryCode is Authing's phoneCountryCode ("+86") of a stored phone
// number, which is in E.164; null without one.
func countryCode(phone string) *string {
	if phone == "" {
		return nil
	}
	num, err := phonenumbers.Parse(phone, "ZZ")
	if err != nil || num.GetCountryCode() == 0 {
		return nil
	}
	return str("+" + strconv.Itoa(int(num.GetCountryCode())))
}

// jwtStatus is checkLoginStatus's answer (JWTTokenStatus).
type jwtStatus struct {
	Code    *int32
	Message *string
	Status  *bool
	Exp     *int32
	Iat     *int32
	Data    *jwtDetail
}

type jwtDetail struct {
	ID         *string
	UserPoolID *string
	Arn        *string
}

// refreshed is refreshToken's answer (RefreshToken).
type refreshed struct {
	Token *string
	Iat   *int32
	Exp   *int32
}

// commonMessage is Authing's CommonMessage.
type commonMessage struct {
	Message *string
	Code    *int32
}

// epoch is a Unix time as GraphQL's 32-bit Int (Authing's schema); times
// past 2038 do not fit and are reported as null.
func epoch(t int64) *int32 {
	if t <= 0 || t > 1<<31-1 {
		return nil
	}
	v := int32(t)
	return &v
}
