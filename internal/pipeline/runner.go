package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/metrics"
	"github.com/authpool/authpool/internal/userpool"
)

// Limits of a pipeline and of what one run may produce.
const (
	// MaxScriptBytes bounds a script's source.
	MaxScriptBytes = 32 << 10
	// MaxTimeout is the longest time limit a pipeline may set.
	MaxTimeout = 30 * time.Second
	// maxMessage bounds a rejection or failure message.
	maxMessage = 512
	// maxOutput bounds the console output kept of one run.
	maxOutput = 8 << 10
	// maxUserJSON bounds the user a pipeline returns. It is as large as the
	// user it was given may be: up to 200 user-defined values of at most
	// 16 KiB each (internal/udf) beside the profile.
	maxUserJSON = 4 << 20
)

// Store is what the runner needs of the store.
type Store interface {
	ListPipelines(ctx context.Context, poolID string, stage userpool.PipelineStage) ([]*userpool.Pipeline, error)
	AppendPipelineLog(ctx context.Context, l *userpool.PipelineLog, keep int) error
	AppendAudit(ctx context.Context, e *userpool.AuditEvent) error
}

// Config are the runner's process-wide settings.
type Config struct {
	// Timeout limits a run of a pipeline that sets none (default 3 s).
	Timeout time.Duration
	// Concurrency bounds the scripts running at once, each in a worker
	// process (default DefaultConcurrency); a run waits for a slot at
	// most its own time limit, and the wait counts against it.
	Concurrency int
	// PoolConcurrency bounds the scripts of one user pool running at once
	// (default half of Concurrency, at least 1), so that one pool's slow
	// scripts cannot take every slot.
	PoolConcurrency int
	// Memory bounds the heap of one script run, in bytes (default
	// DefaultMemory); a run that passes it fails.
	Memory int64
	// LogKeep is how many logs each pipeline keeps (default 200).
	LogKeep int
	// Client makes the requests of HTTP pipelines and of the scripts' http
	// helper; nil means a client that follows no redirects.
	Client *http.Client
}

// Runner runs pipelines. It is safe for concurrent use.
type Runner struct {
	store Store
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	slots *slots
	// metrics counts the flows' runs (nil: nothing recorded).
	metrics *metrics.Metrics
}

// UseMetrics records the flows' runs (not test runs) in m. Call it before
// serving.
func (r *Runner) UseMetrics(m *metrics.Metrics) { r.metrics = m }

// Defaults of Config.
const (
	DefaultMemory = 128 << 20
	// MinMemory is the least memory limit a worker can live with.
	MinMemory = 32 << 20
)

// DefaultConcurrency is the default number of scripts running at once:
// one per CPU, and at least 4, since scripts often wait on their http
// helper rather than compute.
func DefaultConcurrency() int { return max(4, runtime.GOMAXPROCS(0)) }

// NewRunner builds a Runner; now may be nil (time.Now).
func NewRunner(store Store, cfg Config, now func() time.Time, log *slog.Logger) *Runner {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency()
	}
	if cfg.PoolConcurrency <= 0 {
		cfg.PoolConcurrency = max(1, cfg.Concurrency/2)
	}
	cfg.PoolConcurrency = min(cfg.PoolConcurrency, cfg.Concurrency)
	if cfg.Memory <= 0 {
		cfg.Memory = DefaultMemory
	}
	cfg.Memory = max(cfg.Memory, MinMemory)
	if cfg.LogKeep <= 0 {
		cfg.LogKeep = 200
	}
	if cfg.Client == nil {
		cfg.Client = noRedirectClient()
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workers.keepWarm(min(cfg.Concurrency, 8))
	workers.prestart(cfg.Memory)
	return &Runner{store: store, cfg: cfg, now: now, log: log, slots: newSlots(cfg.Concurrency, cfg.PoolConcurrency)}
}

// noRedirectClient never follows a redirect: a pipeline endpoint or an
// allowed host must not send a request on to somewhere else.
func noRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Request describes the request a flow serves.
type Request struct {
	IP, UserAgent string
	// Method is the registration or login method; Identifier the email,
	// username or phone the request names.
	Method, Identifier string
	// Factors are the factors a login passed when it had a second one:
	// its method, then the second factor (totp, recovery, sms, email).
	Factors []string
	// AppID is the application the request is for ("" when none).
	AppID string
	// Connector is the connector of a social sign-in ("" otherwise).
	Connector string
}

// Input is one stage of one flow.
type Input struct {
	Stage  userpool.PipelineStage
	PoolID string
	// User is the registration input at pre-register, the stored user
	// after; nil at pre-authentication.
	User    *userpool.User
	Request Request
	// Data are the user's user-defined values (their stored, canonical
	// JSON) by key, shown to pipelines as user.customData. When Data is
	// nil, LoadData (if set) reads them, once and only when an enabled
	// pipeline will run: a stage without pipelines costs no read.
	Data     map[string]json.RawMessage
	LoadData func(ctx context.Context) (map[string]json.RawMessage, error)
	// Params is the client's context option.
	Params map[string]any
	// Check validates the profile changes the pipelines made so far (by
	// JSON field name); a pipeline whose changes it refuses has failed.
	Check func(changes map[string]string) error
	// CheckData validates the user-defined values the pipelines changed so
	// far (see Result.Data) the same way.
	CheckData func(changes map[string]json.RawMessage) error
}

// Result is what the stage's pipelines changed.
type Result struct {
	// Changes are the profile fields set, by JSON name (as in api.Profile),
	// each differing from the input user's value.
	Changes map[string]string
	// Data are the user-defined values set (their JSON) or removed (JSON
	// null), by key, each differing from the input's.
	Data map[string]json.RawMessage
}

// Trial is the result of one run of one pipeline.
type Trial struct {
	Outcome userpool.PipelineOutcome
	// Message is the rejection message or the failure's description.
	Message string
	// Output is the captured console output.
	Output string
	// Changes are the profile fields the run set (accepted runs).
	Changes map[string]string
	// Data are the user-defined values the run set or removed (null).
	Data     map[string]json.RawMessage
	Duration time.Duration
	// Busy: the run failed because no script slot came free within its
	// time limit.
	Busy bool
}

// Run runs the enabled pipelines of in.Stage of in.PoolID in order, each
// seeing the changes of the ones before. The first rejection or failure
// stops the flow: it is logged to the pipeline's log and the audit log and
// returned as a coded error (1020 with the pipeline's message, or 1021).
func (r *Runner) Run(ctx context.Context, in Input) (Result, error) {
	ps, err := r.store.ListPipelines(ctx, in.PoolID, in.Stage)
	if err != nil {
		return Result{}, err
	}
	res := Result{Changes: map[string]string{}, Data: map[string]json.RawMessage{}}
	if !slices.ContainsFunc(ps, func(p *userpool.Pipeline) bool { return p.Enabled }) {
		return res, nil
	}
	if in.Data == nil && in.LoadData != nil && in.User != nil {
		if in.Data, err = in.LoadData(ctx); err != nil {
			return Result{}, err
		}
	}
	user := userDoc(in.User, in.Data)
	for _, p := range ps {
		if !p.Enabled {
			continue
		}
		tr := r.run(ctx, p, in, user)
		check(&tr, in, res)
		r.metrics.PipelineRun(string(in.Stage), string(p.Kind), string(tr.Outcome), tr.Duration)
		r.record(ctx, p, in, tr)
		// Only an acceptance lets the flow go on: any other outcome,
		// whatever it is, refuses (fail closed).
		switch tr.Outcome {
		case userpool.PipelineAccepted:
		case userpool.PipelineRejected:
			e := userpool.Errorf(userpool.CodePipelineRejected, "pipeline_rejected", "%s", tr.Message)
			e.Data = map[string]any{"pipelineId": p.ID, "stage": string(p.Stage)}
			return Result{}, e
		default:
			e := userpool.Errorf(userpool.CodePipelineFailed, "pipeline_failed", "a pipeline of this user pool failed, so the request was refused")
			e.Data = map[string]any{"pipelineId": p.ID, "stage": string(p.Stage)}
			if tr.Busy {
				// No script slot within the caller's time limit: the
				// server is busy, not broken (503 with Retry-After).
				e = userpool.Errorf(userpool.CodeUnavailable, "pipelines_busy", "too many pipelines are running; try again shortly")
				e.Data = map[string]any{"pipelineId": p.ID, "stage": string(p.Stage)}
				return Result{}, &userpool.LimitError{Err: e, After: time.Second}
			}
			return Result{}, e
		}
		for k, v := range tr.Changes {
			res.Changes[k] = v
			if user != nil {
				user[k] = v
			}
		}
		for k, v := range tr.Data {
			res.Data[k] = v
			if data, ok := user["customData"].(map[string]any); ok {
				setData(data, k, v)
			}
		}
	}
	return res, nil
}

// setData applies one change of a user-defined value to the customData
// object later pipelines of the stage see.
func setData(data map[string]any, key string, raw json.RawMessage) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		delete(data, key)
		return
	}
	data[key] = v
}

// Try runs one pipeline (enabled or not, stored or not) against in without
// recording anything: the admin's test run.
func (r *Runner) Try(ctx context.Context, p *userpool.Pipeline, in Input) Trial {
	if in.Data == nil && in.LoadData != nil && in.User != nil {
		data, err := in.LoadData(ctx)
		if err != nil {
			return Trial{Outcome: userpool.PipelineFailed, Message: "read the user's data: " + err.Error()}
		}
		in.Data = data
	}
	tr := r.run(ctx, p, in, userDoc(in.User, in.Data))
	check(&tr, in, Result{})
	return tr
}

// check turns an accepted run whose changes (on top of the earlier ones)
// in.Check or in.CheckData refuses into a failed one: the pipeline
// produced an invalid user.
func check(tr *Trial, in Input, earlier Result) {
	if tr.Outcome != userpool.PipelineAccepted {
		return
	}
	var err error
	if len(tr.Changes) > 0 && in.Check != nil {
		err = in.Check(merged(earlier.Changes, tr.Changes))
	}
	if err == nil && len(tr.Data) > 0 && in.CheckData != nil {
		err = in.CheckData(merged(earlier.Data, tr.Data))
	}
	if err != nil {
		tr.Outcome, tr.Message = userpool.PipelineFailed, clip("the pipeline returned an invalid user: "+userpool.AsError(err).Message, maxMessage)
		tr.Changes, tr.Data = nil, nil
	}
}

// merged is later's entries over earlier's, in a new map.
func merged[V any](earlier, later map[string]V) map[string]V {
	all := make(map[string]V, len(earlier)+len(later))
	for k, v := range earlier {
		all[k] = v
	}
	for k, v := range later {
		all[k] = v
	}
	return all
}

// run runs p once against user (a JSON document of the user, or nil).
func (r *Runner) run(ctx context.Context, p *userpool.Pipeline, in Input, user map[string]any) Trial {
	start := time.Now()
	userJSON, err := json.Marshal(user)
	if err != nil {
		return Trial{Outcome: userpool.PipelineFailed, Message: "encode user: " + err.Error()}
	}
	req := api.PipelineRequest{Stage: string(in.Stage), Context: api.PipelineContext{
		Stage: string(in.Stage), Params: in.Params, Connector: in.Request.Connector,
		Request: api.PipelineRequestInfo{
			IP: in.Request.IP, UserAgent: in.Request.UserAgent, UserPoolID: in.PoolID,
			Method: in.Request.Method, Identifier: in.Request.Identifier, Factors: in.Request.Factors,
		},
	}}
	if req.Context.Params == nil {
		req.Context.Params = map[string]any{}
	}
	ctxJSON, err := json.Marshal(req.Context)
	if err != nil {
		return Trial{Outcome: userpool.PipelineFailed, Message: "encode context: " + err.Error()}
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = r.cfg.Timeout
	}
	timeout = min(timeout, MaxTimeout)
	var tr Trial
	var returned []byte
	switch p.Kind {
	case userpool.PipelineScript:
		tr, returned = r.runScript(ctx, p, in.PoolID, timeout, userJSON, ctxJSON)
	case userpool.PipelineHTTP:
		tr, returned = r.runHTTP(ctx, p, in.Stage, timeout, userJSON, ctxJSON)
	default:
		tr = Trial{Outcome: userpool.PipelineFailed, Message: fmt.Sprintf("unknown pipeline kind %q", p.Kind)}
	}
	if tr.Outcome == userpool.PipelineAccepted && user != nil && returned != nil {
		changes, data, err := diffUser(user, returned)
		if err != nil {
			tr.Outcome, tr.Message = userpool.PipelineFailed, "the pipeline returned an invalid user: "+err.Error()
			changes, data = nil, nil
		}
		tr.Changes, tr.Data = changes, data
	}
	tr.Message = clip(tr.Message, maxMessage)
	tr.Duration = time.Since(start)
	return tr
}

// record keeps a run in the pipeline's log when it printed something or
// did not accept, and a refusal in the audit log. A failure to record is
// logged, never returned: the flow's answer does not depend on it. The
// writes outlive a cancelled request so that its failure is recorded.
func (r *Runner) record(ctx context.Context, p *userpool.Pipeline, in Input, tr Trial) {
	if tr.Output == "" && tr.Outcome == userpool.PipelineAccepted {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	l := &userpool.PipelineLog{
		PoolID: p.PoolID, PipelineID: p.ID, Stage: in.Stage, Outcome: tr.Outcome,
		Message: tr.Message, Output: tr.Output, Duration: tr.Duration, CreatedAt: r.now().UTC(),
	}
	if err := r.store.AppendPipelineLog(ctx, l, r.cfg.LogKeep); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "pipeline log not stored", slog.String("pipeline_id", p.ID), slog.String("error", err.Error()))
	}
	if tr.Outcome == userpool.PipelineAccepted {
		return
	}
	userID := ""
	if in.User != nil {
		userID = in.User.ID
	}
	a := &userpool.AuditEvent{
		PoolID: p.PoolID, UserID: userID, Event: "pipeline." + string(tr.Outcome),
		ClientIP: in.Request.IP, UserAgent: in.Request.UserAgent, CreatedAt: r.now().UTC(),
		Detail: map[string]string{"pipelineId": p.ID, "stage": string(in.Stage), "message": tr.Message},
	}
	if err := r.store.AppendAudit(ctx, a); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "pipeline audit event not stored", slog.String("pipeline_id", p.ID), slog.String("error", err.Error()))
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "pipeline refused a request", slog.String("pipeline_id", p.ID),
		slog.String("stage", string(in.Stage)), slog.String("outcome", string(tr.Outcome)))
}

// userDoc is the user as pipelines see it: the JSON of api.User, with
// its user-defined values as customData (always an object, so that a
// script can add to it).
func userDoc(u *userpool.User, data map[string]json.RawMessage) map[string]any {
	if u == nil {
		return nil
	}
	b, err := json.Marshal(APIUser(u))
	if err != nil {
		panic(err) // api.User always encodes
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	// A field api.User omits when empty is "" to the script, as in Authing.
	for _, name := range profileNames {
		if _, ok := m[name]; !ok {
			m[name] = ""
		}
	}
	custom := make(map[string]any, len(data))
	for k, raw := range data {
		setData(custom, k, raw)
	}
	m["customData"] = custom
	return m
}

// APIUser is u as the API (and webhooks and pipelines) show it.
func APIUser(u *userpool.User) *api.User {
	return &api.User{
		ID: u.ID, UserPoolID: u.PoolID,
		Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified,
		Profile:     api.Profile(u.Profile),
		LoginsCount: u.LoginsCount, LastLogin: u.LastLogin, SignedUp: u.SignedUp,
		Blocked: u.Blocked, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// profileNames are the JSON names of the profile fields, the only ones a
// pipeline may change.
var profileNames = func() []string {
	var names []string
	t := reflect.TypeFor[api.Profile]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}()

// diffUser returns the profile fields and the user-defined values of the
// returned user (JSON) that differ from before.
func diffUser(before map[string]any, returned []byte) (map[string]string, map[string]json.RawMessage, error) {
	var after map[string]any
	if err := json.Unmarshal(returned, &after); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	changes, err := diffProfile(before, after)
	if err != nil {
		return nil, nil, err
	}
	data, err := diffData(before["customData"], after["customData"])
	return changes, data, err
}

// diffProfile returns the profile fields of after that differ from
// before. A field the pipeline removed or left out keeps its value; null
// clears it; anything but a string or null is an error.
func diffProfile(before, after map[string]any) (map[string]string, error) {
	changes := map[string]string{}
	for _, name := range profileNames {
		v, ok := after[name]
		if !ok {
			continue
		}
		var s string
		switch v := v.(type) {
		case nil:
		case string:
			s = v
		default:
			return nil, fmt.Errorf("%s must be a string", name)
		}
		if old, _ := before[name].(string); s != old {
			changes[name] = s
		}
	}
	return changes, nil
}

// diffData returns the user-defined values of after (the returned
// customData) that differ from before, as JSON; null removes a value. As
// with profile fields, a key left out (or customData left out) keeps its
// value. Values are compared by their JSON, so an object with its keys in
// another order is no change.
func diffData(before, after any) (map[string]json.RawMessage, error) {
	if after == nil {
		return nil, nil
	}
	am, ok := after.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("customData must be an object")
	}
	bm, _ := before.(map[string]any)
	changes := map[string]json.RawMessage{}
	for k, v := range am {
		old, had := bm[k]
		if v == nil {
			if had {
				changes[k] = json.RawMessage("null")
			}
			continue
		}
		nb, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("customData %q cannot be encoded", k)
		}
		if had {
			if ob, err := json.Marshal(old); err == nil && bytes.Equal(ob, nb) {
				continue
			}
		}
		changes[k] = nb
	}
	return changes, nil
}

// clip shortens s to at most n bytes, the ellipsis that marks the cut
// included, without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	n -= len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:max(n, 0)] + ellipsis
}
