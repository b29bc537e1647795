package api

import "fmt"

// Error codes. Numbers in the 2000 range follow Authing's table so that users
// of that ecosystem recognise them; the 1000 range is authpool's own for
// transport-level failures. docs/API.md lists every code with its reason and
// HTTP status.
const (
	CodeOK = 200

	CodeInternal         = 1000 // internal_error
	CodeBadRequest       = 1001 // bad_request: malformed JSON, wrong types, unknown fields
	CodeBodyTooLarge     = 1002 // body_too_large
	CodeInvalidArgument  = 1003 // invalid_argument: a field failed validation
	CodeNotFound         = 1004 // not_found: no such route or resource
	CodeRateLimited      = 1005 // rate_limited (HTTP 429 with Retry-After)
	CodeUnknownUserPool  = 1006 // unknown_user_pool
	CodeMethodNotAllowed = 1007 // method_not_allowed
	CodeUnavailable      = 1008 // unavailable: the store cannot be reached
	CodePipelineRejected = 1020 // pipeline_rejected: a pool's pipeline refused the request (its message)
	CodePipelineFailed   = 1021 // pipeline_failed: a pipeline threw, timed out or is malformed (fail closed)

	CodeCaptchaRequired   = 2000 // captcha_required
	CodeWrongCode         = 2001 // wrong_code (SMS/email code or CAPTCHA answer)
	CodeInvalidEmail      = 2003 // invalid_email
	CodeUserNotFound      = 2004 // user_not_found
	CodeWrongPassword     = 2006 // wrong_password
	CodeNotLoggedIn       = 2020 // not_logged_in
	CodeUserExists        = 2026 // user_exists (email or phone already registered)
	CodePasswordTooWeak   = 2029 // password_too_weak (reason detail in message)
	CodeUsernameTaken     = 2034 // username_taken
	CodeWrongOldPassword  = 2203 // wrong_old_password
	CodeTokenExpired      = 2206 // token_expired
	CodeTokenInvalid      = 2207 // token_invalid
	CodeCannotUpdateEmail = 2225 // cannot_update_email (use UpdateEmail)
	CodeCannotUpdatePhone = 2226 // cannot_update_phone (use UpdatePhone)
	CodeUserBlocked       = 2057 // user_blocked
)

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
