package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// Types of second factors (docs/MFA.md).
type (
	TOTPEnrolment    = api.TOTPEnrolment
	TOTPConfirmation = api.TOTPConfirmation
	MFAStatus        = api.MFAStatus
	MFAFactor        = api.MFAFactor
	MFAReset         = api.MFAReset
)

// MFAToken returns the MFA token of a login that answered 1635 (a second
// factor is needed), or "" when err is not that answer.
func MFAToken(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code != api.CodeMFARequired {
		return ""
	}
	t, _ := e.Data["mfaToken"].(string)
	return t
}

// MFAToken returns the MFA token of a 1635 answer ("" otherwise).
func (e *Error) MFAToken() string { return MFAToken(e) }

// MFAFactors returns the factors a 1635 answer offers (totp, recovery,
// sms, email); empty when the user must enrol one first.
func (e *Error) MFAFactors() []string {
	if e.Code != api.CodeMFARequired {
		return nil
	}
	list, _ := e.Data["factors"].([]any)
	out := make([]string, 0, len(list))
	for _, f := range list {
		if s, ok := f.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// MFAEnrolmentRequired says a 1635 answer asks the user to enrol TOTP
// (EnrolTOTP and ConfirmTOTP with the MFA token) before any token.
func (e *Error) MFAEnrolmentRequired() bool {
	b, _ := e.Data["enrolmentRequired"].(bool)
	return e.Code == api.CodeMFARequired && b
}

// VerifyMFA completes a login that answered 1635 with a second factor
// of kind api.FactorTOTP, FactorRecovery, FactorSMS or FactorEmail; the
// client keeps the token.
func (c *AuthenticationClient) VerifyMFA(ctx context.Context, mfaToken, kind, code string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/mfa/verify", api.VerifyMFARequest{MFAToken: mfaToken, Kind: kind, Code: code}, false)
}

// VerifyTOTP completes a login with a code of the user's authenticator app.
func (c *AuthenticationClient) VerifyTOTP(ctx context.Context, mfaToken, code string) (*User, error) {
	return c.VerifyMFA(ctx, mfaToken, api.FactorTOTP, code)
}

// VerifyRecoveryCode completes a login with a recovery code (single use).
func (c *AuthenticationClient) VerifyRecoveryCode(ctx context.Context, mfaToken, code string) (*User, error) {
	return c.VerifyMFA(ctx, mfaToken, api.FactorRecovery, code)
}

// VerifySmsMFA completes a login with a code sent by SendSmsCode to the
// account's verified phone.
func (c *AuthenticationClient) VerifySmsMFA(ctx context.Context, mfaToken, code string) (*User, error) {
	return c.VerifyMFA(ctx, mfaToken, api.FactorSMS, code)
}

// VerifyEmailMFA completes a login with a code sent by SendEmail (scene
// MFA_VERIFY) to the account's verified address.
func (c *AuthenticationClient) VerifyEmailMFA(ctx context.Context, mfaToken, code string) (*User, error) {
	return c.VerifyMFA(ctx, mfaToken, api.FactorEmail, code)
}

// EnrolTOTP starts a TOTP enrolment: for the logged-in user when mfaToken
// is "", else for the user of a 1635 answer that requires enrolment. The
// answer holds the secret, its otpauth:// URI and QR code, and ten
// recovery codes shown this once (they work once ConfirmTOTP succeeded).
func (c *AuthenticationClient) EnrolTOTP(ctx context.Context, mfaToken string) (*TOTPEnrolment, error) {
	var out TOTPEnrolment
	if err := c.do(ctx, http.MethodPost, "/api/v1/mfa/totp/enrol", api.EnrolTOTPRequest{MFAToken: mfaToken}, &out, mfaToken == ""); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmTOTP activates the TOTP factor with its first code. With an MFA
// token it also completes the login: the answer's User carries the
// token, which the client keeps.
func (c *AuthenticationClient) ConfirmTOTP(ctx context.Context, mfaToken, code string) (*TOTPConfirmation, error) {
	var out TOTPConfirmation
	if err := c.do(ctx, http.MethodPost, "/api/v1/mfa/totp/confirm", api.ConfirmTOTPRequest{MFAToken: mfaToken, Code: code}, &out, mfaToken == ""); err != nil {
		return nil, err
	}
	if out.User != nil {
		if err := decodeCustomData(out.User); err != nil {
			return nil, err
		}
		c.remember(out.User)
	}
	return &out, nil
}

// ListMFAFactors lists the logged-in user's factors (never secrets).
func (c *AuthenticationClient) ListMFAFactors(ctx context.Context) (*MFAStatus, error) {
	return c.mfaStatus(ctx, http.MethodGet, "/api/v1/users/me/mfa")
}

// EnableMFAFactor enrols the SMS or email factor (kind api.FactorSMS or
// FactorEmail); the phone or address must be verified.
func (c *AuthenticationClient) EnableMFAFactor(ctx context.Context, kind string) (*MFAStatus, error) {
	return c.mfaStatus(ctx, http.MethodPut, "/api/v1/users/me/mfa/"+url.PathEscape(kind))
}

// RemoveMFAFactor removes a factor (removing TOTP removes the recovery
// codes too).
func (c *AuthenticationClient) RemoveMFAFactor(ctx context.Context, kind string) (*MFAStatus, error) {
	return c.mfaStatus(ctx, http.MethodDelete, "/api/v1/users/me/mfa/"+url.PathEscape(kind))
}

// RegenerateRecoveryCodes replaces the recovery codes by ten new ones.
func (c *AuthenticationClient) RegenerateRecoveryCodes(ctx context.Context) ([]string, error) {
	var out api.RecoveryCodes
	if err := c.do(ctx, http.MethodPost, "/api/v1/users/me/mfa/recovery-codes", nil, &out, true); err != nil {
		return nil, err
	}
	return out.RecoveryCodes, nil
}

func (c *AuthenticationClient) mfaStatus(ctx context.Context, method, path string) (*MFAStatus, error) {
	var out MFAStatus
	if err := c.do(ctx, method, path, nil, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetUserMFA returns a user's factors (never secrets), unused recovery
// codes and "MFA required" flag.
func (c *ManagementClient) GetUserMFA(ctx context.Context, poolID, userID string) (*MFAStatus, error) {
	var out MFAStatus
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "users", userID, "mfa"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetUserMFARequired requires MFA of one user whatever the pool's policy.
func (c *ManagementClient) SetUserMFARequired(ctx context.Context, poolID, userID string, required bool) (*MFAStatus, error) {
	var out MFAStatus
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "users", userID, "mfa"), api.SetMFARequiredRequest{Required: &required}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResetUserMFA removes every factor and recovery code of the user and
// ends the user's sessions.
func (c *ManagementClient) ResetUserMFA(ctx context.Context, poolID, userID string) (*MFAReset, error) {
	var out MFAReset
	if err := c.do(ctx, http.MethodDelete, poolPath(poolID, "users", userID, "mfa"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
