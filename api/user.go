package api

import "time"

// Profile carries every profile field a user can register with. Empty
// strings mean "not given".
type Profile struct {
	Username          string `json:"username,omitempty"`
	Nickname          string `json:"nickname,omitempty"`
	Photo             string `json:"photo,omitempty"`
	Company           string `json:"company,omitempty"`
	Browser           string `json:"browser,omitempty"`
	Device            string `json:"device,omitempty"`
	LastIP            string `json:"lastIP,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"givenName,omitempty"`
	FamilyName        string `json:"familyName,omitempty"`
	MiddleName        string `json:"middleName,omitempty"`
	Profile           string `json:"profile,omitempty"`
	PreferredUsername string `json:"preferredUsername,omitempty"`
	Website           string `json:"website,omitempty"`
	Gender            string `json:"gender,omitempty"`
	Birthdate         string `json:"birthdate,omitempty"`
	Zoneinfo          string `json:"zoneinfo,omitempty"`
	Locale            string `json:"locale,omitempty"`
	Address           string `json:"address,omitempty"`
	StreetAddress     string `json:"streetAddress,omitempty"`
	Locality          string `json:"locality,omitempty"`
	Region            string `json:"region,omitempty"`
	PostalCode        string `json:"postalCode,omitempty"`
	City              string `json:"city,omitempty"`
	Province          string `json:"province,omitempty"`
	Country           string `json:"country,omitempty"`
}

// RegisterProfile is the optional profile given at registration.
type RegisterProfile = Profile

// UpdateProfileInput uses pointers so that nil ("leave as is") differs from
// a pointer to "" ("set empty"). Email, Phone and Password are present only
// so that an attempt to change them is refused with a clear code (2225,
// 2226) instead of being silently dropped.
type UpdateProfileInput struct {
	Username          *string `json:"username,omitempty"`
	Nickname          *string `json:"nickname,omitempty"`
	Photo             *string `json:"photo,omitempty"`
	Company           *string `json:"company,omitempty"`
	Browser           *string `json:"browser,omitempty"`
	Device            *string `json:"device,omitempty"`
	LastIP            *string `json:"lastIP,omitempty"`
	Name              *string `json:"name,omitempty"`
	GivenName         *string `json:"givenName,omitempty"`
	FamilyName        *string `json:"familyName,omitempty"`
	MiddleName        *string `json:"middleName,omitempty"`
	Profile           *string `json:"profile,omitempty"`
	PreferredUsername *string `json:"preferredUsername,omitempty"`
	Website           *string `json:"website,omitempty"`
	Gender            *string `json:"gender,omitempty"`
	Birthdate         *string `json:"birthdate,omitempty"`
	Zoneinfo          *string `json:"zoneinfo,omitempty"`
	Locale            *string `json:"locale,omitempty"`
	Address           *string `json:"address,omitempty"`
	StreetAddress     *string `json:"streetAddress,omitempty"`
	Locality          *string `json:"locality,omitempty"`
	Region            *string `json:"region,omitempty"`
	PostalCode        *string `json:"postalCode,omitempty"`
	City              *string `json:"city,omitempty"`
	Province          *string `json:"province,omitempty"`
	Country           *string `json:"country,omitempty"`

	Email    *string `json:"email,omitempty"`
	Phone    *string `json:"phone,omitempty"`
	Password *string `json:"password,omitempty"`
}

// User is a user as the API shows it. It never carries a password or hash.
type User struct {
	ID            string `json:"id"`
	UserPoolID    string `json:"userPoolId"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"emailVerified"`
	Phone         string `json:"phone,omitempty"`
	PhoneVerified bool   `json:"phoneVerified"`
	Profile
	LoginsCount  int            `json:"loginsCount"`
	LastLogin    time.Time      `json:"lastLogin,omitzero"`
	SignedUp     time.Time      `json:"signedUp,omitzero"`
	Blocked      bool           `json:"blocked"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
	NewlyCreated bool           `json:"newlyCreated,omitempty"`
	CustomData   map[string]any `json:"customData,omitempty"`
	// CustomDataTypes gives the data type of each CustomData key, so that
	// clients can decode values (DATETIME arrives as RFC 3339 text).
	CustomDataTypes map[string]string `json:"customDataTypes,omitempty"`
	Token           string            `json:"token,omitempty"`
	TokenExpiredAt  time.Time         `json:"tokenExpiredAt,omitzero"`
	// Identities are the user's upstream identities (the admin API's
	// user; docs/SOCIAL.md).
	Identities []Identity `json:"identities,omitempty"`
}

// LoginStatus answers a token check. An invalid token is reported here
// (Status false and a code), never as an error.
type LoginStatus struct {
	Code       int    `json:"code"`
	Message    string `json:"message"`
	Status     bool   `json:"status"`
	Exp        int64  `json:"exp,omitempty"`
	Iat        int64  `json:"iat,omitempty"`
	UserID     string `json:"userId,omitempty"`
	UserPoolID string `json:"userPoolId,omitempty"`
}

// RefreshedToken is the answer of a token refresh.
type RefreshedToken struct {
	Token string `json:"token"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}
