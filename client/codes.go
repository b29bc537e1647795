package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// EmailScene says what an email code is for; a code works only in its scene.
type EmailScene = api.EmailScene

// The email scenes.
const (
	// EmailSceneResetPassword sends a code for ResetPasswordByEmailCode.
	EmailSceneResetPassword = api.EmailSceneResetPassword
	// EmailSceneVerifyEmail sends a link (and a code for VerifyEmail) that
	// confirms the address.
	EmailSceneVerifyEmail = api.EmailSceneVerifyEmail
	// EmailSceneChangeEmail sends a code for UpdateEmail (to the new and,
	// when the pool verifies it, the old address) and for BindEmail.
	EmailSceneChangeEmail = api.EmailSceneChangeEmail
)

// SendSmsCode sends a 6-digit code to phone (valid 60 s by default). One
// code serves every phone call: login, registration, password reset, bind
// and update. Sending limits answer 1005 with RetryAfter set; an invalid
// number is 2028.
func (c *AuthenticationClient) SendSmsCode(ctx context.Context, phone string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/codes/sms", api.SendSmsCodeRequest{Phone: phone}, nil, false)
}

// SendEmail sends a 6-digit code for scene to email (valid 10 minutes by
// default). RESET_PASSWORD and VERIFY_EMAIL need an account with that
// address (2004 otherwise); an unknown scene is 1003.
func (c *AuthenticationClient) SendEmail(ctx context.Context, email string, scene EmailScene) error {
	return c.do(ctx, http.MethodPost, "/api/v1/codes/email", api.SendEmailRequest{Email: email, Scene: scene}, nil, false)
}

// VerifyEmail confirms email with the code of a VERIFY_EMAIL mail (the
// same as opening the mail's link): the user's EmailVerified becomes true.
func (c *AuthenticationClient) VerifyEmail(ctx context.Context, email, code string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/email/verify", api.VerifyEmailRequest{Email: email, Code: code}, nil, false)
}
