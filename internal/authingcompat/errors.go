package authingcompat

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/userpool"
)

// Codes that exist only on this wire (Authing's numbers).
const (
	codeDecryptFailed    userpool.Code = 2016 // the password is not RSA-encrypted with our key
	codeUserPoolNotFound userpool.Code = 2224 // Authing's number for authpool's 1006
	codeMethod           userpool.Code = api.CodeMethodNotAllowed
)

var (
	errNoRoute  = userpool.Errorf(userpool.CodeNotFound, "not_found", "no such route")
	errMethod   = userpool.Errorf(codeMethod, "method_not_allowed", "method not allowed on this route")
	errDecrypt  = userpool.Errorf(codeDecryptFailed, "password_decrypt_failed", "the password could not be decrypted: encrypt it (RSA, PKCS#1 v1.5, base64) with the public key of /api/v2/.well-known")
	errSM2      = userpool.Errorf(codeDecryptFailed, "password_decrypt_failed", "SM2-encrypted passwords are not supported: use the RSA public key of /api/v2/.well-known")
	errOneField = userpool.Errorf(userpool.CodeBadRequest, "bad_request", "one root field per request")
	// errBearerScheme replaces "not logged in" when the caller sent an
	// Authorization header of another scheme (a bare token, Basic): the
	// same code, a message that says what is wrong.
	errBearerScheme = userpool.Errorf(userpool.CodeNotLoggedIn, "bearer_scheme_required",
		"the Authorization header must use the Bearer scheme: Authorization: Bearer <token>")
)

// errorObject is Authing's error: GraphQL errors carry it as their
// "message" (an object, not a string: the JS SDK reads message.code), REST
// answers carry its members at the top level.
type errorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// wireError is one entry of a GraphQL answer's "errors".
type wireError struct {
	Message   errorObject          `json:"message"`
	Locations []gqlerrors.Location `json:"locations,omitempty"`
	Path      []any                `json:"path,omitempty"`
}

// object renders err for the caller of r: Authing's code, a message in the
// caller's language, and the error's data. An internal cause is logged once
// with the request id and never sent.
func (s *Server) object(r *http.Request, err error) errorObject {
	e := userpool.AsError(err)
	if e.Code == userpool.CodeInternal || e.Code == userpool.CodeUnavailable {
		s.Log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r)), slog.String("error", err.Error()))
	}
	if e.Code == userpool.CodeNotLoggedIn && httpapi.BearerSchemeError(r) != nil {
		e = errBearerScheme
	}
	code := e.Code
	if code == userpool.CodeUnknownUserPool {
		code = codeUserPoolNotFound
	}
	var data any
	if e.Data != nil {
		data = e.Data
	}
	return errorObject{Code: int(code), Message: message(lang(r), e), Data: data}
}

// wire is object as a GraphQL error entry; qe, when not nil, gives the
// location and path.
func (s *Server) wire(r *http.Request, err error, qe *gqlerrors.QueryError) wireError {
	w := wireError{Message: s.object(r, err)}
	if qe != nil {
		w.Locations, w.Path = qe.Locations, qe.Path
	}
	return w
}

// requestID is the id httpapi's request log gave this request.
func requestID(r *http.Request) string { return httpapi.RequestID(r.Context()) }

// restBody is the envelope of every REST answer; errors are HTTP 200 too,
// with a code other than 200 (the SDKs throw on any other HTTP status and
// lose the body).
type restBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// writeREST answers data with code 200 and the message msg (by key), or err.
func (s *Server) writeREST(w http.ResponseWriter, r *http.Request, data any, err error, msg ...string) {
	body := restBody{Code: 200, Data: data}
	if err != nil {
		setRetryAfter(w, err)
		o := s.object(r, err)
		body = restBody{Code: o.Code, Message: o.Message, Data: o.Data}
	} else if len(msg) > 0 {
		body.Message = okMessage(lang(r), msg[0])
	}
	writeJSON(w, body, err)
}

// writeJSON answers v with HTTP 200, as the SDKs need, with two
// exceptions that are not answers to what was asked (the coded body is
// sent still): when one of errs says the store cannot be reached, HTTP 503
// with a Retry-After, as on the native API, so that proxies, load
// balancers and clients' retry logic see an outage as one; and a body
// from a page of another site not declared JSON, HTTP 415, which no SDK
// sends.
func writeJSON(w http.ResponseWriter, v any, errs ...error) {
	st := http.StatusOK
	for _, err := range errs {
		if err == nil {
			continue
		}
		switch userpool.AsError(err).Code {
		case userpool.CodeUnavailable:
			st = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", strconv.Itoa(int(userpool.UnavailableRetry/time.Second)))
		case userpool.CodeUnsupportedMediaType:
			st = http.StatusUnsupportedMediaType
		default:
			continue
		}
		break
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(v)
}

// encodeJSON is the body writeJSON would send for v.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	err := json.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

// writeBody sends a body encodeJSON made, as writeJSON would.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// Languages of messages, chosen by the x-authing-lang header.
const (
	langZH = "zh-CN"
	langEN = "en-US"
)

// lang is the caller's language: English for "en-*", otherwise Chinese,
// as Authing's hosted service answers (the JS SDK sends zh-CN by default).
func lang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("x-authing-lang")), "en") {
		return langEN
	}
	return langZH
}
