package userpool

import (
	"errors"
	"fmt"
	"time"
)

// Code is a closed set of error codes; the numbers follow Authing's table
// (see api/errors.go, which holds the same numbers for the wire).
type Code int

// Codes, shared with the wire; see docs/API.md.
const (
	CodeInternal           Code = 1000
	CodeBadRequest         Code = 1001
	CodeBodyTooLarge       Code = 1002
	CodeInvalidArgument    Code = 1003
	CodeNotFound           Code = 1004
	CodeRateLimited        Code = 1005
	CodeUnknownUserPool    Code = 1006
	CodeUnavailable        Code = 1008
	CodeRegistrationClosed Code = 1009
	CodePipelineRejected   Code = 1020
	CodePipelineFailed     Code = 1021
	CodeCaptchaRequired    Code = 2000
	CodeWrongCode          Code = 2001
	CodeInvalidEmail       Code = 2003
	CodeUserNotFound       Code = 2004
	CodeAccountLocked      Code = 2005
	CodeWrongPassword      Code = 2006
	CodeNotLoggedIn        Code = 2020
	CodeNoPermission       Code = 2018
	CodeSendFailed         Code = 2021
	CodeUserExists         Code = 2026
	CodeInvalidPhone       Code = 2028
	CodePasswordTooWeak    Code = 2029
	CodeUsernameTaken      Code = 2034
	CodePhoneAlreadyBound  Code = 2035
	CodeOldEmailMismatch   Code = 2037
	CodeOldPhoneMismatch   Code = 2038
	CodeUserBlocked        Code = 2057
	CodeEmailAlreadyBound  Code = 2200
	CodeWrongOldPassword   Code = 2203
	CodeTokenExpired       Code = 2206
	CodeTokenInvalid       Code = 2207
	CodeLastLoginMethod    Code = 2217
	CodeNotBound           Code = 2219
	CodeCannotUpdateEmail  Code = 2225
	CodeCannotUpdatePhone  Code = 2226
	CodeOldAddressRequired Code = 2227
	CodeEmailUnchanged     Code = 2229
	CodePhoneUnchanged     Code = 2230
	CodeCodeExpired        Code = 2300
	// CodeWrongAccountOrPassword replaces 2004 and 2006 in pools with
	// PoolSettings.UniformLoginError, so the answer does not tell which.
	CodeWrongAccountOrPassword Code = 2333
)

// CodeUnsupportedMediaType: a page of another site sent a body not
// declared as JSON (api.CodeUnsupportedMediaType).
const CodeUnsupportedMediaType Code = 1010

// Error is the one error type of the domain. Reason is a stable snake_case
// word for programs, Message is safe to show to the end user, Cause is for
// the log only and never leaves the server.
type Error struct {
	Code    Code
	Reason  string
	Message string
	Data    map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s (%d): %s: %v", e.Reason, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s (%d): %s", e.Reason, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrUserNotFound) match any *Error with the same
// code and reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Reason == e.Reason
}

// Errorf builds an *Error with a formatted user-facing message.
func Errorf(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; its cause is logged, never shown.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Reason: "internal_error", Message: "internal error", Cause: cause}
}

// AsError returns err as an *Error, wrapping unknown errors as internal.
// An internal error whose cause holds an unreachable store or text the
// store refused (unavailable.go) is that error: the caller can act on it.
func AsError(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		return Internal(err)
	}
	for inner := e; inner.Code == CodeInternal && inner.Cause != nil; {
		if !errors.As(inner.Cause, &inner) {
			break
		}
		if surfaces(inner) {
			return inner
		}
	}
	return e
}

// LimitError is a refusal by a rate limit. It wraps the coded error (so
// AsError and errors.Is see it) and tells the client when to come back:
// the HTTP transport turns RetryAfter into a Retry-After header.
type LimitError struct {
	Err   *Error
	After time.Duration
}

func (e *LimitError) Error() string             { return e.Err.Error() }
func (e *LimitError) Unwrap() error             { return e.Err }
func (e *LimitError) RetryAfter() time.Duration { return e.After }

// RateLimited builds a 1005 refusal naming the limit that was hit; the
// limit's name and the wait in seconds also go in the error data.
func RateLimited(limit string, after time.Duration, format string, args ...any) *LimitError {
	secs := int64((after + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	e := Errorf(CodeRateLimited, "rate_limited", format, args...)
	e.Data = map[string]any{"limit": limit, "retryAfter": secs}
	return &LimitError{Err: e, After: after}
}

// Sentinel errors the store returns; use cases translate or pass them on.
var (
	ErrUserNotFound    = &Error{Code: CodeUserNotFound, Reason: "user_not_found", Message: "user does not exist"}
	ErrEmailTaken      = &Error{Code: CodeUserExists, Reason: "email_taken", Message: "a user with this email already exists"}
	ErrPhoneTaken      = &Error{Code: CodeUserExists, Reason: "phone_taken", Message: "a user with this phone number already exists"}
	ErrUsernameTaken   = &Error{Code: CodeUsernameTaken, Reason: "username_taken", Message: "this username is already taken"}
	ErrSessionNotFound = &Error{Code: CodeTokenInvalid, Reason: "token_invalid", Message: "token is invalid or its session has ended"}
	ErrPoolNotFound    = &Error{Code: CodeUnknownUserPool, Reason: "unknown_user_pool", Message: "unknown user pool"}
	ErrNotFound        = &Error{Code: CodeNotFound, Reason: "not_found", Message: "not found"}
	// ErrCodeNotFound: no verification code is waiting for this target
	// (never sent, already used, or replaced). To the caller it is a wrong
	// code.
	ErrCodeNotFound = &Error{Code: CodeWrongCode, Reason: "wrong_code", Message: "the verification code is wrong"}
)
