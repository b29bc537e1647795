package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// Webhook event types the use cases emit (see api.EventTypes for all).
const (
	eventUserRegistered      = api.EventUserRegistered
	eventUserLogin           = api.EventUserLogin
	eventUserLoginFailed     = api.EventUserLoginFailed
	eventUserLogout          = api.EventUserLogout
	eventUserUpdated         = api.EventUserUpdated
	eventUserPasswordChanged = api.EventUserPasswordChanged
	eventUserPasswordReset   = api.EventUserPasswordReset
	eventUserPhoneChanged    = api.EventUserPhoneChanged
	eventUserEmailChanged    = api.EventUserEmailChanged
	eventUserEmailVerified   = api.EventUserEmailVerified
	eventUserUDVChanged      = api.EventUserUDVChanged
)

// userEvent builds the webhook event typ about u, to be passed to the
// store write that makes the change, so that both are stored in one
// transaction (the outbox).
func (s *Service) userEvent(typ string, m Meta, u *userpool.User) *userpool.Event {
	return pipeline.UserEvent(typ, u, m.request(), s.now().UTC())
}

// registeredEvent builds the user.registered event of u, showing the
// user-defined values stored with the registration.
func (s *Service) registeredEvent(m Meta, u *userpool.User, vals []*userpool.UserValue) *userpool.Event {
	return pipeline.NewEvent(eventUserRegistered, u.PoolID, s.now().UTC(), api.WebhookData{
		User: withValues(pipeline.APIUser(u), vals), ClientIP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method,
	})
}

// udvEvent builds the user.udv_changed event of a change to u's
// user-defined values: the keys set and removed, and the user with every
// value as it is after the change (before, changed by set and remove).
func (s *Service) udvEvent(m Meta, u *userpool.User, before, set []*userpool.UserValue, remove []string) *userpool.Event {
	after := map[string]*userpool.UserValue{}
	for _, v := range before {
		after[v.Key] = v
	}
	keys := make([]string, 0, len(set)+len(remove))
	for _, v := range set {
		after[v.Key] = v
		keys = append(keys, v.Key)
	}
	for _, k := range remove {
		delete(after, k)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return pipeline.NewEvent(eventUserUDVChanged, u.PoolID, s.now().UTC(), api.WebhookData{
		User: withValues(pipeline.APIUser(u), slices.Collect(maps.Values(after))), ClientIP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Keys: keys,
	})
}

// withValues sets au's customData and customDataTypes to vals (none: left
// out), as webhook events show them.
func withValues(au *api.User, vals []*userpool.UserValue) *api.User {
	if len(vals) == 0 {
		return au
	}
	au.CustomData, au.CustomDataTypes = make(map[string]any, len(vals)), make(map[string]string, len(vals))
	for _, v := range vals {
		var x any
		if err := json.Unmarshal([]byte(v.Value), &x); err != nil {
			continue // stored values are JSON; udf wrote them
		}
		au.CustomData[v.Key], au.CustomDataTypes[v.Key] = x, string(v.DataType)
	}
	return au
}

// errUnchanged aborts a read-modify-write that would change nothing, so
// that no event reports a change that did not happen.
var errUnchanged = errors.New("unchanged")

// updateUser is UpdateUser that reports the change as the webhook event
// typ, written in the same transaction (with recs, such as audit events).
// The event shows the user as written: it is built inside the
// read-modify-write, after fn.
func (s *Service) updateUser(ctx context.Context, m Meta, poolID, id, typ string, fn func(*userpool.User) error, recs ...userpool.Record) (*userpool.User, error) {
	return s.updateUserEvents(ctx, m, poolID, id, []string{typ}, fn, recs...)
}

// updateUserEvents is updateUser reported by several webhook events (one
// per type), each showing the user as written.
func (s *Service) updateUserEvents(ctx context.Context, m Meta, poolID, id string, types []string, fn func(*userpool.User) error, recs ...userpool.Record) (*userpool.User, error) {
	evs := make([]*userpool.Event, len(types))
	all := make([]userpool.Record, 0, len(types)+len(recs))
	for i := range evs {
		evs[i] = new(userpool.Event)
		all = append(all, evs[i])
	}
	all = append(all, recs...)
	return s.store.UpdateUser(ctx, poolID, id, func(x *userpool.User) error {
		before := x.UpdatedAt
		if err := fn(x); err != nil {
			return err
		}
		now := s.now().UTC()
		if x.UpdatedAt.Equal(before) {
			x.UpdatedAt = now
		}
		for i, typ := range types {
			*evs[i] = *pipeline.UserEvent(typ, x, m.request(), now)
		}
		return nil
	}, all...)
}

// updateUserIfChanged is updateUser whose fn may return errUnchanged:
// then nothing is written and nothing reported, and the stored user is
// returned with changed false.
func (s *Service) updateUserIfChanged(ctx context.Context, m Meta, poolID, id, typ string, fn func(*userpool.User) error, recs ...userpool.Record) (u *userpool.User, changed bool, err error) {
	u, err = s.updateUser(ctx, m, poolID, id, typ, fn, recs...)
	if errors.Is(err, errUnchanged) {
		u, err = s.store.GetUser(ctx, poolID, id)
		return u, false, err
	}
	return u, err == nil, err
}

// loginFailed counts every login's outcome in the metrics (success, the
// refusal's reason, or error), and reports a failed login as user.login_failed (in its own
// transaction: no change accompanies it) and returns err unchanged. Only
// refusals of the attempt count (codes 2000 and up: unknown account, wrong
// password, blocked, CAPTCHA...; and pipeline refusals), not malformed
// requests or internal failures.
func (s *Service) loginFailed(ctx context.Context, m Meta, err error) error {
	var e *userpool.Error
	if !errors.As(err, &e) {
		outcome := "success"
		if err != nil {
			outcome = "error"
		}
		s.metrics.Login(m.flow.method, outcome)
		return err
	}
	// Reasons are a closed set written in the code: a bounded label.
	s.metrics.Login(m.flow.method, e.Reason)
	if e.Code < 2000 && e.Code != userpool.CodePipelineRejected && e.Code != userpool.CodePipelineFailed {
		return err
	}
	poolID, perr := s.poolID(ctx, m)
	if perr != nil {
		return err
	}
	ev := pipeline.NewEvent(eventUserLoginFailed, poolID, s.now().UTC(), api.WebhookData{
		ClientIP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Identifier: m.flow.identifier,
		Code: int(e.Code), Reason: e.Reason,
	})
	if werr := s.store.WriteRecords(context.WithoutCancel(ctx), ev); werr != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "user.login_failed event not stored", slog.String("error", werr.Error()))
	}
	return err
}
