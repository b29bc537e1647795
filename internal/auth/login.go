package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"

	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

const slogInfo = slog.LevelInfo

// LoginOptions shapes a login; see api.LoginOptions.
type LoginOptions struct {
	AutoRegister bool
	CaptchaCode  string
	CaptchaID    string
	// Context reaches the pipelines as context.params.
	Context map[string]any
	// CustomData are user-defined values to set on the account once the
	// login succeeds (on the new account with AutoRegister), checked like
	// SetUdv before the credentials are.
	CustomData map[string]json.RawMessage
}

var errWrongPassword = userpool.Errorf(userpool.CodeWrongPassword, "wrong_password", "wrong password")

func isNotFound(err error) bool {
	return errors.Is(err, userpool.ErrUserNotFound)
}

func attrUser(u *userpool.User) []slog.Attr {
	return []slog.Attr{slog.String("user_id", u.ID), slog.String("pool_id", u.PoolID)}
}

// LoginByEmail logs in with email and password.
func (s *Service) LoginByEmail(ctx context.Context, m Meta, email, pw string, opts LoginOptions) (*Result, error) {
	given := strings.TrimSpace(email)
	spelled, key, err := spellingAndKey(email)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: methodEmail, identifier: key, params: opts.Context}
	res, err := s.loginPassword(ctx, m, pw, opts, s.store.GetUserByEmail, methodEmail, spelled, key, func() *userpool.User {
		return &userpool.User{Email: given} // checked as a new address by register
	})
	return res, s.loginFailed(ctx, m, err)
}

// LoginByUsername logs in with username and password.
func (s *Service) LoginByUsername(ctx context.Context, m Meta, username, pw string, opts LoginOptions) (*Result, error) {
	username, err := lookupUsername(username)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: methodUsername, identifier: username, params: opts.Context}
	// The store looks the name up by its spelling (a row not keyed yet is
	// found by it); the guard counts by the key: the attempts at an
	// unknown name are counted together for all its spellings.
	res, err := s.loginPassword(ctx, m, pw, opts, s.store.GetUserByUsername, methodUsername, username, userpool.UsernameKey(username), func() *userpool.User {
		return &userpool.User{Profile: userpool.Profile{Username: username}} // checked as a new name by register
	})
	return res, s.loginFailed(ctx, m, err)
}

type lookupFunc func(ctx context.Context, poolID, v string) (*userpool.User, error)

// loginPassword is the password login shared by every identifier. Around
// the credential check it applies the per-IP rate limit (before anything
// else), then the lockout and CAPTCHA demand of protect.go (before the
// password is checked), and records the outcome. An unknown account costs
// one dummy hash so that response time does not tell which accounts exist.
//
// spelled is the identifier as given, which lookup gets: the store finds a
// row by its key, or one not keyed yet (written by an older replica during
// a rolling upgrade) by its spelling, which the key would not match. ident
// is the identifier's key, which names an unknown account in the guard's
// counters.
func (s *Service) loginPassword(ctx context.Context, m Meta, pw string, opts LoginOptions, lookup lookupFunc, method, spelled, ident string, blank func() *userpool.User) (*Result, error) {
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	poolID := pool.ID
	// Pre-authentication pipelines come before the credentials are looked
	// at (after the rate limit, which bounds what a flood can cost).
	if err := s.preAuthentication(ctx, &m, poolID); err != nil {
		return nil, err
	}
	custom, err := s.parseCustomData(ctx, poolID, opts.CustomData, byUser)
	if err != nil {
		return nil, err
	}
	u, err := lookup(ctx, poolID, spelled)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if err != nil {
		u = nil
	}
	g, err := s.guardLogin(ctx, m, pool, u, method, ident, opts)
	if err != nil {
		return nil, err
	}
	// However the attempt ends, its place in the account's budget of
	// checks in flight is freed (a failure was counted first, by fail).
	defer g.release(ctx)
	if u == nil && opts.AutoRegister {
		res, rerr := s.register(ctx, m, method, blank(), pw, RegisterOptions{ForceLogin: true, CustomData: opts.CustomData})
		if rerr == nil {
			res.NewlyCreated = true
			g.succeeded(ctx)
			return res, nil
		}
		if !errors.Is(rerr, userpool.ErrEmailTaken) && !errors.Is(rerr, userpool.ErrUsernameTaken) && !errors.Is(rerr, userpool.ErrPhoneTaken) {
			return nil, rerr
		}
		// A concurrent auto-register won the race: log in to its account.
		if u, err = lookup(ctx, poolID, spelled); err != nil {
			return nil, err
		}
	}
	if pw == "" || len(pw) > maxPasswordLen {
		// Nothing stored can match; answer (and count) like a wrong password.
		return nil, g.fail(ctx, errWrongPassword, "wrong_password")
	}
	if u == nil {
		s.hasher.DummyVerify(ctx, pw)
		return nil, g.fail(ctx, userpool.ErrUserNotFound, "user_not_found")
	}
	if !u.HasPassword() {
		s.hasher.DummyVerify(ctx, pw)
		return nil, g.fail(ctx, errWrongPassword, "no_password")
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		if ctx.Err() != nil {
			// Abandoned while it queued for a hashing slot: counted as a
			// failure (a guess whose answer nobody waits for), so that
			// attempts never checked cannot take the account's places in
			// flight and free them again at no cost.
			_ = g.fail(ctx, errWrongPassword, "abandoned")
		}
		return nil, userpool.Internal(err)
	}
	if !ok {
		return nil, g.fail(ctx, errWrongPassword, "wrong_password")
	}
	// The password is right: whatever refuses the login from here on
	// (a block, a pipeline, a password changed meanwhile) was not a guess,
	// and counts no failure.
	return s.loginProven(ctx, m, pool, u, pw, rehash, opts, custom, g, method)
}

// loginProven finishes a password login whose password was right.
func (s *Service) loginProven(ctx context.Context, m Meta, pool *userpool.Pool, u *userpool.User, pw string, rehash bool, opts LoginOptions, custom []*userpool.UserValue, g *loginGuard, method string) (*Result, error) {
	if u.Blocked {
		g.audit(ctx, userpool.AuditLoginFailure, "user_blocked")
		return nil, errBlocked
	}
	// Parameters changed since this hash was made, or it was imported in
	// a foreign format: upgrade it now that we know the password, in the
	// login's own write (so an imported hash is gone once a login
	// succeeds). Failing to hash must not fail the login.
	var rehashTo string
	if rehash {
		if h, herr := s.hasher.Hash(ctx, pw); herr == nil {
			rehashTo = h
		} else {
			s.log.LogAttrs(ctx, slog.LevelWarn, "password rehash failed", slog.String("user_id", u.ID), slog.String("error", herr.Error()))
		}
	}
	if err := s.setCustomData(ctx, u, opts.CustomData, custom); err != nil {
		return nil, err
	}
	// The failure counts a right password clears are cleared, and the
	// attempt's place in the budget is given back, in the login's own
	// write.
	res, err := s.completeLoginVia(ctx, m, pool.Settings, u, false, method, rehashTo, g.settles()...)
	if !errors.Is(err, errCredentialsChanged) {
		return res, err
	}
	// The stored hash changed while we checked. A concurrent login's
	// rehash of the same password is no reason to refuse: check the
	// password once more against what is stored now (a real change or
	// reset will not match) and try again.
	nu, gerr := s.store.GetUser(ctx, u.PoolID, u.ID)
	if gerr != nil {
		return nil, gerr
	}
	ok, again, verr := s.hasher.Verify(ctx, pw, nu.PasswordHash)
	if verr != nil || !ok {
		return nil, err
	}
	if !again {
		rehashTo = ""
	}
	return s.completeLoginVia(ctx, m, pool.Settings, nu, false, method, rehashTo, g.settles()...)
}

var (
	errBlocked            = userpool.Errorf(userpool.CodeUserBlocked, "user_blocked", "this account is blocked")
	errCredentialsChanged = userpool.Errorf(userpool.CodeWrongPassword, "credentials_changed", "the account's password changed during this login: log in again")
)

// completeLogin is the complete login process after credentials are proven:
// post-authentication pipelines, session and token, then login count and
// last login/IP with the pipelines' changes (profile fields, and
// user-defined values with their user.udv_changed event), with the
// user.login webhook event and the login.success audit event in the same
// write.
func (s *Service) completeLogin(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User, newly bool) (*Result, error) {
	return s.completeLoginVia(ctx, m, set, u, newly, m.flow.method, "")
}

// completeLoginVia is completeLogin that also records the login method.
// A non-empty rehashTo replaces the password hash the login was proven
// with; extra records (the login's counter resets) go in the login's
// write.
//
// Every login passes here, so this is where a user who must pass a second
// factor is stopped (mfaGate, answering 1635) until VerifyMFA or
// ConfirmTOTP calls it again with the completed challenge in m.
func (s *Service) completeLoginVia(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User, newly bool, method, rehashTo string, extra ...userpool.Record) (_ *Result, err error) {
	switch {
	case m.passkey != nil:
		// A passkey with user verification is two factors in one (the
		// device, and the PIN or biometric that unlocked it): no gate.
	case m.mfa == nil:
		if err := s.mfaGate(ctx, m, set, u, method, rehashTo, extra); err != nil {
			return nil, err
		}
	default:
		extra = append(extra, s.mfaRecords(m, u)...)
		// Assigned, not declared: the deferred put-back reads the
		// function's own err.
		var links []userpool.Record
		var taken *userpool.SocialState
		links, taken, err = s.takeDeferredLinks(ctx, m, u)
		if err != nil {
			return nil, err
		}
		if taken != nil {
			// A login refused from here on (a pipeline, a password
			// changed meanwhile, a recovery code used already) leaves its
			// challenge for another try: the links wait for it again.
			defer func() {
				if err != nil {
					if perr := s.store.PutSocialState(context.WithoutCancel(ctx), taken); perr != nil {
						s.log.LogAttrs(ctx, slog.LevelWarn, "putting back the identity links of a refused login failed", slog.String("user_id", u.ID), slog.String("error", perr.Error()))
					}
				}
			}()
		}
		extra = append(extra, links...)
	}
	changes, recs, err := s.postAuthentication(ctx, m, u)
	if err != nil {
		return nil, err
	}
	// The session is written with the login's user update, below: one
	// transaction, and no session at all when the update refuses.
	sess, res, err := s.newSession(ctx, m, set, u)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var detail map[string]string
	if method != "" {
		detail = map[string]string{"method": method}
		if m.mfa != nil {
			detail["factor"] = m.mfa.factor
		}
		if m.passkey != nil {
			detail["passkey"] = m.passkey.id
		}
	}
	updated, err := s.updateUser(ctx, m, u.PoolID, u.ID, eventUserLogin, func(x *userpool.User) error {
		// The credentials were checked against u, read before the hash (tens
		// of milliseconds ago). A password change, reset or block committed
		// since then revoked the user's sessions before this one existed, so
		// this login must not outlive it: refuse it here, in the transaction
		// that writes its session. (One committed after this transaction
		// finds the new session and revokes it.)
		switch {
		case x.Blocked:
			return errBlocked
		case x.PasswordHash != u.PasswordHash:
			return errCredentialsChanged
		}
		if rehashTo != "" {
			x.PasswordHash = rehashTo
		}
		if err := applyChanges(&x.Profile, changes); err != nil {
			return err
		}
		x.LoginsCount++
		x.LastLogin = now
		if m.ClientIP != "" {
			x.LastIP = m.ClientIP
		}
		return nil
	}, append(append([]userpool.Record{sess, s.auditEvent(m, u.PoolID, u.ID, userpool.AuditLoginSuccess, detail)}, recs...), extra...)...)
	if err != nil {
		return nil, err
	}
	res.User = updated
	res.NewlyCreated = newly
	if m.passkey != nil {
		res.Passkey = m.passkey.amr
	}
	s.log.LogAttrs(ctx, slogInfo, "user logged in", attrUser(updated)...)
	return s.withCustomData(ctx, res, nil)
}

// issue creates a session for u and a token for it, without login side
// effects.
func (s *Service) issue(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User) (*Result, error) {
	sess, res, err := s.newSession(ctx, m, set, u)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return res, nil
}

// newSession makes (but does not store) a session for u and signs its
// token.
func (s *Service) newSession(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User) (*userpool.Session, *Result, error) {
	now := s.now().UTC()
	sess := &userpool.Session{
		ID: newID(), PoolID: u.PoolID, UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(set.TokenTTL), ClientIP: m.ClientIP, UserAgent: truncate(m.UserAgent, 512),
	}
	tok, err := s.tokens.Issue(ctx, token.Claims{
		Subject: u.ID, SessionID: sess.ID, PoolID: u.PoolID, Issuer: s.cfg.Issuer,
		IssuedAt: now, ExpiresAt: sess.ExpiresAt,
	})
	if err != nil {
		return nil, nil, userpool.Internal(err)
	}
	return sess, &Result{User: u, Token: tok, TokenIssued: now, TokenExpires: sess.ExpiresAt}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
