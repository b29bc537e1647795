package userpool

import (
	"fmt"
	"time"
)

// Captcha is a stored CAPTCHA challenge. Only a keyed hash of the answer is
// kept, so a copy of the database does not reveal open answers.
type Captcha struct {
	ID         string
	PoolID     string
	AnswerHash string // hex HMAC of the normalised answer; see internal/auth
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// RetryError is a refusal that also says when the caller may try again: a
// rate limit (code 1005) or a locked account (code 2005). Transports turn
// RetryAfter into a Retry-After header; errors.As(err, **Error) still finds
// the coded error inside.
type RetryError struct {
	Err   *Error
	After time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter is how long the caller should wait.
func (e *RetryError) RetryAfter() time.Duration { return e.After }

// Audit event names. Detail never holds a password, code, token, CAPTCHA
// answer or the identifier typed for an unknown account (users sometimes
// type their password into the username field).
const (
	AuditRegister        = "user.register"
	AuditLoginSuccess    = "login.success"
	AuditLoginFailure    = "login.failure" // Detail["reason"] says why
	AuditCaptchaRequired = "captcha.required"
	AuditAccountLocked   = "account.locked"
	AuditLogout          = "logout"
	AuditTokenRefresh    = "token.refresh"
	AuditPasswordChange  = "password.change"

	// Names for the verification-code, password-reset and phone/email
	// flows, which record them the same way.
	AuditPasswordReset = "password.reset"
	AuditCodeSent      = "code.sent"
	// AuditCodeSendFailed: a queued code could not be sent (Detail says
	// channel, purpose, masked target, attempts and the error).
	AuditCodeSendFailed = "code.send_failed"
	AuditCodeUsed       = "code.used"
	AuditCodeFailed     = "code.failed"
	AuditPhoneChange    = "phone.change"
	AuditEmailChange    = "email.change"
)
