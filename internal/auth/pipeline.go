package auth

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/udf"
	"github.com/authpool/authpool/internal/userpool"
)

// Pipelines runs a pool's pipelines of one stage, and one pipeline for an
// administrator's test run (*pipeline.Runner is the one the server uses).
// A nil Pipelines runs none.
type Pipelines interface {
	Run(ctx context.Context, in pipeline.Input) (pipeline.Result, error)
	Try(ctx context.Context, p *userpool.Pipeline, in pipeline.Input) pipeline.Trial
}

// UsePipelines makes the service run p at the stages of registration and
// login. Call it before serving.
func (s *Service) UsePipelines(p Pipelines) { s.pipes = p }

// flow is what the pipelines and webhooks of one registration or login
// learn about it beyond Meta: the method, the identifier the request names
// and the client's context option. The use cases fill it in Meta.
type flow struct {
	method     string
	identifier string
	params     map[string]any
	// connector is a social sign-in's connector (context.connector).
	connector string
	// preAuthenticated: the pre-authentication pipelines ran in this flow
	// (a login that auto-registers must not run them twice).
	preAuthenticated bool
}

// params is the client's context for the pipelines: the option of the
// call (native API) or the transport's (the Authing "context" field).
func (m Meta) params() map[string]any {
	if m.flow.params != nil {
		return m.flow.params
	}
	return m.Context
}

// request is the flow's request as pipelines and webhooks see it.
func (m Meta) request() pipeline.Request {
	return pipeline.Request{IP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Identifier: m.flow.identifier, Factors: m.factors(), AppID: m.AppID, Connector: m.flow.connector}
}

// stageInput is the input of stage about u (nil before the account is
// known; never shown at pre-authentication) and its user-defined values
// (vals; nil for a stored user reads them when a pipeline runs), with the
// checks its changes must pass: the profile rules, and each value's field
// and type. Flows and an administrator's test run build it here, so a
// test run judges changes exactly as the flow would.
func (s *Service) stageInput(ctx context.Context, poolID string, stage userpool.PipelineStage, u *userpool.User, vals []*userpool.UserValue, req pipeline.Request, params map[string]any) pipeline.Input {
	in := pipeline.Input{Stage: stage, PoolID: poolID, Request: req, Params: params}
	if u == nil || stage == userpool.StagePreAuthentication {
		return in
	}
	in.User = u
	switch {
	case vals != nil:
		in.Data = rawValues(vals)
	case u.ID != "":
		in.LoadData = func(ctx context.Context) (map[string]json.RawMessage, error) {
			vals, err := s.store.ListUserValues(ctx, u.PoolID, u.ID)
			return rawValues(vals), err
		}
	default:
		in.Data = map[string]json.RawMessage{}
	}
	in.Check = func(changes map[string]string) error { return checkChanges(u, changes) }
	in.CheckData = func(changes map[string]json.RawMessage) error {
		_, _, err := s.parseDataChanges(ctx, poolID, changes)
		return err
	}
	return in
}

// rawValues is vals as pipelines get them: stored JSON by key.
func rawValues(vals []*userpool.UserValue) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(vals))
	for _, v := range vals {
		out[v.Key] = json.RawMessage(v.Value)
	}
	return out
}

// runStage runs the stage's pipelines about u with its values vals and
// returns the changes they made, already checked.
func (s *Service) runStage(ctx context.Context, m Meta, poolID string, stage userpool.PipelineStage, u *userpool.User, vals []*userpool.UserValue) (pipeline.Result, error) {
	if s.pipes == nil {
		return pipeline.Result{}, nil
	}
	return s.pipes.Run(ctx, s.stageInput(ctx, poolID, stage, u, vals, m.request(), m.params()))
}

// parseDataChanges checks the user-defined values pipelines changed, as
// SetUdv would check them, and splits them into values to set and keys to
// remove (JSON null), each in key order.
func (s *Service) parseDataChanges(ctx context.Context, poolID string, changes map[string]json.RawMessage) ([]*userpool.UserValue, []string, error) {
	keys := make([]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var (
		set    []*userpool.UserValue
		remove []string
		now    = s.now().UTC()
	)
	for _, key := range keys {
		f, err := s.definedField(ctx, poolID, key)
		if err != nil {
			return nil, nil, err
		}
		raw := changes[key]
		if string(raw) == "null" {
			remove = append(remove, key)
			continue
		}
		stored, err := udf.Parse(f, raw)
		if err != nil {
			return nil, nil, err
		}
		set = append(set, &userpool.UserValue{Key: key, DataType: f.DataType, Label: f.Label, Value: stored, UpdatedAt: now})
	}
	return set, remove, nil
}

// checkChanges reports whether changes may be applied to u: valid profile
// values, and a username that is u's only login identifier kept.
func checkChanges(u *userpool.User, changes map[string]string) error {
	p := u.Profile
	if err := applyChanges(&p, changes); err != nil {
		return err
	}
	if u.Username != "" && p.Username == "" && u.Email == "" && u.Phone == "" {
		return invalid("invalid_username", "username is this account's only login identifier and cannot be removed")
	}
	return nil
}

// applyChanges sets the profile fields named in changes (by their JSON
// names) on p and validates the result.
func applyChanges(p *userpool.Profile, changes map[string]string) error {
	if len(changes) == 0 {
		return nil
	}
	old := p.Username
	fields := map[string]*string{}
	for _, f := range profileFields(p) {
		fields[f.name] = f.ptr
	}
	for name, v := range changes {
		ptr, ok := fields[name]
		if !ok {
			return invalid("invalid_profile", "unknown profile field %q", name)
		}
		*ptr = v
	}
	return validateProfileFrom(p, old)
}

// preAuthentication runs before the credentials are checked, once per
// flow; it may only refuse.
func (s *Service) preAuthentication(ctx context.Context, m *Meta, poolID string) error {
	if m.flow.preAuthenticated {
		return nil
	}
	m.flow.preAuthenticated = true
	_, err := s.runStage(ctx, *m, poolID, userpool.StagePreAuthentication, nil, nil)
	return err
}

// preRegister runs on the registration input (with the user-defined
// values the registration gives) before anything is stored, applies the
// profile changes the pipelines made to u and returns the values with
// their changes.
func (s *Service) preRegister(ctx context.Context, m Meta, poolID string, u *userpool.User, vals []*userpool.UserValue) ([]*userpool.UserValue, error) {
	res, err := s.runStage(ctx, m, poolID, userpool.StagePreRegister, u, vals)
	if err != nil {
		return nil, err
	}
	if err := applyChanges(&u.Profile, res.Changes); err != nil {
		return nil, err
	}
	if len(res.Data) == 0 {
		return vals, nil
	}
	set, remove, err := s.parseDataChanges(ctx, poolID, res.Data)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*userpool.UserValue{}
	for _, v := range vals {
		byKey[v.Key] = v
	}
	for _, v := range set {
		byKey[v.Key] = v
	}
	for _, k := range remove {
		delete(byKey, k)
	}
	out := make([]*userpool.UserValue, 0, len(byKey))
	for _, v := range byKey {
		out = append(out, v)
	}
	return out, nil
}

// postRegister runs on the stored user and its values and stores the
// changes the pipelines made: profile fields reported as user.updated,
// user-defined values as user.udv_changed, in one transaction. A refusal
// here does not undo the registration (the user is stored and
// user.registered is in the outbox), but no token is issued: the answer
// is the pipeline's error.
func (s *Service) postRegister(ctx context.Context, m Meta, u *userpool.User) (*userpool.User, error) {
	res, err := s.runStage(ctx, m, u.PoolID, userpool.StagePostRegister, u, nil)
	if err != nil {
		return nil, err
	}
	recs, err := s.dataRecords(ctx, m, u, res)
	if err != nil {
		return nil, err
	}
	switch {
	case len(res.Changes) > 0:
		return s.updateUser(ctx, m, u.PoolID, u.ID, eventUserUpdated, func(x *userpool.User) error {
			return applyChanges(&x.Profile, res.Changes)
		}, recs...)
	case len(recs) > 0:
		return u, s.store.WriteRecords(ctx, recs...)
	}
	return u, nil
}

// postAuthentication runs after the credentials are proven, before the
// session and token; the changes it returns are stored with the login
// (profile fields in the user's row, values as the records it returns).
func (s *Service) postAuthentication(ctx context.Context, m Meta, u *userpool.User) (map[string]string, []userpool.Record, error) {
	res, err := s.runStage(ctx, m, u.PoolID, userpool.StagePostAuthentication, u, nil)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.dataRecords(ctx, m, u, res)
	return res.Changes, recs, err
}

// dataRecords turns the user-defined values a stage changed into the
// records that store them with the user's change: the ValueChange and its
// user.udv_changed event (none when nothing changed). The event shows the
// values as read now with the changes applied.
func (s *Service) dataRecords(ctx context.Context, m Meta, u *userpool.User, res pipeline.Result) ([]userpool.Record, error) {
	if len(res.Data) == 0 {
		return nil, nil
	}
	set, remove, err := s.parseDataChanges(ctx, u.PoolID, res.Data)
	if err != nil {
		return nil, err
	}
	before, err := s.store.ListUserValues(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	shown := *u
	if err := applyChanges(&shown.Profile, res.Changes); err != nil {
		return nil, err
	}
	return []userpool.Record{
		&userpool.ValueChange{PoolID: u.PoolID, UserID: u.ID, Set: set, Remove: remove},
		s.udvEvent(m, &shown, before, set, remove),
	}, nil
}
