package auth

import (
	"context"

	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// Pipelines runs a pool's pipelines of one stage (*pipeline.Runner is
// the one the server uses). A nil Pipelines runs none.
type Pipelines interface {
	Run(ctx context.Context, in pipeline.Input) (pipeline.Result, error)
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
	return pipeline.Request{IP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Identifier: m.flow.identifier}
}

// runStage runs the stage's pipelines about u (nil before the account is
// known) and returns the profile changes they made, already checked
// against the profile rules.
func (s *Service) runStage(ctx context.Context, m Meta, poolID string, stage userpool.PipelineStage, u *userpool.User) (map[string]string, error) {
	if s.pipes == nil {
		return nil, nil
	}
	in := pipeline.Input{Stage: stage, PoolID: poolID, User: u, Request: m.request(), Params: m.params()}
	if u != nil {
		in.Check = func(changes map[string]string) error { return checkChanges(u, changes) }
	}
	res, err := s.pipes.Run(ctx, in)
	return res.Changes, err
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
	return validateProfile(p)
}

// preAuthentication runs before the credentials are checked, once per
// flow; it may only refuse.
func (s *Service) preAuthentication(ctx context.Context, m *Meta, poolID string) error {
	if m.flow.preAuthenticated {
		return nil
	}
	m.flow.preAuthenticated = true
	_, err := s.runStage(ctx, *m, poolID, userpool.StagePreAuthentication, nil)
	return err
}

// preRegister runs on the registration input before anything is stored
// and applies the profile changes the pipelines made to u.
func (s *Service) preRegister(ctx context.Context, m Meta, poolID string, u *userpool.User) error {
	changes, err := s.runStage(ctx, m, poolID, userpool.StagePreRegister, u)
	if err != nil {
		return err
	}
	return applyChanges(&u.Profile, changes)
}

// postRegister runs on the stored user and stores the profile changes the
// pipelines made, reported as user.updated. A refusal here does not undo
// the registration (the user is stored and user.registered is in the
// outbox), but no token is issued: the answer is the pipeline's error.
func (s *Service) postRegister(ctx context.Context, m Meta, u *userpool.User) (*userpool.User, error) {
	changes, err := s.runStage(ctx, m, u.PoolID, userpool.StagePostRegister, u)
	if err != nil || len(changes) == 0 {
		return u, err
	}
	return s.updateUser(ctx, m, u.PoolID, u.ID, eventUserUpdated, func(x *userpool.User) error {
		return applyChanges(&x.Profile, changes)
	})
}

// postAuthentication runs after the credentials are proven, before the
// session and token; the changes it returns are stored with the login.
func (s *Service) postAuthentication(ctx context.Context, m Meta, u *userpool.User) (map[string]string, error) {
	return s.runStage(ctx, m, u.PoolID, userpool.StagePostAuthentication, u)
}
