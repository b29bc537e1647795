package auth

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// EmailScene says what an email code is for; a code works only in its
// scene.
type EmailScene string

// The scenes, named as on the wire.
const (
	SceneResetPassword EmailScene = "RESET_PASSWORD"
	SceneVerifyEmail   EmailScene = "VERIFY_EMAIL"
	SceneChangeEmail   EmailScene = "CHANGE_EMAIL"
	// SceneMFAVerify codes pass the email second factor (docs/MFA.md).
	SceneMFAVerify EmailScene = "MFA_VERIFY"
)

// ParseEmailScene accepts the scene names and the aliases of Authing's
// documentation (VerifyEmail, ChangeEmail, ResetPassword).
func ParseEmailScene(s string) (EmailScene, error) {
	switch s {
	case "RESET_PASSWORD", "ResetPassword":
		return SceneResetPassword, nil
	case "VERIFY_EMAIL", "VerifyEmail":
		return SceneVerifyEmail, nil
	case "CHANGE_EMAIL", "ChangeEmail":
		return SceneChangeEmail, nil
	case "MFA_VERIFY", "MfaVerify", "MFA_VERIFY_CODE":
		return SceneMFAVerify, nil
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return "", invalid("invalid_scene", "unknown email scene %q: use RESET_PASSWORD, VERIFY_EMAIL, CHANGE_EMAIL or MFA_VERIFY", s)
}

var (
	errEmailAlreadyBound = userpool.Errorf(userpool.CodeEmailAlreadyBound, "email_already_bound", "this account already has an email address: use UpdateEmail to change it")
	errEmailNotBound     = userpool.Errorf(userpool.CodeNotBound, "email_not_bound", "this account has no email address: use BindEmail to add one")
	errEmailUnchanged    = userpool.Errorf(userpool.CodeEmailUnchanged, "email_unchanged", "the new email address is the current one")
	errOldEmailRequired  = userpool.Errorf(userpool.CodeOldAddressRequired, "old_email_required", "this user pool requires the current email address and a code sent to it")
	errOldEmailMismatch  = userpool.Errorf(userpool.CodeOldEmailMismatch, "old_email_mismatch", "the old email address is not this account's email address")
	errEmailLastLogin    = userpool.Errorf(userpool.CodeLastLoginMethod, "last_login_method", "the email address is this account's only way to log in: add a phone number, or a username and password, first")
)

// SendEmail sends a code for scene to email, within the pool's sending
// limits (per address per interval and per day, per client IP per hour).
// RESET_PASSWORD and VERIFY_EMAIL need an account with that address: an
// unknown one is 2004, or, when the pool answers login failures uniformly,
// a success that sends nothing, so the answer does not tell which
// addresses have accounts. CHANGE_EMAIL goes to any address (the new
// address of UpdateEmail and BindEmail, or the current one).
//
// The code is queued (queueCode) and sent by the courier's workers: the
// answer means "queued", never waits for a mail server, and, with the
// uniform option, is reached by the same work for every address (the
// account is not looked up here; the worker drops a mail that has no
// account to go to). A mail that cannot be sent is reported in the audit
// log and by the message.delivery_failed webhook event.
func (s *Service) SendEmail(ctx context.Context, m Meta, email, sceneName string) error {
	scene, err := ParseEmailScene(sceneName)
	if err != nil {
		return err
	}
	given, _, err := checkEmail(email)
	if err != nil {
		return err
	}
	// Lookups, limits and the code go by the key; the mail goes to the
	// account's own address as stored, or, with no account, as given.
	email = userpool.EmailKey(given)
	pool, err := s.pool(ctx, m)
	if err != nil {
		return err
	}
	set := pool.Settings
	needsAccount := scene != SceneChangeEmail
	if needsAccount && !set.UniformLoginError {
		// The answer tells (2004), so looking costs no secrecy here.
		if _, err := s.store.GetUserByEmail(ctx, pool.ID, given); err != nil {
			return err
		}
	}
	key := func(parts ...string) string { return "email:" + pool.ID + ":" + strings.Join(parts, ":") }
	release, err := s.reserve(ctx, []limit{
		{"email_address_interval", key("addr-interval", email), 1, set.EmailAddressInterval, "to this address just now"},
		{"email_address_daily", key("addr-day", email), set.EmailAddressPerDay, 24 * time.Hour, "to this address today"},
		{"email_ip_hourly", key("ip", m.ClientIP), set.EmailIPPerHour, time.Hour, "from this address in the last hour"},
	})
	if err != nil {
		return err
	}
	// Uniform answers: for an address without an account the counts stay
	// too, so limits look the same.
	if err := s.queueCode(ctx, m, pool.ID, set.EmailCodeTTL, message{
		Channel: "email", Purpose: emailPurpose(scene), Scene: string(scene), To: email, Address: given, Code: newCode(), NeedsAccount: needsAccount,
	}); err != nil {
		release()
		return err
	}
	return nil
}

// ResetPasswordByEmailCode sets a new password for the user of email,
// proven by a RESET_PASSWORD code, and ends every session of that user.
func (s *Service) ResetPasswordByEmailCode(ctx context.Context, m Meta, email, code, newPw string) error {
	spelled, email, err := spellingAndKey(email)
	if err != nil {
		return err
	}
	// The code goes by the key, the lookup by the spelling.
	lookup := func(ctx context.Context, poolID, _ string) (*userpool.User, error) {
		return s.store.GetUserByEmail(ctx, poolID, spelled)
	}
	return s.resetPassword(ctx, m, newPw, emailPurpose(SceneResetPassword), email, code, lookup, func(u *userpool.User) {
		if userpool.EmailKey(u.Email) == email {
			u.EmailVerified = true
		}
	})
}

// resetPassword is the end of both resets. The code is checked without
// being spent first, so that a new password the policy refuses (too weak,
// or containing the account's own identifiers) does not cost the user
// their code; then it is spent. The code proves the address (mark sets it
// verified), every session ends, and a lockout is lifted.
func (s *Service) resetPassword(ctx context.Context, m Meta, newPw, purpose, target, code string, lookup lookupFunc, mark func(*userpool.User)) error {
	pool, err := s.pool(ctx, m)
	if err != nil {
		return err
	}
	if newPw == "" {
		return invalid("missing_field", "field %q is required", "newPassword")
	}
	if err := s.checkPassword(pool.Settings, newPw); err != nil {
		return err
	}
	if err := s.checkCode(ctx, pool.Settings, pool.ID, purpose, target, code, false); err != nil {
		return err
	}
	u, err := lookup(ctx, pool.ID, target)
	if err != nil {
		return err
	}
	if err := s.checkPassword(pool.Settings, newPw, identitiesOf(u)...); err != nil {
		return err
	}
	if err := s.checkCode(ctx, pool.Settings, pool.ID, purpose, target, code, true); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return userpool.Internal(err)
	}
	now := s.now().UTC()
	if _, err := s.updateUser(ctx, m, u.PoolID, u.ID, eventUserPasswordReset, func(x *userpool.User) error {
		x.PasswordHash = hash
		mark(x)
		x.UpdatedAt = now
		return nil
	}, s.auditEvent(m, u.PoolID, u.ID, userpool.AuditPasswordReset, map[string]string{"by": purpose})); err != nil {
		return err
	}
	if _, err := s.store.RevokeUserSessions(ctx, u.PoolID, u.ID, now); err != nil {
		return err
	}
	if err := s.clearLoginFailures(ctx, u); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "clearing login failures failed", slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, slogInfo, "password reset by code; sessions revoked", attrUser(u)...)
	return nil
}

// VerifyEmail marks the address of a user verified, proven by a
// VERIFY_EMAIL code (typed in, or from the mail's link).
func (s *Service) VerifyEmail(ctx context.Context, m Meta, email, code string) error {
	spelled, email, err := spellingAndKey(email)
	if err != nil {
		return err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return err
	}
	if err := s.checkCode(ctx, pool.Settings, pool.ID, emailPurpose(SceneVerifyEmail), email, code, true); err != nil {
		return err
	}
	u, err := s.store.GetUserByEmail(ctx, pool.ID, spelled)
	if err != nil {
		return err
	}
	_, _, err = s.updateUserIfChanged(ctx, m, u.PoolID, u.ID, eventUserEmailVerified, func(x *userpool.User) error {
		if userpool.EmailKey(x.Email) != email {
			return userpool.ErrUserNotFound // the address moved meanwhile
		}
		if x.EmailVerified {
			return errUnchanged // nothing to report: no user.email_verified
		}
		x.EmailVerified = true
		x.UpdatedAt = s.now().UTC()
		return nil
	})
	return err
}

// BindEmail gives the caller, who has no email address yet (registered by
// phone, say), an address proven by a CHANGE_EMAIL code.
func (s *Service) BindEmail(ctx context.Context, m Meta, tok, email, code string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	plan, err := s.bindEmailPlan(u, email, code)
	if err != nil {
		return nil, err
	}
	return s.changeIdentifier(ctx, m, p, u, nil, plan)
}

// UnbindEmail removes the caller's email address, unless it is the only
// way left to log in to the account.
func (s *Service) UnbindEmail(ctx context.Context, m Meta, tok string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if u.Email == "" {
		return nil, errEmailNotBound
	}
	return s.changeIdentifier(ctx, m, p, u, nil, &identChange{kind: identEmail, apply: func(x *userpool.User) error {
		if x.Email == "" {
			return errEmailNotBound
		}
		if x.Phone == "" && !(x.Username != "" && x.HasPassword()) {
			return errEmailLastLogin
		}
		x.Email, x.EmailVerified = "", false
		return nil
	}})
}

// UpdateEmail moves the caller to a new address proven by a CHANGE_EMAIL
// code. With the pool's VerifyOldEmail (on by default) the current address
// and a CHANGE_EMAIL code sent to it are required too.
func (s *Service) UpdateEmail(ctx context.Context, m Meta, tok, email, code, oldEmail, oldCode string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return nil, err
	}
	plan, err := s.updateEmailPlan(pool.Settings, u, email, code, oldEmail, oldCode)
	if err != nil {
		return nil, err
	}
	return s.changeIdentifier(ctx, m, p, u, nil, plan)
}
