package authingcompat

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"sync"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/graph-gophers/graphql-go/introspection"
	"github.com/graph-gophers/graphql-go/trace/tracer"

	"github.com/authpool/authpool/internal/userpool"
)

// The work and the answer of one document are bounded three ways, so that
// a small request can never ask for a large answer (docs/AUTHING.md,
// "Limits"):
//
//   - before it runs: at most maxSelections selections (cost.go counts
//     every field, aliased duplicates too, and the contents of a fragment
//     each time it is spread) and at most one introspection field
//     (__schema or __type), whose answer is the one list-heavy answer of
//     the schema;
//   - while it runs: at most maxResolvedFields fields resolved, counted by
//     fieldBudget as the engine goes, past which no resolver runs; and at
//     most maxAnswerBytes of user-defined values (call.charge), the one
//     part of an answer that can be large;
//   - after it ran: an answer of at most maxAnswerBytes.
//
// The standard introspection queries (graphql-core 2 and graphql-js 16)
// expand to 119 and 227 selections, resolve about 3,500 fields and answer
// 64 KiB; the SDKs' business documents have under 60 selections. The
// largest business answer is a user's user-defined values: at most
// udf.MaxFieldsPerPool (200) values of at most 16 KiB, about 3.2 MiB, and
// up to twice that once escaped as JSON text.
const (
	maxSelections      = 500
	maxIntrospection   = 1
	maxResolvedFields  = 10000
	maxAnswerBytes     = 8 << 20
	introspectionCache = 32 // distinct introspection documents kept
)

var (
	errTooManySelections = userpool.Errorf(userpool.CodeBadRequest, "too_many_selections",
		"the document expands to more than %d selections (aliases and fragment spreads count)", maxSelections)
	errIntrospectionTwice = userpool.Errorf(userpool.CodeBadRequest, "introspection_repeated",
		"at most %d introspection field (__schema or __type) per document", maxIntrospection)
	errAnswerTooLarge = userpool.Errorf(userpool.CodeBadRequest, "answer_too_large",
		"the answer would be larger than the limit of one document (%d fields, %d bytes): ask for less", maxResolvedFields, maxAnswerBytes)
	errUnreadable = userpool.Errorf(userpool.CodeBadRequest, "invalid_query",
		"the document could not be read")
)

// fieldBudget is the engine's tracer: it counts the fields the engine
// resolves for one request (in its call) and, once maxResolvedFields have
// been, hands the engine a cancelled context, on which it calls no further
// resolver. The answer is then refused whole (graphql.go).
type fieldBudget struct{}

var stopped = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func (fieldBudget) TraceQuery(ctx context.Context, _ string, _ string, _ map[string]any, _ map[string]*introspection.Type) (context.Context, tracer.QueryFinishFunc) {
	return ctx, func([]*gqlerrors.QueryError) {}
}

// It also records what the engine really ran, whatever the reader of
// cost.go saw in the document: the introspection fields it resolved
// (past maxIntrospection, it stops the request as above and the answer is
// refused) and whether it resolved any field that is not introspection
// (then the answer may depend on the caller, and is never cached).
func (fieldBudget) TraceField(ctx context.Context, _, typeName, fieldName string, _ bool, _ map[string]any) (context.Context, tracer.FieldFinishFunc) {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok {
		return ctx, func(*gqlerrors.QueryError) {}
	}
	switch {
	case isIntrospectionRoot(fieldName) && typeName == "":
		// The engine's meta fields __schema and __type have no type name.
		if c.introspected.Add(1) > maxIntrospection {
			c.introspectedTwice.Store(true)
			return stopped, func(*gqlerrors.QueryError) {}
		}
	case !strings.HasPrefix(fieldName, "__") && !strings.HasPrefix(typeName, "__"):
		// Names starting with __ are reserved to introspection (its
		// fields, and the fields of its types __Schema, __Type, ...).
		c.ranBusiness.Store(true)
	}
	if c.resolved.Add(1) > maxResolvedFields {
		c.overBudget.Store(true)
		return stopped, func(*gqlerrors.QueryError) {}
	}
	return ctx, func(*gqlerrors.QueryError) {}
}

func isIntrospectionRoot(name string) bool { return name == "__schema" || name == "__type" }

// cacheable tells whether the answer of a request that ran as c may be
// kept in the introspection cache and served to anyone: only when the
// engine resolved nothing but introspection (TraceField) and every key of
// data is an introspection field, so that the answer is the schema's and
// no caller's. Both are what the engine did, not what a reader of the
// document expected: a document misread before it ran is never cached.
func (c *call) cacheable(data json.RawMessage) bool {
	if c.ranBusiness.Load() || c.overBudget.Load() || c.introspectedTwice.Load() {
		return false
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(data, &root); err != nil || len(root) == 0 {
		return false
	}
	for k := range root {
		if !isIntrospectionRoot(k) && k != "__typename" {
			return false
		}
	}
	return true
}

// charge counts n bytes of user-defined values into the answer of c's
// request and refuses them past maxAnswerBytes: aliases of customData or
// udv would otherwise repeat the largest answer of the schema.
func (c *call) charge(n int) error {
	if c.answerBytes.Add(int64(n)) > maxAnswerBytes {
		c.overBudget.Store(true)
		return errAnswerTooLarge
	}
	return nil
}

// answerCache keeps the HTTP answers of introspection-only documents: they
// depend on the schema alone, which does not change while the process
// runs, and the Python SDK sends the same introspection query before every
// call. Keys are the document, the operation name and the variables as
// canonical JSON, hashed; a few distinct documents are kept, least
// recently used first out.
type answerCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cacheEntry, most recent at the front
	byKey map[[32]byte]*list.Element
}

type cacheEntry struct {
	key  [32]byte
	body []byte // the whole HTTP answer
}

func newAnswerCache(max int) *answerCache {
	return &answerCache{max: max, order: list.New(), byKey: map[[32]byte]*list.Element{}}
}

// cacheKey names a request; ok is false when its variables cannot be
// written as JSON (then it is not cached).
func cacheKey(req *gqlRequest) (key [32]byte, ok bool) {
	vars := []byte("{}")
	if len(req.Variables) > 0 {
		b, err := json.Marshal(req.Variables) // map keys sorted: canonical
		if err != nil {
			return key, false
		}
		vars = b
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(req.Query), []byte(req.OperationName), vars} {
		_ = binary.Write(h, binary.BigEndian, uint64(len(part)))
		h.Write(part)
	}
	copy(key[:], h.Sum(nil))
	return key, true
}

func (c *answerCache) get(key [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).body, true
}

func (c *answerCache) put(key [32]byte, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, body: body})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*cacheEntry)
		delete(c.byKey, old.key)
	}
}
