package auth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// The account page's own use cases (docs/ACCOUNT.md): a user's view of
// their sessions, and deleting their own account. Everything else the
// page does is the API's use cases.

// FreshSignIn is how recent the sign-in of an account without a password
// must be to delete it: the session's age stands in for the password.
const FreshSignIn = 5 * time.Minute

// maxSessionsListed bounds what ListSessions answers.
const maxSessionsListed = 100

// Audit events of the account's own changes.
const (
	auditSelfDelete    = "user.self_delete"
	auditSessionRevoke = "session.revoke"
	auditSessionOthers = "session.revoke_others"
)

var (
	errSelfDeleteOff      = userpool.Errorf(userpool.CodeNoPermission, "self_delete_disabled", "this user pool does not let users delete their own account")
	errDeletePassword     = userpool.Errorf(userpool.CodeWrongPassword, "wrong_password", "the password is not correct")
	errSignInAgain        = userpool.Errorf(userpool.CodeTokenExpired, "fresh_sign_in_required", "sign in again (within the last 5 minutes) to delete this account")
	errPasskeySignInAgain = userpool.Errorf(userpool.CodeTokenExpired, "fresh_sign_in_required", "sign in again (within the last 5 minutes) to add a passkey")
	errNoSuchSession      = userpool.Errorf(userpool.CodeNotFound, "session_not_found", "no such session of this account")
)

// SessionInfo is one alive session of the caller, as the caller may see
// it: when and from where it began (the address and browser recorded at
// its login), and whether it is the caller's own.
type SessionInfo struct {
	ID                   string
	CreatedAt, ExpiresAt time.Time
	ClientIP, UserAgent  string
	Current              bool
}

// ListSessions lists the caller's alive sessions, newest first (at most
// 100).
func (s *Service) ListSessions(ctx context.Context, m Meta, tok string) ([]SessionInfo, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListUserSessions(ctx, u.PoolID, u.ID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, min(len(list), maxSessionsListed))
	for _, x := range list {
		if len(out) == maxSessionsListed {
			break
		}
		out = append(out, SessionInfo{
			ID: x.ID, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, ClientIP: x.ClientIP, UserAgent: x.UserAgent,
			Current: x.ID == p.Session.ID,
		})
	}
	return out, nil
}

// RevokeSession ends one session of the caller (their own included: that
// is a logout). Another user's session, or one that ended, is 1004.
func (s *Service) RevokeSession(ctx context.Context, m Meta, tok, sessionID string) error {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	if sessionID == "" || len(sessionID) > 64 {
		return errNoSuchSession
	}
	sess, err := s.store.GetSession(ctx, sessionID)
	if errors.Is(err, userpool.ErrSessionNotFound) {
		return errNoSuchSession
	}
	if err != nil {
		return err
	}
	if sess.PoolID != u.PoolID || sess.UserID != u.ID || !sess.Alive(s.now()) {
		return errNoSuchSession
	}
	err = s.store.RevokeSession(ctx, sessionID, s.now().UTC(),
		s.auditEvent(m, u.PoolID, u.ID, auditSessionRevoke, map[string]string{"sessionId": sessionID}))
	if errors.Is(err, userpool.ErrSessionNotFound) {
		return errNoSuchSession // ended meanwhile
	}
	return err
}

// RevokeOtherSessions ends every alive session of the caller except the
// caller's own, and says how many it ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, m Meta, tok string) (int, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return 0, err
	}
	n, err := s.store.RevokeOtherSessions(ctx, u.PoolID, u.ID, p.Session.ID, s.now().UTC())
	if err != nil {
		return 0, err
	}
	if err := s.store.AppendAudit(ctx, s.auditEvent(m, u.PoolID, u.ID, auditSessionOthers, map[string]string{"sessionsRevoked": strconv.Itoa(n)})); err != nil {
		return n, err
	}
	return n, nil
}

// DeleteAccount deletes the caller's account, when the pool's
// AllowSelfDelete lets it: proven by the password, or, for an account
// without one, by a session begun within FreshSignIn. The user goes with
// their sessions, values, second factors, identities, consents and the
// provider's grants (the store's DeleteUser), reported as user.deleted
// and audited in the same transaction. Bounded like a login: a password
// is hashed.
func (s *Service) DeleteAccount(ctx context.Context, m Meta, tok, password string) error {
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return err
	}
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return err
	}
	if !pool.Settings.AllowSelfDelete {
		return errSelfDeleteOff
	}
	how := "password"
	if u.HasPassword() {
		if password == "" || len(password) > maxPasswordLen {
			return errDeletePassword
		}
		ok, _, err := s.hasher.Verify(ctx, password, u.PasswordHash)
		if err != nil {
			return userpool.Internal(err)
		}
		if !ok {
			return errDeletePassword
		}
	} else {
		how = "fresh_sign_in"
		if s.now().Sub(p.Session.CreatedAt) > FreshSignIn {
			return errSignInAgain
		}
	}
	err = s.store.DeleteUser(ctx, u.PoolID, u.ID, s.userEvent(api.EventUserDeleted, m, u),
		s.auditEvent(m, u.PoolID, u.ID, auditSelfDelete, map[string]string{"proof": how}))
	if isNotFound(err) {
		return errTokenInvalid // deleted meanwhile
	}
	if err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slogInfo, "account deleted by its user", attrUser(u)...)
	return nil
}
