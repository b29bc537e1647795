package api

// EmailScene says what an email code is for; a code works only in its
// scene. The server also accepts the aliases "VerifyEmail", "ChangeEmail"
// and "ResetPassword".
type EmailScene string

// The email scenes.
const (
	// EmailSceneResetPassword: a code for ResetPasswordByEmailCode.
	EmailSceneResetPassword EmailScene = "RESET_PASSWORD"
	// EmailSceneVerifyEmail: a link and a code that confirm the address.
	EmailSceneVerifyEmail EmailScene = "VERIFY_EMAIL"
	// EmailSceneChangeEmail: a code for UpdateEmail (new and old address)
	// and BindEmail.
	EmailSceneChangeEmail EmailScene = "CHANGE_EMAIL"
)

type SendSmsCodeRequest struct {
	Phone string `json:"phone"`
}

type SendEmailRequest struct {
	Email string     `json:"email"`
	Scene EmailScene `json:"scene"`
}

type RegisterByPhoneCodeRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
	// Password is optional: without one the user logs in by code.
	Password string           `json:"password,omitempty"`
	Profile  *RegisterProfile `json:"profile,omitempty"`
	Options  *RegisterOptions `json:"options,omitempty"`
}

type LoginByPhoneCodeRequest struct {
	Phone   string        `json:"phone"`
	Code    string        `json:"code"`
	Options *LoginOptions `json:"options,omitempty"`
}

type LoginByPhonePasswordRequest struct {
	Phone    string        `json:"phone"`
	Password string        `json:"password"`
	Options  *LoginOptions `json:"options,omitempty"`
}

type ResetPasswordByPhoneCodeRequest struct {
	Phone       string `json:"phone"`
	Code        string `json:"code"`
	NewPassword string `json:"newPassword"`
}

type ResetPasswordByEmailCodeRequest struct {
	Email       string `json:"email"`
	Code        string `json:"code"`
	NewPassword string `json:"newPassword"`
}

type VerifyEmailRequest struct {
	Email string `json:"email"`
	Code  string `json:"code"`
}

type BindPhoneRequest struct {
	Phone     string `json:"phone"`
	PhoneCode string `json:"phoneCode"`
}

type BindEmailRequest struct {
	Email     string `json:"email"`
	EmailCode string `json:"emailCode"`
}

// UpdatePhoneRequest: OldPhone and OldPhoneCode are required when the pool
// verifies the old phone (the default).
type UpdatePhoneRequest struct {
	Phone        string `json:"phone"`
	PhoneCode    string `json:"phoneCode"`
	OldPhone     string `json:"oldPhone,omitempty"`
	OldPhoneCode string `json:"oldPhoneCode,omitempty"`
}

// UpdateEmailRequest: OldEmail and OldEmailCode are required when the pool
// verifies the old address (the default).
type UpdateEmailRequest struct {
	Email        string `json:"email"`
	EmailCode    string `json:"emailCode"`
	OldEmail     string `json:"oldEmail,omitempty"`
	OldEmailCode string `json:"oldEmailCode,omitempty"`
}
