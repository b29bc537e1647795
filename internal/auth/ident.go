package auth

import (
	"context"
	"github.com/authpool/authpool/api"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// identChange is a change of a user's phone number or email address: the
// identifier that must not belong to another user (free, nil for a
// removal), the codes that prove it, and apply, which makes the change
// inside the update's transaction. Bind, unbind and update calls, and
// UpdateProfile with codes, share these plans so that each rule is
// written once.
type identChange struct {
	// kind is identPhone or identEmail: it names the webhook and audit
	// events the change is reported by.
	kind  string
	free  *userpool.User
	codes [][3]string
	apply func(*userpool.User) error
}

// Kinds of identifier change.
const (
	identPhone = "phone"
	identEmail = "email"
)

// events returns the webhook event type and the audit event of a change
// of this kind.
func (c *identChange) events() (webhook, audit string) {
	if c.kind == identPhone {
		return api.EventUserPhoneChanged, userpool.AuditPhoneChange
	}
	return api.EventUserEmailChanged, userpool.AuditEmailChange
}

// bindPhonePlan gives u, who has no phone number, phone proven by code.
func (s *Service) bindPhonePlan(u *userpool.User, phone, code string) (*identChange, error) {
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	if u.Phone != "" {
		return nil, errPhoneAlreadyBound
	}
	return &identChange{
		kind:  identPhone,
		free:  &userpool.User{Phone: phone},
		codes: [][3]string{{purposeSMS, phone, code}},
		apply: func(x *userpool.User) error {
			if x.Phone != "" {
				return errPhoneAlreadyBound
			}
			x.Phone, x.PhoneVerified = phone, true
			return nil
		},
	}, nil
}

// updatePhonePlan moves u to phone proven by code; with the pool's
// VerifyOldPhone the current number and its code are required too.
func (s *Service) updatePhonePlan(set userpool.PoolSettings, u *userpool.User, phone, code, oldPhone, oldCode string) (*identChange, error) {
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	if u.Phone == "" {
		return nil, errPhoneNotBound
	}
	if phone == u.Phone {
		return nil, errPhoneUnchanged
	}
	codes := [][3]string{{purposeSMS, phone, code}}
	if set.VerifyOldPhone {
		if strings.TrimSpace(oldPhone) == "" || oldCode == "" {
			return nil, errOldPhoneRequired
		}
		old, _, err := s.normalizePhone(oldPhone)
		if err != nil || old != u.Phone {
			return nil, errOldPhoneMismatch
		}
		codes = append(codes, [3]string{purposeSMS, old, oldCode})
	}
	current := u.Phone
	return &identChange{
		kind:  identPhone,
		free:  &userpool.User{Phone: phone},
		codes: codes,
		apply: func(x *userpool.User) error {
			if x.Phone != current {
				return errOldPhoneMismatch // changed meanwhile
			}
			x.Phone, x.PhoneVerified = phone, true
			return nil
		},
	}, nil
}

// bindEmailPlan gives u, who has no email address, email proven by a
// CHANGE_EMAIL code.
func (s *Service) bindEmailPlan(u *userpool.User, email, code string) (*identChange, error) {
	email, key, err := newEmail(email)
	if err != nil {
		return nil, err
	}
	if u.Email != "" {
		return nil, errEmailAlreadyBound
	}
	return &identChange{
		kind:  identEmail,
		free:  &userpool.User{Email: email},
		codes: [][3]string{{emailPurpose(SceneChangeEmail), key, code}},
		apply: func(x *userpool.User) error {
			if x.Email != "" {
				return errEmailAlreadyBound
			}
			x.Email, x.EmailVerified = email, true
			return nil
		},
	}, nil
}

// updateEmailPlan moves u to email proven by a CHANGE_EMAIL code; with the
// pool's VerifyOldEmail the current address and its code are required too.
func (s *Service) updateEmailPlan(set userpool.PoolSettings, u *userpool.User, email, code, oldEmail, oldCode string) (*identChange, error) {
	email, key, err := newEmail(email)
	if err != nil {
		return nil, err
	}
	if u.Email == "" {
		return nil, errEmailNotBound
	}
	if key == userpool.EmailKey(u.Email) {
		return nil, errEmailUnchanged
	}
	purpose := emailPurpose(SceneChangeEmail)
	codes := [][3]string{{purpose, key, code}}
	if set.VerifyOldEmail {
		if strings.TrimSpace(oldEmail) == "" || oldCode == "" {
			return nil, errOldEmailRequired
		}
		old, err := normalizeEmail(oldEmail)
		if err != nil || old != userpool.EmailKey(u.Email) {
			return nil, errOldEmailMismatch
		}
		codes = append(codes, [3]string{purpose, old, oldCode})
	}
	current := u.Email
	return &identChange{
		kind:  identEmail,
		free:  &userpool.User{Email: email},
		codes: codes,
		apply: func(x *userpool.User) error {
			if x.Email != current {
				return errOldEmailMismatch // changed meanwhile
			}
			x.Email, x.EmailVerified = email, true
			return nil
		},
	}, nil
}

// setPhonePlan is the phone change of UpdateProfile with a code (Authing's
// updateUser with phoneToken): a bind when u has no phone number, else an
// update, which a pool that verifies the old number refuses (there is no
// place for the old number's code).
func (s *Service) setPhonePlan(set userpool.PoolSettings, u *userpool.User, phone, code string) (*identChange, error) {
	if u.Phone == "" {
		return s.bindPhonePlan(u, phone, code)
	}
	return s.updatePhonePlan(set, u, phone, code, "", "")
}

// setEmailPlan is setPhonePlan for the email address.
func (s *Service) setEmailPlan(set userpool.PoolSettings, u *userpool.User, email, code string) (*identChange, error) {
	if u.Email == "" {
		return s.bindEmailPlan(u, email, code)
	}
	return s.updateEmailPlan(set, u, email, code, "", "")
}

// changeIdentifier is the common end of bind, unbind and update: the new
// identifiers must not belong to another user, the codes must be right,
// and then the changes (and more, when not nil) are applied in one
// transaction.
func (s *Service) changeIdentifier(ctx context.Context, m Meta, p *Principal, u *userpool.User, more func(*userpool.User) error, changes ...*identChange) (*Result, error) {
	free := &userpool.User{}
	var codes [][3]string
	for _, c := range changes {
		if c.free != nil && c.free.Phone != "" {
			free.Phone = c.free.Phone
		}
		if c.free != nil && c.free.Email != "" {
			free.Email = c.free.Email
		}
		codes = append(codes, c.codes...)
	}
	if err := s.ensureFree(ctx, u.PoolID, free); err != nil {
		return nil, err
	}
	if len(codes) > 0 {
		pool, err := s.store.GetPool(ctx, u.PoolID)
		if err != nil {
			return nil, err
		}
		if err := s.checkCodes(ctx, pool.Settings, u.PoolID, codes...); err != nil {
			return nil, err
		}
	}
	// Each change is reported by its own webhook event (user.phone_changed,
	// user.email_changed) and audit event; a profile change by
	// user.updated. All are written in the change's transaction.
	var types []string
	var audits []userpool.Record
	if more != nil {
		types = append(types, eventUserUpdated)
	}
	for _, c := range changes {
		wh, au := c.events()
		types = append(types, wh)
		audits = append(audits, s.auditEvent(m, u.PoolID, u.ID, au, nil))
	}
	now := s.now().UTC()
	updated, err := s.updateUserEvents(ctx, m, u.PoolID, u.ID, types, func(x *userpool.User) error {
		if more != nil {
			if err := more(x); err != nil {
				return err
			}
		}
		for _, c := range changes {
			if err := c.apply(x); err != nil {
				return err
			}
		}
		x.UpdatedAt = now
		return nil
	}, audits...)
	if err != nil {
		return nil, err
	}
	return &Result{User: updated, Token: p.Token, TokenExpires: p.Claims.ExpiresAt}, nil
}
