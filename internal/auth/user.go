package auth

import (
	"context"
	"log/slog"

	"github.com/authpool/authpool/internal/userpool"
)

// ProfileUpdate is a partial profile: nil leaves a field as is. Email,
// Phone and Password are refused (they have their own calls).
type ProfileUpdate struct {
	// UserID, when set, names the user the caller means to change; it must
	// be the caller (an end user changes only their own profile).
	UserID   string
	Fields   map[string]*string // profile field name (as in profileFields) -> new value
	Email    *string
	Phone    *string
	Password *string
	// EmailCode (a CHANGE_EMAIL code sent to Email) and PhoneCode (an SMS
	// code sent to Phone) let Email and Phone change here, in the same
	// transaction as the profile, under the rules of BindEmail and
	// UpdateEmail, BindPhone and UpdatePhone; a pool that verifies the old
	// address refuses (2227), as there is no place for the old one's code.
	EmailCode string
	PhoneCode string
}

// GetCurrentUser returns the caller's user with the presented token.
func (s *Service) GetCurrentUser(ctx context.Context, m Meta, tok string) (*Result, error) {
	p, u, vals, err := s.authenticate(ctx, m, tok, true)
	if err != nil {
		return nil, err
	}
	data, err := decodeValues(u, vals)
	if err != nil {
		return nil, err
	}
	return &Result{User: u, Token: tok, TokenExpires: p.Claims.ExpiresAt, CustomData: data}, nil
}

// UpdateProfile changes profile fields of the caller, and the email
// address or phone number when their codes come along.
func (s *Service) UpdateProfile(ctx context.Context, m Meta, tok string, up ProfileUpdate) (*Result, error) {
	switch {
	case up.Email != nil && up.EmailCode == "":
		return nil, userpool.Errorf(userpool.CodeCannotUpdateEmail, "cannot_update_email", "the email cannot be changed here: use UpdateEmail")
	case up.Email == nil && up.EmailCode != "":
		return nil, invalid("missing_field", "an email code needs the new email address it was sent to")
	case up.Phone != nil && up.PhoneCode == "":
		return nil, userpool.Errorf(userpool.CodeCannotUpdatePhone, "cannot_update_phone", "the phone number cannot be changed here: use UpdatePhone")
	case up.Phone == nil && up.PhoneCode != "":
		return nil, invalid("missing_field", "a phone code needs the new phone number it was sent to")
	}
	if up.Password != nil {
		return nil, invalid("cannot_update_password", "the password cannot be changed here: use UpdatePassword")
	}
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if up.UserID != "" && up.UserID != u.ID {
		return nil, errNoPermission
	}
	// Validate against a copy first so a bad update touches nothing.
	next := u.Profile
	known := map[string]*string{}
	for _, f := range profileFields(&next) {
		known[f.name] = f.ptr
	}
	for name, v := range up.Fields {
		ptr, ok := known[name]
		if !ok {
			return nil, invalid("invalid_profile", "unknown profile field %q", name)
		}
		if v != nil {
			*ptr = *v
		}
	}
	if err := validateProfileFrom(&next, u.Username); err != nil {
		return nil, err
	}
	// A new spelling of one's own name ("alice" to "Alice") has the
	// same key, which is one's own.
	if next.Username != "" && userpool.UsernameKey(next.Username) != userpool.UsernameKey(u.Username) {
		if err := s.ensureFree(ctx, u.PoolID, &userpool.User{Profile: userpool.Profile{Username: next.Username}}); err != nil {
			return nil, err
		}
	}
	if next.Username == "" && u.Username != "" && u.Email == "" && u.Phone == "" {
		return nil, invalid("invalid_username", "username is this account's only login identifier and cannot be removed")
	}
	var changes []*identChange
	if up.Email != nil || up.Phone != nil {
		pool, err := s.store.GetPool(ctx, u.PoolID)
		if err != nil {
			return nil, err
		}
		if up.Phone != nil {
			plan, err := s.setPhonePlan(pool.Settings, u, *up.Phone, up.PhoneCode)
			if err != nil {
				return nil, err
			}
			changes = append(changes, plan)
		}
		if up.Email != nil {
			plan, err := s.setEmailPlan(pool.Settings, u, *up.Email, up.EmailCode)
			if err != nil {
				return nil, err
			}
			changes = append(changes, plan)
		}
	}
	return s.changeIdentifier(ctx, m, p, u, func(x *userpool.User) error {
		x.Profile = next
		return nil
	}, changes...)
}

// UpdatePassword changes the caller's password. The old password is
// required when the account has one. Every session ends, the caller's
// included, and the answer carries a fresh token.
func (s *Service) UpdatePassword(ctx context.Context, m Meta, tok, newPw, oldPw string) (*Result, error) {
	return s.updatePassword(ctx, m, tok, newPw, oldPw, false)
}

// UpdatePasswordKeepSession changes the caller's password like
// UpdatePassword but keeps the caller's own session (every other one ends)
// and answers with the presented token. It serves clients that do not
// store the token of the answer, as Authing's SDKs do not after
// updatePassword: ending their session would silently log them out. The
// caller has just proven the old password, so its session is not the one
// a thief would hold.
func (s *Service) UpdatePasswordKeepSession(ctx context.Context, m Meta, tok, newPw, oldPw string) (*Result, error) {
	return s.updatePassword(ctx, m, tok, newPw, oldPw, true)
}

func (s *Service) updatePassword(ctx context.Context, m Meta, tok, newPw, oldPw string, keep bool) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(pool.Settings, newPw, identitiesOf(u)...); err != nil {
		return nil, err
	}
	if u.HasPassword() {
		if oldPw == "" || len(oldPw) > maxPasswordLen {
			return nil, errWrongOldPassword
		}
		ok, _, err := s.hasher.Verify(ctx, oldPw, u.PasswordHash)
		if err != nil {
			return nil, userpool.Internal(err)
		}
		if !ok {
			return nil, errWrongOldPassword
		}
	}
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	updated, err := s.updateUser(ctx, m, u.PoolID, u.ID, eventUserPasswordChanged, func(x *userpool.User) error {
		if x.PasswordHash != u.PasswordHash {
			// Changed concurrently since we checked the old password.
			return errWrongOldPassword
		}
		x.PasswordHash = hash
		x.UpdatedAt = s.now().UTC()
		return nil
	}, s.auditEvent(m, u.PoolID, u.ID, userpool.AuditPasswordChange, nil))
	if err != nil {
		return nil, err
	}
	// The owner proved the old password (or holds a session of an account
	// without one): as after a reset, lift any lockout.
	if err := s.clearLoginFailures(ctx, u); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "clearing login failures failed", slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
	if keep {
		if _, err := s.store.RevokeOtherSessions(ctx, u.PoolID, u.ID, p.Session.ID, s.now().UTC()); err != nil {
			return nil, err
		}
		s.log.LogAttrs(ctx, slogInfo, "password changed; other sessions revoked", attrUser(u)...)
		return &Result{User: updated, Token: tok, TokenExpires: p.Claims.ExpiresAt}, nil
	}
	// End every session, the caller's included, so a thief holding an old
	// token is logged out; the caller gets a fresh token in the answer
	// (the SDK stores it).
	if _, err := s.store.RevokeUserSessions(ctx, u.PoolID, u.ID, s.now().UTC()); err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slogInfo, "password changed; sessions revoked", attrUser(u)...)
	return s.issue(ctx, m, pool.Settings, updated)
}

var errNoPermission = userpool.Errorf(userpool.CodeNoPermission, "no_permission", "an end user may change only their own account")

var errWrongOldPassword = userpool.Errorf(userpool.CodeWrongOldPassword, "wrong_old_password", "old password is wrong")
