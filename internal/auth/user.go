package auth

import (
	"context"

	"github.com/authpool/authpool/internal/userpool"
)

// ProfileUpdate is a partial profile: nil leaves a field as is. Email,
// Phone and Password are refused (they have their own calls).
type ProfileUpdate struct {
	Fields   map[string]*string // profile field name (as in profileFields) -> new value
	Email    *string
	Phone    *string
	Password *string
}

// GetCurrentUser returns the caller's user with the presented token.
func (s *Service) GetCurrentUser(ctx context.Context, m Meta, tok string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	return &Result{User: u, Token: tok, TokenExpires: p.Claims.ExpiresAt}, nil
}

// UpdateProfile changes profile fields of the caller.
func (s *Service) UpdateProfile(ctx context.Context, m Meta, tok string, up ProfileUpdate) (*Result, error) {
	if up.Email != nil {
		return nil, userpool.Errorf(userpool.CodeCannotUpdateEmail, "cannot_update_email", "the email cannot be changed here: use UpdateEmail")
	}
	if up.Phone != nil {
		return nil, userpool.Errorf(userpool.CodeCannotUpdatePhone, "cannot_update_phone", "the phone number cannot be changed here: use UpdatePhone")
	}
	if up.Password != nil {
		return nil, invalid("cannot_update_password", "the password cannot be changed here: use UpdatePassword")
	}
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
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
	if err := validateProfile(&next); err != nil {
		return nil, err
	}
	if next.Username != u.Username && next.Username != "" {
		if err := s.ensureFree(ctx, u.PoolID, &userpool.User{Profile: userpool.Profile{Username: next.Username}}); err != nil {
			return nil, err
		}
	}
	if next.Username == "" && u.Username != "" && u.Email == "" && u.Phone == "" {
		return nil, invalid("invalid_username", "username is this account's only login identifier and cannot be removed")
	}
	updated, err := s.updateUser(ctx, m, u.PoolID, u.ID, eventUserUpdated, func(x *userpool.User) error {
		x.Profile = next
		x.UpdatedAt = s.now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{User: updated, Token: tok, TokenExpires: p.Claims.ExpiresAt}, nil
}

// UpdatePassword changes the caller's password. The old password is
// required when the account has one.
func (s *Service) UpdatePassword(ctx context.Context, m Meta, tok, newPw, oldPw string) (*Result, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(pool.Settings, newPw); err != nil {
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
	})
	if err != nil {
		return nil, err
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

var errWrongOldPassword = userpool.Errorf(userpool.CodeWrongOldPassword, "wrong_old_password", "old password is wrong")
