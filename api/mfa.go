package api

import "time"

// Error codes of second factors (docs/MFA.md).
const (
	// CodeMFARequired (mfa_required, HTTP 401): the first factor passed, a
	// second is needed. data.mfaToken completes the login (VerifyMFA, or
	// ConfirmTOTP while enrolling); data.factors lists the usable factors;
	// data.enrolmentRequired says the user has none and must enrol TOTP.
	CodeMFARequired = 1635
	// CodeMFAWrongCode (wrong_code, code_reused; HTTP 401): the TOTP or
	// recovery code is wrong or was used already (data.attemptsLeft).
	CodeMFAWrongCode = 6001
	// CodeMFATokenInvalid (mfa_token_invalid, HTTP 401): the MFA token is
	// unknown, expired, used, or dead after MFAMaxAttempts second factors.
	CodeMFATokenInvalid = 6002
	// CodeMFAAlreadyEnrolled (mfa_already_enrolled, mfa_enrolment_closed;
	// HTTP 409).
	CodeMFAAlreadyEnrolled = 6003
	// CodeMFANotEnrolled (mfa_not_enrolled, mfa_enrolment_not_started;
	// HTTP 409).
	CodeMFANotEnrolled = 6004
	// CodeMFAUnsupported (mfa_unsupported): face verification.
	CodeMFAUnsupported = 6005
)

// MFAMaxAttempts is how many second factors one MFA token may try.
const MFAMaxAttempts = 5

// Kinds of second factor.
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
	FactorSMS      = "sms"
	FactorEmail    = "email"
)

// VerifyMFARequest completes a login that answered 1635. Kind is totp,
// recovery, sms (a code sent with SendSmsCode to the account's phone) or
// email (a code sent with SendEmail, scene MFA_VERIFY).
type VerifyMFARequest struct {
	MFAToken string `json:"mfaToken"`
	Kind     string `json:"kind"`
	Code     string `json:"code"`
}

// EnrolTOTPRequest starts a TOTP enrolment: for the bearer token's user,
// or with MFAToken for a user whose login requires enrolment.
type EnrolTOTPRequest struct {
	MFAToken string `json:"mfaToken,omitempty"`
}

// TOTPEnrolment is a TOTP secret waiting for its first code.
type TOTPEnrolment struct {
	// Secret is base32, for typing into an authenticator app.
	Secret string `json:"secret"`
	// URI is the otpauth:// URI, QRCode a PNG of it as a data: URL.
	URI    string `json:"uri"`
	QRCode string `json:"qrCode"`
	// RecoveryCodes are ten single-use codes, shown this once; they work
	// once the factor is confirmed.
	RecoveryCodes []string `json:"recoveryCodes"`
}

// ConfirmTOTPRequest activates the TOTP factor with its first code.
type ConfirmTOTPRequest struct {
	MFAToken string `json:"mfaToken,omitempty"`
	Code     string `json:"code"`
}

// TOTPConfirmation answers ConfirmTOTP: with an MFA token, the user
// logged in (with token).
type TOTPConfirmation struct {
	Confirmed bool  `json:"confirmed"`
	User      *User `json:"user,omitempty"`
}

// RecoveryCodes are new recovery codes, shown this once.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// MFAFactor is what is shown of a factor: never its secret.
type MFAFactor struct {
	// ID and Name are a passkey's (kind "passkey", one entry per passkey).
	ID         string    `json:"id,omitempty"`
	Name       string    `json:"name,omitempty"`
	Kind       string    `json:"kind"`
	Confirmed  bool      `json:"confirmed"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// MFAStatus is a user's second factors.
type MFAStatus struct {
	Factors           []MFAFactor `json:"factors"`
	RecoveryCodesLeft int         `json:"recoveryCodesLeft"`
	// Required: an administrator requires MFA of this user whatever the
	// pool's policy.
	Required bool `json:"required"`
}

// SetMFARequiredRequest sets the per-user "MFA required" flag.
type SetMFARequiredRequest struct {
	Required *bool `json:"required"`
}

// MFAReset answers an administrator's reset of a user's factors.
type MFAReset struct {
	FactorsRemoved  int `json:"factorsRemoved"`
	SessionsRevoked int `json:"sessionsRevoked"`
}
