package auth

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/authpool/authpool/internal/userpool"
)

// RegisterOptions shapes what a registration returns; see api.RegisterOptions.
type RegisterOptions struct {
	ForceLogin    bool
	GenerateToken bool
	// CustomData are user-defined values for the new user, checked like
	// SetUdv before anything is stored.
	CustomData map[string]json.RawMessage
	// Context reaches the pipelines as context.params.
	Context map[string]any
	// Phone, with PhoneCode (an SMS code sent to it), gives a user who
	// registers by email or username a verified phone number at once;
	// Email, with EmailCode (a CHANGE_EMAIL code sent to it), a verified
	// address to one who registers by username or phone. (Authing's
	// profile.phone with phoneToken, profile.email with emailToken.)
	Phone, PhoneCode string
	Email, EmailCode string
}

// RegisterByEmail creates a user with an email and password. The email is
// not verified by registering.
func (s *Service) RegisterByEmail(ctx context.Context, m Meta, email, pw string, profile userpool.Profile, opts RegisterOptions) (*Result, error) {
	email, _, err := newEmail(email)
	if err != nil {
		return nil, err
	}
	return s.register(ctx, m, methodEmail, &userpool.User{Email: email, Profile: profile}, pw, opts)
}

// RegisterByUsername creates a user with a username and password.
func (s *Service) RegisterByUsername(ctx context.Context, m Meta, username, pw string, profile userpool.Profile, opts RegisterOptions) (*Result, error) {
	username, err := validateUsername(username)
	if err != nil {
		return nil, err
	}
	profile.Username = username
	return s.register(ctx, m, methodUsername, &userpool.User{Profile: profile}, pw, opts)
}

// Registration methods, each of which a pool may close.
const (
	methodEmail    = "email"
	methodUsername = "username"
	methodPhone    = "phone"
)

func methodOpen(set userpool.PoolSettings, method string) bool {
	switch method {
	case methodEmail:
		return set.RegisterByEmail
	case methodUsername:
		return set.RegisterByUsername
	case methodPhone:
		return set.RegisterByPhone
	}
	return false
}

func errRegistrationClosed(method string) error {
	return userpool.Errorf(userpool.CodeRegistrationClosed, "registration_closed", "registration by %s is closed in this user pool", method)
}

// register validates, hashes and stores u, then applies opts. The per-IP
// rate limit comes first, the password policy before the hash. codes (and
// those of opts' proven identifiers) are checked together, after
// everything else that can fail and before anything is stored, so that a
// refused registration spends none.
func (s *Service) register(ctx context.Context, m Meta, method string, u *userpool.User, pw string, opts RegisterOptions, codes ...[3]string) (*Result, error) {
	if err := s.rateLimit(ctx, m, classRegister); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	poolID := pool.ID
	if !methodOpen(pool.Settings, method) {
		return nil, errRegistrationClosed(method)
	}
	if err := validateProfile(&u.Profile); err != nil {
		return nil, err
	}
	if u.Email != "" { // registration by email, or a login that registers
		if u.Email, _, err = newEmail(u.Email); err != nil {
			return nil, err
		}
	}
	proven, err := s.provenIdentifiers(u, opts)
	if err != nil {
		return nil, err
	}
	codes = append(codes, proven...)
	// Only a phone registration may go without a password: its code proved
	// the phone, which logs in by code. Every other identifier needs the
	// password to log in again.
	withPassword := pw != "" || method != methodPhone
	if withPassword {
		if err := s.checkPassword(pool.Settings, pw, identitiesOf(u)...); err != nil {
			return nil, err
		}
	}
	custom, err := s.parseCustomData(ctx, poolID, opts.CustomData, byUser)
	if err != nil {
		return nil, err
	}
	// A login that registers keeps its own method (phone-code, say).
	if m.flow.method == "" {
		m.flow.method = method
	}
	m.flow.identifier = identifier(u, method)
	if opts.Context != nil {
		m.flow.params = opts.Context
	}
	if custom, err = s.preRegister(ctx, m, poolID, u, custom); err != nil {
		return nil, err
	}
	// Fail fast on a taken identifier before paying for a hash; the unique
	// index still decides races.
	if err := s.ensureFree(ctx, poolID, u); err != nil {
		return nil, err
	}
	if err := s.checkCodes(ctx, pool.Settings, poolID, codes...); err != nil {
		return nil, err
	}
	if withPassword {
		hash, err := s.hasher.Hash(ctx, pw)
		if err != nil {
			return nil, userpool.Internal(err)
		}
		u.PasswordHash = hash
	}
	if err := s.createVia(ctx, poolID, m, u, method, opts.CustomData, custom); err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slogInfo, "user registered", attrUser(u)...)
	if u, err = s.postRegister(ctx, m, u); err != nil {
		return nil, err
	}
	switch {
	case opts.ForceLogin:
		// The complete login process, from its pre-authentication pipelines
		// on; the registration itself proved the credentials.
		if err := s.preAuthentication(ctx, &m, poolID); err != nil {
			return nil, err
		}
		return s.completeLoginVia(ctx, m, pool.Settings, u, false, method, "")
	case opts.GenerateToken:
		// A token straight from registration is a sign-in too: a pool that
		// requires MFA asks for enrolment first (docs/MFA.md).
		if err := s.mfaGate(ctx, m, pool.Settings, u, method, "", nil); err != nil {
			return nil, err
		}
		res, err := s.issue(ctx, m, pool.Settings, u)
		return s.withCustomData(ctx, res, err)
	}
	return s.withCustomData(ctx, &Result{User: u}, nil)
}

// provenIdentifiers adds opts' phone number and email address to u, marked
// verified, and returns the codes that must prove them.
func (s *Service) provenIdentifiers(u *userpool.User, opts RegisterOptions) ([][3]string, error) {
	var codes [][3]string
	switch {
	case opts.Phone == "" && opts.PhoneCode != "":
		return nil, invalid("missing_field", "a phone code (phoneToken) needs the phone number it was sent to")
	case opts.Phone != "" && opts.PhoneCode == "":
		return nil, invalid("missing_field", "a phone number given at registration needs the code sent to it (phoneToken)")
	case opts.Phone != "" && u.Phone != "":
		return nil, invalid("invalid_argument", "the phone number is given twice")
	case opts.Phone != "":
		phone, _, err := s.normalizePhone(opts.Phone)
		if err != nil {
			return nil, err
		}
		u.Phone, u.PhoneVerified = phone, true
		codes = append(codes, [3]string{purposeSMS, phone, opts.PhoneCode})
	}
	switch {
	case opts.Email == "" && opts.EmailCode != "":
		return nil, invalid("missing_field", "an email code (emailToken) needs the address it was sent to")
	case opts.Email != "" && opts.EmailCode == "":
		return nil, invalid("missing_field", "an email address given at registration needs the CHANGE_EMAIL code sent to it (emailToken)")
	case opts.Email != "" && u.Email != "":
		return nil, invalid("invalid_argument", "the email address is given twice")
	case opts.Email != "":
		email, key, err := newEmail(opts.Email)
		if err != nil {
			return nil, err
		}
		u.Email, u.EmailVerified = email, true
		codes = append(codes, [3]string{emailPurpose(SceneChangeEmail), key, opts.EmailCode})
	}
	return codes, nil
}

func (s *Service) ensureFree(ctx context.Context, poolID string, u *userpool.User) error {
	check := func(get func(context.Context, string, string) (*userpool.User, error), v string, taken error) error {
		if v == "" {
			return nil
		}
		_, err := get(ctx, poolID, v)
		switch {
		case err == nil:
			return taken
		case isNotFound(err):
			return nil
		default:
			return err
		}
	}
	if err := check(s.store.GetUserByEmail, u.Email, userpool.ErrEmailTaken); err != nil {
		return err
	}
	if err := check(s.store.GetUserByUsername, u.Username, userpool.ErrUsernameTaken); err != nil {
		return err
	}
	return check(s.store.GetUserByPhone, u.Phone, userpool.ErrPhoneTaken)
}

// createVia fills the bookkeeping fields of u and stores it with its
// user-defined values vals (checked from in by parseCustomData, and those
// a pre-register pipeline set), its user.registered webhook event (the
// user with those values) and its user.register audit event (naming the
// registration method, when not ""), all in one transaction. Should the
// values no longer fit (an administrator changed a definition in between),
// nothing is stored and in is checked again to name the key.
func (s *Service) createVia(ctx context.Context, poolID string, m Meta, u *userpool.User, method string, in map[string]json.RawMessage, vals []*userpool.UserValue, extra ...userpool.Record) error {
	var detail map[string]string
	if method != "" {
		detail = map[string]string{"method": method}
	}
	now := s.now().UTC()
	u.ID = newID()
	u.PoolID = poolID
	u.SignedUp, u.CreatedAt, u.UpdatedAt = now, now, now
	recs := []userpool.Record{
		s.registeredEvent(m, u, vals),
		s.auditEvent(m, poolID, u.ID, userpool.AuditRegister, detail),
	}
	if len(vals) > 0 {
		recs = append(recs, &userpool.ValueChange{PoolID: poolID, UserID: u.ID, Set: vals})
	}
	for _, r := range extra {
		if l, ok := r.(*userpool.IdentityLink); ok {
			l.PoolID, l.UserID = poolID, u.ID // the id is only known now
		}
	}
	err := s.store.CreateUser(ctx, u, append(recs, extra...)...)
	if err != nil && len(vals) > 0 && !isTaken(err) {
		if _, perr := s.parseCustomData(ctx, poolID, in, byApplication); perr != nil {
			return perr
		}
	}
	return err
}

// identifier is the value u registers with by method.
func identifier(u *userpool.User, method string) string {
	switch method {
	case methodEmail:
		return u.Email
	case methodUsername:
		return u.Username
	case methodPhone:
		return u.Phone
	}
	return ""
}

// isTaken reports a registration that lost its identifier to another.
func isTaken(err error) bool {
	return errors.Is(err, userpool.ErrEmailTaken) || errors.Is(err, userpool.ErrUsernameTaken) || errors.Is(err, userpool.ErrPhoneTaken)
}
