package userpool

import "time"

// PoolSettings are the per-pool policies. They live in the store, so a
// change (through the admin API) takes effect on every replica without a
// restart; the configuration supplies the initial values of the default
// pool. Fields added later take their DefaultPoolSettings value in pools
// stored before they existed.
type PoolSettings struct {
	// TokenTTL is the lifetime of a token and its session.
	TokenTTL time.Duration

	// Which registration methods are open.
	RegisterByEmail    bool
	RegisterByUsername bool
	RegisterByPhone    bool

	// Password policy.
	PasswordMinLength int
	// PasswordRejectCommon refuses passwords found in the common/breached list.
	PasswordRejectCommon bool

	// UpdatePhone / UpdateEmail also demand the current address and its code.
	VerifyOldPhone bool
	VerifyOldEmail bool

	// Verification codes.
	SMSCodeTTL      time.Duration
	EmailCodeTTL    time.Duration
	CodeMaxAttempts int

	// Sending limits (0 disables a limit).
	SMSPhoneInterval     time.Duration // at most one SMS per phone per interval
	SMSPhonePerDay       int
	SMSIPPerHour         int
	SMSCountryPerDay     int // per country calling code, against SMS pumping
	EmailAddressInterval time.Duration
	EmailAddressPerDay   int
	EmailIPPerHour       int

	// Login failure detection: after LoginFailureThreshold failed password
	// logins within LoginFailureWindow from one IP, or against one account,
	// a CAPTCHA is required.
	LoginFailureDetection bool
	LoginFailureThreshold int
	LoginFailureWindow    time.Duration

	// Account lockout: LockoutThreshold failed password logins against one
	// account within LockoutWindow lock it for LockoutDuration.
	LockoutEnabled   bool
	LockoutThreshold int
	LockoutDuration  time.Duration
	LockoutWindow    time.Duration

	// UniformLoginError answers unknown account and wrong password with one
	// code, so that the answer does not reveal which accounts exist.
	UniformLoginError bool

	// AllowPlaintextPassword lets the Authing-compatible transport accept
	// passwords that are not RSA-encrypted.
	AllowPlaintextPassword bool

	// MFAPolicy is "off", "optional" (users who enrolled a factor, or
	// whom an administrator marked, are asked for it) or "required"
	// (every user; one without a factor enrols one first). See docs/MFA.md.
	MFAPolicy string
	// Branding of the hosted pages (sign-in, consent): the name shown
	// instead of the pool's, a logo (an https URL), and the primary colour
	// (#rrggbb). Empty values mean authpool's own.
	BrandDisplayName  string
	BrandLogoURL      string
	BrandPrimaryColor string

	// AllowSelfDelete lets users delete their own account (DELETE
	// /api/v1/users/me, the account page), proven by their password or,
	// without one, a fresh sign-in. Off by default.
	AllowSelfDelete bool

	// FrameAncestors lets the hosted pages be framed by these origins (a
	// CSP frame-ancestors source list: 'self' and https origins, space
	// separated; CheckFrameAncestors). Empty: no framing ('none').
	FrameAncestors string
	// SocialAutoLinkVerifiedEmail lets a first sign-in through a connector
	// join the existing account with the same email, when the upstream
	// says the email is verified. Off: the user signs in to the account
	// and confirms the link (docs/SOCIAL.md).
	SocialAutoLinkVerifiedEmail bool
}

// DefaultPoolSettings are the built-in defaults.
func DefaultPoolSettings() PoolSettings {
	return PoolSettings{
		TokenTTL:              15 * 24 * time.Hour,
		RegisterByEmail:       true,
		RegisterByUsername:    true,
		RegisterByPhone:       true,
		PasswordMinLength:     8,
		PasswordRejectCommon:  true,
		VerifyOldPhone:        true,
		VerifyOldEmail:        true,
		SMSCodeTTL:            60 * time.Second,
		EmailCodeTTL:          10 * time.Minute,
		CodeMaxAttempts:       5,
		SMSPhoneInterval:      60 * time.Second,
		SMSPhonePerDay:        10,
		SMSIPPerHour:          20,
		SMSCountryPerDay:      1000,
		EmailAddressInterval:  60 * time.Second,
		EmailAddressPerDay:    10,
		EmailIPPerHour:        20,
		LoginFailureDetection: true,
		LoginFailureThreshold: 3,
		LoginFailureWindow:    5 * time.Minute,
		LockoutEnabled:        false,
		LockoutThreshold:      10,
		LockoutDuration:       15 * time.Minute,
		LockoutWindow:         time.Hour,
		MFAPolicy:             MFAOff,
	}
}
