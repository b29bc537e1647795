package admin

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/userpool"
)

// NewUser is a user an administrator creates.
type NewUser struct {
	Email, Username, Phone string
	// Password may be empty: the user then cannot log in by password.
	Password string
	// PasswordHash, instead of Password, is a hash made by another system
	// in a format password.Parse accepts; it is stored as given and
	// replaced at the first successful login.
	PasswordHash                 string
	Profile                      userpool.Profile
	EmailVerified, PhoneVerified bool
	CustomData                   map[string]json.RawMessage
}

// UserUpdate changes an administrator may make directly; nil leaves a
// flag as it is.
type UserUpdate struct {
	EmailVerified *bool
	PhoneVerified *bool
}

// ListUsers returns a page of the pool's users, newest first, matching
// search (a substring of email, username or phone), and the match count.
func (a *Service) ListUsers(ctx context.Context, m auth.Meta, search string, offset, limit int) ([]*userpool.User, int, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, 0, err
	}
	if len(search) > 256 {
		return nil, 0, invalid("invalid_search", "search must be at most 256 bytes")
	}
	if offset < 0 || limit < 0 || limit > 100 {
		return nil, 0, invalid("invalid_paging", "offset must not be negative and limit must be between 0 (the default, 20) and 100")
	}
	return a.store.ListUsers(ctx, userpool.UserQuery{PoolID: id, Search: strings.TrimSpace(search), Offset: offset, Limit: limit})
}

// GetUser returns a user of the pool with its user-defined data.
func (a *Service) GetUser(ctx context.Context, m auth.Meta, userID string) (*auth.Result, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetUser(ctx, id, userID)
	return a.withCustomData(ctx, &auth.Result{User: u}, err)
}

// CreateUser creates a user in the pool whatever registration methods the
// pool leaves open; the pool's password policy still applies.
func (a *Service) CreateUser(ctx context.Context, m auth.Meta, nu NewUser) (*auth.Result, error) {
	pool, err := a.auth.CurrentPool(ctx, m)
	if err != nil {
		return nil, err
	}
	u := &userpool.User{Profile: nu.Profile, EmailVerified: nu.EmailVerified, PhoneVerified: nu.PhoneVerified}
	if nu.Email != "" {
		if u.Email, err = auth.NormalizeEmail(nu.Email); err != nil {
			return nil, err
		}
	}
	if nu.Username != "" {
		u.Username = nu.Username
	}
	if nu.Phone != "" {
		if u.Phone, err = a.auth.NormalizePhone(nu.Phone); err != nil {
			return nil, err
		}
	}
	if err := auth.ValidateProfile(&u.Profile); err != nil {
		return nil, err
	}
	if u.Email == "" && u.Username == "" && u.Phone == "" {
		return nil, invalid("missing_field", "a user needs an email, a username or a phone number")
	}
	if nu.Password != "" && nu.PasswordHash != "" {
		return nil, invalid("invalid_password_hash", "give password or passwordHash, not both")
	}
	if nu.Password != "" {
		if err := a.auth.CheckPassword(pool.Settings, nu.Password); err != nil {
			return nil, err
		}
	}
	if nu.PasswordHash != "" {
		// The pool's password policy cannot be checked on a hash: the
		// password was accepted by the system it comes from.
		if err := password.Check(nu.PasswordHash); err != nil {
			return nil, invalid("invalid_password_hash", "passwordHash is refused: %s", strings.TrimPrefix(err.Error(), "password: malformed hash: "))
		}
		u.PasswordHash = nu.PasswordHash
	}
	custom, err := a.auth.ParseCustomData(ctx, pool.ID, nu.CustomData)
	if err != nil {
		return nil, err
	}
	if err := a.auth.CheckIdentifiersFree(ctx, pool.ID, u); err != nil {
		return nil, err
	}
	if nu.Password != "" {
		if u.PasswordHash, err = a.auth.HashPassword(ctx, nu.Password); err != nil {
			return nil, userpool.Internal(err)
		}
	}
	if err := a.auth.CreateUser(ctx, m, pool.ID, u, nu.CustomData, custom); err != nil {
		return nil, err
	}
	a.audit(ctx, m, pool.ID, u.ID, "admin.user.create", nil)
	return a.withCustomData(ctx, &auth.Result{User: u}, nil)
}

// UpdateUser sets the verified flags.
func (a *Service) UpdateUser(ctx context.Context, m auth.Meta, userID string, up UserUpdate) (*auth.Result, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	// Marking an unverified email verified is reported as
	// user.email_verified, any other change of the flags as user.updated,
	// no change not at all.
	ev := new(userpool.Event)
	u, err := a.store.UpdateUser(ctx, id, userID, func(u *userpool.User) error {
		before := *u
		if up.EmailVerified != nil {
			u.EmailVerified = *up.EmailVerified
		}
		if up.PhoneVerified != nil {
			u.PhoneVerified = *up.PhoneVerified
		}
		if u.EmailVerified == before.EmailVerified && u.PhoneVerified == before.PhoneVerified {
			return auth.ErrUnchanged
		}
		typ := api.EventUserUpdated
		if u.EmailVerified && !before.EmailVerified {
			typ = api.EventUserEmailVerified
		}
		u.UpdatedAt = a.now().UTC()
		*ev = *a.auth.UserEvent(typ, m, u)
		return nil
	}, ev)
	if errors.Is(err, auth.ErrUnchanged) {
		u, err = a.store.GetUser(ctx, id, userID)
	}
	if err != nil {
		return nil, err
	}
	detail := map[string]string{}
	if up.EmailVerified != nil {
		detail["emailVerified"] = strconv.FormatBool(*up.EmailVerified)
	}
	if up.PhoneVerified != nil {
		detail["phoneVerified"] = strconv.FormatBool(*up.PhoneVerified)
	}
	a.audit(ctx, m, id, u.ID, "admin.user.update", detail)
	return a.withCustomData(ctx, &auth.Result{User: u}, nil)
}

// BlockUser blocks the user and ends every session at once: the flag
// stops new logins (2057) and Authenticate refuses a blocked user's
// tokens, and revoking the sessions makes CheckLoginStatus say so too.
func (a *Service) BlockUser(ctx context.Context, m auth.Meta, userID string) (*auth.Result, int, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, 0, err
	}
	now := a.now().UTC()
	// Blocking a blocked user reports nothing, but ends the sessions again.
	u, _, err := a.auth.UpdateUserIfChanged(ctx, m, id, userID, api.EventUserBlocked, func(u *userpool.User) error {
		if u.Blocked {
			return auth.ErrUnchanged
		}
		u.Blocked = true
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	n, err := a.store.RevokeUserSessions(ctx, id, u.ID, now)
	if err != nil {
		return nil, 0, err
	}
	a.audit(ctx, m, id, u.ID, "admin.user.block", map[string]string{"sessionsRevoked": strconv.Itoa(n)})
	res, err := a.withCustomData(ctx, &auth.Result{User: u}, nil)
	return res, n, err
}

// UnblockUser lets the user log in again; ended sessions stay ended. The
// change is reported as user.updated (there is no user.unblocked);
// unblocking a user who is not blocked reports nothing.
func (a *Service) UnblockUser(ctx context.Context, m auth.Meta, userID string) (*auth.Result, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	u, _, err := a.auth.UpdateUserIfChanged(ctx, m, id, userID, api.EventUserUpdated, func(u *userpool.User) error {
		if !u.Blocked {
			return auth.ErrUnchanged
		}
		u.Blocked = false
		u.UpdatedAt = a.now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, u.ID, "admin.user.unblock", nil)
	return a.withCustomData(ctx, &auth.Result{User: u}, nil)
}

// DeleteUser deletes the user with its sessions and user-defined data,
// reported as user.deleted (showing the user as it was) in the same
// transaction.
func (a *Service) DeleteUser(ctx context.Context, m auth.Meta, userID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	u, err := a.store.GetUser(ctx, id, userID)
	if err != nil {
		return err
	}
	if err := a.store.DeleteUser(ctx, id, userID, a.auth.UserEvent(api.EventUserDeleted, m, u)); err != nil {
		return err
	}
	a.audit(ctx, m, id, userID, "admin.user.delete", nil)
	return nil
}

// ListSessions returns the user's alive sessions, newest first.
func (a *Service) ListSessions(ctx context.Context, m auth.Meta, userID string) ([]*userpool.Session, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if _, err := a.store.GetUser(ctx, id, userID); err != nil {
		return nil, err
	}
	return a.store.ListUserSessions(ctx, id, userID, a.now())
}

// RevokeSession ends one session of the user; its tokens stop working at
// once. A session that already ended is no error.
func (a *Service) RevokeSession(ctx context.Context, m auth.Meta, userID, sessionID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	sess, err := a.store.GetSession(ctx, sessionID)
	if errors.Is(err, userpool.ErrSessionNotFound) || err == nil && (sess.PoolID != id || sess.UserID != userID) {
		return errSessionNotFound
	}
	if err != nil {
		return err
	}
	err = a.store.RevokeSession(ctx, sessionID, a.now().UTC())
	if err != nil && !errors.Is(err, userpool.ErrSessionNotFound) {
		return err
	}
	a.audit(ctx, m, id, userID, "admin.session.revoke", map[string]string{"sessionId": sessionID})
	return nil
}

// RevokeSessions ends every alive session of the user and says how many.
func (a *Service) RevokeSessions(ctx context.Context, m auth.Meta, userID string) (int, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return 0, err
	}
	if _, err := a.store.GetUser(ctx, id, userID); err != nil {
		return 0, err
	}
	n, err := a.store.RevokeUserSessions(ctx, id, userID, a.now().UTC())
	if err != nil {
		return 0, err
	}
	a.audit(ctx, m, id, userID, "admin.session.revoke_all", map[string]string{"sessionsRevoked": strconv.Itoa(n)})
	return n, nil
}

// ListAudit returns the pool's audit events matching f (PoolID is set
// from m), newest first.
func (a *Service) ListAudit(ctx context.Context, m auth.Meta, f userpool.AuditFilter) ([]*userpool.AuditEvent, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, invalid("invalid_paging", "limit must be between 0 (the default, 100) and 1000")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, invalid("invalid_time_range", "until must be after since")
	}
	f.PoolID = id
	return a.store.ListAudit(ctx, f)
}
