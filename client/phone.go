package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// RegisterByPhoneCode creates a user whose phone number (PhoneVerified)
// is proven by an SMS code from SendSmsCode. password may be "": the user
// then logs in by code and can set one with UpdatePassword without an old
// password.
func (c *AuthenticationClient) RegisterByPhoneCode(ctx context.Context, phone, code, password string, profile *RegisterProfile, opts *RegisterOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/register/phone-code",
		api.RegisterByPhoneCodeRequest{Phone: phone, Code: code, Password: password, Profile: profile, Options: opts}, false)
}

// LoginByPhoneCode logs in with a phone number and its SMS code. When no
// user has the number, the account is created (User.NewlyCreated).
func (c *AuthenticationClient) LoginByPhoneCode(ctx context.Context, phone, code string, opts *LoginOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/login/phone-code",
		api.LoginByPhoneCodeRequest{Phone: phone, Code: code, Options: opts}, false)
}

// LoginByPhonePassword logs in with a phone number and password.
// AutoRegister is refused (1003): a phone account is created only with a
// code sent to the phone.
func (c *AuthenticationClient) LoginByPhonePassword(ctx context.Context, phone, password string, opts *LoginOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/login/phone-password",
		api.LoginByPhonePasswordRequest{Phone: phone, Password: password, Options: opts}, false)
}

// ResetPasswordByPhoneCode sets a new password for the user of phone with
// an SMS code; every session of that user ends.
func (c *AuthenticationClient) ResetPasswordByPhoneCode(ctx context.Context, phone, code, newPassword string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/password/reset/phone",
		api.ResetPasswordByPhoneCodeRequest{Phone: phone, Code: code, NewPassword: newPassword}, nil, false)
}

// UpdatePhone changes the current user's phone number to phone, proven by
// phoneCode. Unless the pool has turned verifyOldPhone off, oldPhone (the
// current number) and oldPhoneCode (a code sent to it) are required too
// (2227 missing, 2038 not the current number). For a first phone number
// use BindPhone.
func (c *AuthenticationClient) UpdatePhone(ctx context.Context, phone, phoneCode, oldPhone, oldPhoneCode string) (*User, error) {
	return c.userCall(ctx, http.MethodPut, "/api/v1/users/me/phone",
		api.UpdatePhoneRequest{Phone: phone, PhoneCode: phoneCode, OldPhone: oldPhone, OldPhoneCode: oldPhoneCode}, true)
}

// BindPhone gives the current user, who has no phone number yet (2035
// otherwise), the number phone proven by phoneCode.
func (c *AuthenticationClient) BindPhone(ctx context.Context, phone, phoneCode string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/users/me/phone",
		api.BindPhoneRequest{Phone: phone, PhoneCode: phoneCode}, true)
}

// UnbindPhone removes the current user's phone number, unless it is the
// account's only way to log in (2217).
func (c *AuthenticationClient) UnbindPhone(ctx context.Context) (*User, error) {
	return c.userCall(ctx, http.MethodDelete, "/api/v1/users/me/phone", nil, true)
}
