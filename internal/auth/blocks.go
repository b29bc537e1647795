package auth

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// The building blocks below are the policy the administration use cases
// (internal/admin) share with the end-user flows: the same identifier,
// profile, password and user-defined data rules, the same way of storing a
// new user with its events, the same webhook events. They are exported for
// that package alone to build on; transports call the use cases instead.

// NormalizeEmail validates an email address an account is to have, with
// the rules for new addresses, and returns it as registration stores it
// (trimmed, the domain lower-cased); userpool.EmailKey compares it.
func NormalizeEmail(email string) (string, error) {
	display, _, err := newEmail(email)
	return display, err
}

// ValidateProfile checks every field of p as UpdateProfile does and
// normalises its username.
func ValidateProfile(p *userpool.Profile) error { return validateProfile(p) }

// NormalizePhone validates a phone number and returns it in E.164, reading
// a number without "+" in the configured default region.
func (s *Service) NormalizePhone(phone string) (string, error) {
	e164, _, err := s.normalizePhone(phone)
	return e164, err
}

// CheckPassword applies the pool's password policy (code 2029 naming the
// rule that failed); identities are the account's own identifiers, which
// the password must not contain.
func (s *Service) CheckPassword(set userpool.PoolSettings, pw string, identities ...string) error {
	return s.checkPassword(set, pw, identities...)
}

// HashPassword hashes pw for userpool.User.PasswordHash with the service's
// hasher (bounded by its concurrency limit).
func (s *Service) HashPassword(ctx context.Context, pw string) (string, error) {
	return s.hasher.Hash(ctx, pw)
}

// CheckIdentifiersFree refuses u's email, username or phone number when
// another user of the pool has it (userpool.ErrEmailTaken, ErrUsernameTaken,
// ErrPhoneTaken), as registration does.
func (s *Service) CheckIdentifiersFree(ctx context.Context, poolID string, u *userpool.User) error {
	return s.ensureFree(ctx, poolID, u)
}

// ParseCustomData checks user-defined values for a new user exactly as
// registration and SetUdv do, before anything is stored.
func (s *Service) ParseCustomData(ctx context.Context, poolID string, in map[string]json.RawMessage) ([]*userpool.UserValue, error) {
	return s.parseCustomData(ctx, poolID, in, byApplication)
}

// CreateUser fills the bookkeeping fields of u (id, pool, times) and
// stores it with its user-defined values (vals, parsed from in by
// ParseCustomData), its user.registered webhook event (showing those
// values) and its register audit event in one transaction, as
// registration does. u must have passed the checks above. Should the
// values no longer fit, nothing is stored and in is checked again to name
// the key.
func (s *Service) CreateUser(ctx context.Context, m Meta, poolID string, u *userpool.User, in map[string]json.RawMessage, vals []*userpool.UserValue) error {
	return s.createVia(ctx, poolID, m, u, "", in, vals)
}

// UserData returns u's user-defined values, decoded as answers carry them.
func (s *Service) UserData(ctx context.Context, u *userpool.User) ([]UDV, error) {
	return s.userData(ctx, u)
}

// UserEvent builds the webhook event typ about u, caused by the caller m,
// to be passed to the store write that makes the change (the outbox).
func (s *Service) UserEvent(typ string, m Meta, u *userpool.User) *userpool.Event {
	return s.userEvent(typ, m, u)
}

// ErrUnchanged is what the fn of a read-modify-write returns to abort a
// change that would change nothing, so that no event reports it.
var ErrUnchanged = errUnchanged

// UpdateUserIfChanged changes user id of the pool through fn in one
// transaction with the webhook event typ, which shows the user as written.
// When fn returns ErrUnchanged nothing is written or reported, and the
// stored user is returned with changed false.
func (s *Service) UpdateUserIfChanged(ctx context.Context, m Meta, poolID, id, typ string, fn func(*userpool.User) error) (u *userpool.User, changed bool, err error) {
	return s.updateUserIfChanged(ctx, m, poolID, id, typ, fn)
}

var errNoPipelines = userpool.Internal(errors.New("auth: the service runs no pipelines (UsePipelines was not called)"))

// TryPipeline runs p once, enabled or not, against a sample user u (nil:
// an empty one; its PoolID is set to p's) with the user-defined values
// data (JSON by key), with the very checks of a real run of p's stage,
// and records nothing.
func (s *Service) TryPipeline(ctx context.Context, p *userpool.Pipeline, u *userpool.User, data map[string]json.RawMessage, req pipeline.Request, params map[string]any) (pipeline.Trial, error) {
	if s.pipes == nil {
		return pipeline.Trial{}, errNoPipelines
	}
	if u == nil {
		u = &userpool.User{}
	}
	u.PoolID = p.PoolID
	vals := make([]*userpool.UserValue, 0, len(data))
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if !json.Valid(data[k]) {
			return pipeline.Trial{}, invalid("invalid_custom_data", "customData %q is not JSON", k)
		}
		vals = append(vals, &userpool.UserValue{Key: k, Value: string(data[k])})
	}
	in := s.stageInput(ctx, p.PoolID, p.Stage, u, vals, req, params)
	return s.pipes.Try(ctx, p, in), nil
}

// IPKey is the part of a counter key that names a client address (an
// IPv6 address counts by its /64), for limits kept outside this package.
func IPKey(ip string) string { return ipKey(ip) }
