package authingcompat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/userpool"
)

// gqlRequest is the body both SDKs send: one document, its variables, and
// (never, from the SDKs) an operation name.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlResponse is the answer. Errors come with HTTP 200 whatever they are:
// the SDKs throw on any other status and lose the body.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []wireError     `json:"errors,omitempty"`
}

// call is what resolvers know of their HTTP request.
type call struct {
	r      *http.Request
	bearer string
	spent  atomic.Int32
}

type callKey struct{}

func callFrom(ctx context.Context) *call { return ctx.Value(callKey{}).(*call) }

// meta describes the caller for a use case; claimedIP (clientIp of the
// input) is believed only from a trusted proxy.
func (s *Server) meta(r *http.Request, claimedIP string) auth.Meta {
	language := r.Header.Get("x-authing-lang")
	if language == "" {
		language = r.Header.Get("Accept-Language")
	}
	return auth.Meta{
		PoolID:    r.Header.Get("x-authing-userpool-id"),
		ClientIP:  s.ClientIP(r, claimedIP),
		UserAgent: r.UserAgent(),
		// The language of codes sent to users whose profile has none.
		AcceptLanguage: language,
		// The CAPTCHA /api/v2/security/captcha left in a browser.
		CaptchaID: httpapi.CaptchaID(r),
	}
}

// spend admits the request's business root fields one at a time, up to
// maxRootFieldCalls: the SDKs send one per document, and a document of many
// aliased logins would multiply password guesses per request.
func (c *call) spend() error {
	if c.spent.Add(1) > maxRootFieldCalls {
		return errOneField
	}
	return nil
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var req gqlRequest
	if err := s.crossSiteBody(r); err != nil {
		s.writeGraphQLErrors(w, r, []wireError{s.wire(r, err, nil)}, err)
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		s.writeGraphQLErrors(w, r, []wireError{s.wire(r, bodyError(err), nil)})
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		s.writeGraphQLErrors(w, r, []wireError{s.wire(r, userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must hold exactly one JSON object"), nil)})
		return
	}
	if req.Query == "" {
		s.writeGraphQLErrors(w, r, []wireError{s.wire(r, userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field \"query\" is required"), nil)})
		return
	}
	if len(req.Query) > maxQueryBytes {
		s.writeGraphQLErrors(w, r, []wireError{s.wire(r, userpool.Errorf(userpool.CodeBodyTooLarge, "body_too_large", "query is longer than %d bytes", maxQueryBytes), nil)})
		return
	}
	ctx := context.WithValue(r.Context(), callKey{}, &call{r: r, bearer: httpapi.Bearer(r)})
	resp := s.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	out := gqlResponse{Data: resp.Data}
	if len(out.Data) == 0 {
		out.Data = json.RawMessage("null")
	}
	var errs []error
	for _, qe := range resp.Errors {
		err := queryError(qe)
		errs = append(errs, err)
		out.Errors = append(out.Errors, s.wire(r, err, qe))
	}
	writeJSON(w, out, errs...)
}

func (s *Server) writeGraphQLErrors(w http.ResponseWriter, r *http.Request, errs []wireError, causes ...error) {
	writeJSON(w, gqlResponse{Data: json.RawMessage("null"), Errors: errs}, causes...)
}

// queryError turns an engine error into a coded one: a resolver's own
// error as it is, a parse or validation error (unknown field, wrong type,
// too deep) as 1001 with the engine's text, which names only parts of the
// document.
func queryError(qe *gqlerrors.QueryError) error {
	if qe.ResolverError != nil {
		return qe.ResolverError
	}
	if e, ok := errors.AsType[*userpool.Error](qe.Err); ok {
		return e
	}
	if qe.Err != nil && !errors.Is(qe.Err, gqlerrors.ErrSyntax) {
		return userpool.Internal(qe.Err) // e.g. the request was cancelled
	}
	return userpool.Errorf(userpool.CodeBadRequest, "invalid_query", "%s", qe.Message)
}

// bodyError codes a body that is not one JSON request object.
func bodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return userpool.Errorf(userpool.CodeBodyTooLarge, "body_too_large", "request body is larger than %d bytes", maxBodyBytes)
	}
	if errors.Is(err, io.EOF) {
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body is empty: a JSON object is required")
	}
	return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body is not a JSON object of the expected shape")
}

// panicHandler turns a resolver panic into an internal error, so that it
// is answered as code 1000 and its cause logged, never sent.
type panicHandler struct{}

func (panicHandler) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	return &gqlerrors.QueryError{Message: "internal error", Err: userpool.Internal(fmt.Errorf("panic: %v", value))}
}
