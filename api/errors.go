package api

import "fmt"

// Error codes. Numbers in the 2000 range follow Authing's table so that users
// of that ecosystem recognise them; the 1000 range is authpool's own for
// transport-level failures. docs/API.md lists every code with its reason and
// HTTP status.
const (
	CodeOK = 200

	CodeInternal           = 1000 // internal_error
	CodeBadRequest         = 1001 // bad_request: malformed JSON, wrong types, unknown fields
	CodeBodyTooLarge       = 1002 // body_too_large
	CodeInvalidArgument    = 1003 // invalid_argument: a field failed validation
	CodeNotFound           = 1004 // not_found: no such route or resource
	CodeRateLimited        = 1005 // rate_limited (HTTP 429 with Retry-After)
	CodeUnknownUserPool    = 1006 // unknown_user_pool
	CodeMethodNotAllowed   = 1007 // method_not_allowed
	CodeUnavailable        = 1008 // unavailable: the store cannot be reached
	CodeRegistrationClosed = 1009 // registration_closed: the pool does not let users register this way
	CodePipelineRejected   = 1020 // pipeline_rejected: a pool's pipeline refused the request (its message)
	CodePipelineFailed     = 1021 // pipeline_failed: a pipeline threw, timed out or is malformed (fail closed)

	CodeCaptchaRequired    = 2000 // captcha_required
	CodeWrongCode          = 2001 // wrong_code, code_attempts_exceeded (SMS/email code or CAPTCHA answer)
	CodeInvalidEmail       = 2003 // invalid_email
	CodeUserNotFound       = 2004 // user_not_found
	CodeAccountLocked      = 2005 // account_locked (data: unlockAt, retryAfter)
	CodeWrongPassword      = 2006 // wrong_password
	CodeNoPermission       = 2018 // no_permission (an end user acting on another account)
	CodeNotLoggedIn        = 2020 // not_logged_in
	CodeSendFailed         = 2021 // send_failed: the mail or SMS could not be sent
	CodeUserExists         = 2026 // user_exists (email or phone already registered)
	CodeInvalidPhone       = 2028 // invalid_phone
	CodePasswordTooWeak    = 2029 // password_too_weak (reason detail in message)
	CodeUsernameTaken      = 2034 // username_taken
	CodePhoneAlreadyBound  = 2035 // phone_already_bound (use UpdatePhone)
	CodeOldEmailMismatch   = 2037 // old_email_mismatch
	CodeOldPhoneMismatch   = 2038 // old_phone_mismatch
	CodeUserBlocked        = 2057 // user_blocked
	CodeEmailAlreadyBound  = 2200 // email_already_bound (use UpdateEmail)
	CodeWrongOldPassword   = 2203 // wrong_old_password
	CodeTokenExpired       = 2206 // token_expired
	CodeTokenInvalid       = 2207 // token_invalid
	CodeLastLoginMethod    = 2217 // last_login_method: unbinding would leave no way to log in
	CodeNotBound           = 2219 // phone_not_bound, email_not_bound
	CodeCannotUpdateEmail  = 2225 // cannot_update_email (use UpdateEmail)
	CodeCannotUpdatePhone  = 2226 // cannot_update_phone (use UpdatePhone)
	CodeOldAddressRequired = 2227 // old_phone_required, old_email_required
	CodeEmailUnchanged     = 2229 // email_unchanged
	CodePhoneUnchanged     = 2230 // phone_unchanged
	CodeCodeExpired        = 2300 // code_expired
	// CodeWrongAccountOrPassword replaces 2004 and 2006 in pools that hide
	// which accounts exist (wrong_account_or_password).
	CodeWrongAccountOrPassword = 2333
)

// The MFA codes (1635, 6001-6005) are in mfa.go.

// CodeUnsupportedMediaType (unsupported_media_type, HTTP 415): a page of
// another site sent a body not declared as JSON; see docs/SECURITY.md.
const CodeUnsupportedMediaType = 1010

// ErrorBody is the body of every non-2xx response of the native API.
type ErrorBody struct {
	Code    int            `json:"code"`
	Reason  string         `json:"reason"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

func (e *ErrorBody) Error() string {
	return fmt.Sprintf("authpool: %s (%d): %s", e.Reason, e.Code, e.Message)
}
