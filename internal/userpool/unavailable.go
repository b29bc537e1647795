package userpool

import "time"

// UnavailableRetry is the Retry-After of an answer refused because the
// store could not be reached: short, since an outage is either over soon
// or an operator's matter.
const UnavailableRetry = 5 * time.Second

// Unavailable wraps a failure to reach the store (a refused or dropped
// connection, a server shutting down): code 1008, which transports answer
// with HTTP 503 and a Retry-After, since the same request may well succeed
// a little later. The cause is for the log only.
func Unavailable(cause error) error {
	return &RetryError{
		Err: &Error{Code: CodeUnavailable, Reason: "unavailable",
			Message: "the service cannot reach its database: try again shortly", Cause: cause},
		After: UnavailableRetry,
	}
}

// InvalidText wraps the store's refusal of text it cannot hold (NUL,
// invalid UTF-8 that reached it from a header, a query string or a
// GraphQL variable): a client error, code 1001.
func InvalidText(cause error) error {
	return &Error{Code: CodeBadRequest, Reason: "invalid_text",
		Message: "the request holds text that is not valid UTF-8 or contains NUL characters", Cause: cause}
}

// surfaces reports whether e, found inside an internal error, is what the
// answer should say instead: the store's state or the request's bytes are
// the cause, not a fault of the server, however deep a use case wrapped it.
func surfaces(e *Error) bool {
	return e.Code == CodeUnavailable || e.Code == CodeBadRequest && e.Reason == "invalid_text"
}
