package authingcompat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
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
	// resolved counts the fields the engine resolved (fieldBudget),
	// answerBytes the user-defined values answered (charge); overBudget
	// is set once either passed its limit (limits.go).
	resolved    atomic.Int64
	answerBytes atomic.Int64
	overBudget  atomic.Bool
	// introspected counts the introspection fields (__schema, __type)
	// the engine resolved, introspectedTwice is set past
	// maxIntrospection, and ranBusiness once it resolved any field that
	// is not introspection (fieldBudget, limits.go).
	introspected      atomic.Int32
	introspectedTwice atomic.Bool
	ranBusiness       atomic.Bool
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
		s.refuse(w, r, err)
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		s.refuse(w, r, bodyError(err))
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		s.refuse(w, r, userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must hold exactly one JSON object"))
		return
	}
	if req.Query == "" {
		s.refuse(w, r, userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field \"query\" is required"))
		return
	}
	if len(req.Query) > maxQueryBytes {
		s.refuse(w, r, userpool.Errorf(userpool.CodeBodyTooLarge, "body_too_large", "query is longer than %d bytes", maxQueryBytes))
		return
	}
	// An introspection answer seen before costs a lookup: no limit counts
	// it, nothing is parsed or run.
	key, cacheable := cacheKey(&req)
	if cacheable {
		if body, ok := s.answers.get(key); ok {
			writeBody(w, body)
			return
		}
	}
	if err := s.Auth.LimitGraphQL(r.Context(), s.meta(r, "")); err != nil {
		s.refuse(w, r, err)
		return
	}
	cost, qerrs := s.measure(req.Query)
	if len(qerrs) > 0 {
		s.writeQueryErrors(w, r, nil, qerrs)
		return
	}
	switch {
	case cost.selections > maxSelections:
		s.refuse(w, r, errTooManySelections)
		return
	case cost.introspection > maxIntrospection:
		s.refuse(w, r, errIntrospectionTwice)
		return
	}
	c := &call{r: r, bearer: httpapi.Bearer(r)}
	resp := s.schema.Exec(context.WithValue(r.Context(), callKey{}, c), req.Query, req.OperationName, req.Variables)
	if c.introspectedTwice.Load() {
		// The reader of cost.go saw at most one: it misread the document.
		s.refuse(w, r, errIntrospectionTwice)
		return
	}
	if c.overBudget.Load() || len(resp.Data) > maxAnswerBytes {
		s.refuse(w, r, errAnswerTooLarge)
		return
	}
	if cacheable && cost.introspectionOnly && len(resp.Errors) == 0 && c.cacheable(resp.Data) {
		// The whole body is kept, encoded once: a hit writes bytes. This
		// answer goes the usual way, so that tests compare the two.
		// Whether it may be kept is what the engine ran (c.cacheable), not
		// only what the document looked like before it ran.
		if body, err := encodeJSON(gqlResponse{Data: resp.Data}); err == nil {
			s.answers.put(key, body)
		}
	}
	s.writeQueryErrors(w, r, resp.Data, resp.Errors)
}

// measure reads the document for the limits of limits.go. A document this
// transport's reader cannot read is the engine's to judge: its errors are
// answered, and a document the engine would accept is refused, never run
// unmeasured.
func (s *Server) measure(query string) (docCost, []*gqlerrors.QueryError) {
	doc, err := parseDocument(query)
	if err == nil {
		return doc.measure(maxSelections), nil
	}
	unreadable := []*gqlerrors.QueryError{{Message: errUnreadable.Message, Err: errUnreadable}}
	if qerrs, ok := validate(s.schema, query); !ok {
		return docCost{}, unreadable
	} else if len(qerrs) > 0 {
		return docCost{}, qerrs
	}
	return docCost{}, unreadable
}

// validate is the engine's validation, which panics on some strings it
// reads but cannot unquote (a description "\700"): ok is false then.
func validate(s *graphql.Schema, query string) (qerrs []*gqlerrors.QueryError, ok bool) {
	defer func() {
		if recover() != nil {
			qerrs, ok = nil, false
		}
	}()
	return s.Validate(query), true
}

// writeQueryErrors answers data (null when empty) with the engine's errors
// as Authing's error objects.
func (s *Server) writeQueryErrors(w http.ResponseWriter, r *http.Request, data json.RawMessage, qerrs []*gqlerrors.QueryError) {
	out := gqlResponse{Data: data}
	if len(out.Data) == 0 {
		out.Data = json.RawMessage("null")
	}
	var errs []error
	for _, qe := range qerrs {
		err := queryError(qe)
		setRetryAfter(w, err)
		errs = append(errs, err)
		out.Errors = append(out.Errors, s.wire(r, err, qe))
	}
	writeJSON(w, out, errs...)
}

// refuse answers a request that is not run at all: data null and err.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	setRetryAfter(w, err)
	s.writeGraphQLErrors(w, r, []wireError{s.wire(r, err, nil)}, err)
}

func (s *Server) writeGraphQLErrors(w http.ResponseWriter, r *http.Request, errs []wireError, causes ...error) {
	writeJSON(w, gqlResponse{Data: json.RawMessage("null"), Errors: errs}, causes...)
}

// setRetryAfter gives a rate-limit refusal the Retry-After header the
// native API sends with its 429. The status stays 200 on this wire (the
// SDKs lose the body of any other), and the body carries the same wait
// as data.retryAfter.
func setRetryAfter(w http.ResponseWriter, err error) {
	if re, ok := errors.AsType[*userpool.RetryError](err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((re.After+time.Second-1)/time.Second))))
	}
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
	// The engine's own limits (selections, depth, overlap checks) are the
	// client's doing: 1001 with its text, never an internal error.
	if errors.Is(qe.Err, graphql.ErrTooManySelections) {
		return errTooManySelections
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
