package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

var (
	errNoRoute = userpool.Errorf(userpool.CodeNotFound, "not_found", "no such route")
	errMethod  = userpool.Errorf(codeMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
)

// codeMethodNotAllowed is a transport-only code (api.CodeMethodNotAllowed).
const codeMethodNotAllowed userpool.Code = api.CodeMethodNotAllowed

// retryAfter is an error that also tells the client when to come back.
type retryAfter interface{ RetryAfter() time.Duration }

// status maps a code to its HTTP status; the code is the contract, the
// status is its HTTP rendering.
func status(c userpool.Code) int {
	if st, ok := udfAdminStatus(c); ok {
		return st
	}
	switch c {
	case userpool.CodeInternal, userpool.CodePipelineFailed:
		return http.StatusInternalServerError
	case userpool.CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case userpool.CodeNotFound, userpool.CodeUnknownUserPool, userpool.CodeUserNotFound:
		return http.StatusNotFound
	case userpool.CodeRateLimited:
		return http.StatusTooManyRequests
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case userpool.CodeUnavailable:
		return http.StatusServiceUnavailable
	case userpool.CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case userpool.CodeWrongPassword, userpool.CodeWrongAccountOrPassword, userpool.CodeNotLoggedIn, userpool.CodeTokenExpired, userpool.CodeTokenInvalid:
		return http.StatusUnauthorized
	case userpool.CodeCaptchaRequired, userpool.CodeUserBlocked, userpool.CodeRegistrationClosed, userpool.CodeNoPermission, userpool.CodeAccountLocked, userpool.CodePipelineRejected:
		return http.StatusForbidden
	case userpool.CodeUserExists, userpool.CodeUsernameTaken, userpool.CodePhoneAlreadyBound, userpool.CodeEmailAlreadyBound,
		userpool.CodeLastLoginMethod, userpool.CodeNotBound:
		return http.StatusConflict
	case userpool.CodeSendFailed, userpool.CodeSocialUpstream:
		return http.StatusBadGateway
	case userpool.CodeSocialLinkRequired, userpool.CodeIdentityTaken, userpool.CodeConnectorExists:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// writeError renders err. Internal causes are logged once with the request
// id and never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := userpool.AsError(err)
	st := status(e.Code)
	if st >= 500 {
		s.Log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
	}
	var ra retryAfter
	if errors.As(err, &ra) {
		secs := int(ra.RetryAfter().Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="authpool"`)
	}
	writeJSON(w, st, api.ErrorBody{Code: int(e.Code), Reason: e.Reason, Message: e.Message, Data: e.Data})
}

func writeJSON(w http.ResponseWriter, st int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(v)
}

// udfAdminStatus maps the codes of user-defined data and administration.
func udfAdminStatus(c userpool.Code) (int, bool) {
	switch c {
	case userpool.CodeAdminUnauthorized:
		return http.StatusUnauthorized, true
	case userpool.CodeUnknownField:
		return http.StatusNotFound, true
	case userpool.CodeFieldExists, userpool.CodeFieldInUse, userpool.CodePoolExists, userpool.CodeKeyRotationPending:
		return http.StatusConflict, true
	case userpool.CodeFieldTypeMismatch:
		return http.StatusBadRequest, true
	case userpool.CodeMFARequired, userpool.CodeMFAWrongCode, userpool.CodeMFATokenInvalid, userpool.CodePasskeyInvalid:
		return http.StatusUnauthorized, true
	case userpool.CodePasskeyCloned:
		return http.StatusForbidden, true
	case userpool.CodeMFAAlreadyEnrolled, userpool.CodeMFANotEnrolled:
		return http.StatusConflict, true
	}
	return 0, false
}
