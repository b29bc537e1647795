package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// ResetPasswordByEmailCode sets a new password for the user of email with
// the code of a RESET_PASSWORD mail; every session of that user ends.
func (c *AuthenticationClient) ResetPasswordByEmailCode(ctx context.Context, email, code, newPassword string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/password/reset/email",
		api.ResetPasswordByEmailCodeRequest{Email: email, Code: code, NewPassword: newPassword}, nil, false)
}

// UpdateEmail changes the current user's address to email, proven by the
// code of a CHANGE_EMAIL mail. Unless the pool has turned verifyOldEmail
// off, oldEmail (the current address) and oldEmailCode (a CHANGE_EMAIL code
// sent to it) are required too (2227 missing, 2037 not the current
// address). For a first address use BindEmail.
func (c *AuthenticationClient) UpdateEmail(ctx context.Context, email, emailCode, oldEmail, oldEmailCode string) (*User, error) {
	return c.userCall(ctx, http.MethodPut, "/api/v1/users/me/email",
		api.UpdateEmailRequest{Email: email, EmailCode: emailCode, OldEmail: oldEmail, OldEmailCode: oldEmailCode}, true)
}

// BindEmail gives the current user, who has no address yet (2200
// otherwise; registered by phone, say), the address email proven by the
// code of a CHANGE_EMAIL mail.
func (c *AuthenticationClient) BindEmail(ctx context.Context, email, emailCode string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/users/me/email",
		api.BindEmailRequest{Email: email, EmailCode: emailCode}, true)
}

// UnbindEmail removes the current user's address, unless it is the
// account's only way to log in (2217).
func (c *AuthenticationClient) UnbindEmail(ctx context.Context) (*User, error) {
	return c.userCall(ctx, http.MethodDelete, "/api/v1/users/me/email", nil, true)
}
