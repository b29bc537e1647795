package auth

import (
	"context"
	"errors"

	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

var (
	errNotLoggedIn  = userpool.Errorf(userpool.CodeNotLoggedIn, "not_logged_in", "not logged in: no token was given")
	errTokenExpired = userpool.Errorf(userpool.CodeTokenExpired, "token_expired", "token has expired")
	errTokenInvalid = userpool.Errorf(userpool.CodeTokenInvalid, "token_invalid", "token is invalid or its session has ended")
)

// Principal is the caller proven by a token.
type Principal struct {
	Claims  token.Claims
	Session *userpool.Session
	Token   string
}

// verify checks a token's signature and expiry, that it belongs to the
// addressed pool, and that its session is alive. It is the hot path of every
// token check: one signature check (cached) and one session read.
func (s *Service) verify(ctx context.Context, m Meta, tok string) (*Principal, error) {
	claims, err := s.verifyToken(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	sess, err := s.store.GetSession(ctx, claims.SessionID)
	if errors.Is(err, userpool.ErrSessionNotFound) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkSession(claims, sess); err != nil {
		return nil, err
	}
	return &Principal{Claims: claims, Session: sess, Token: tok}, nil
}

// verifyToken checks a token's signature and expiry and that it belongs
// to the addressed pool.
func (s *Service) verifyToken(ctx context.Context, m Meta, tok string) (token.Claims, error) {
	if tok == "" {
		return token.Claims{}, errNotLoggedIn
	}
	claims, err := s.tokens.Verify(ctx, tok)
	switch {
	case errors.Is(err, token.ErrExpired):
		return token.Claims{}, errTokenExpired
	case err != nil:
		return token.Claims{}, errTokenInvalid
	}
	poolID, err := s.poolID(ctx, m)
	if err != nil {
		return token.Claims{}, err
	}
	if claims.PoolID != poolID {
		return token.Claims{}, errTokenInvalid
	}
	return claims, nil
}

// checkSession checks that sess is the token's and alive.
func (s *Service) checkSession(claims token.Claims, sess *userpool.Session) error {
	if sess.UserID != claims.Subject || sess.PoolID != claims.PoolID {
		return errTokenInvalid
	}
	if !sess.Alive(s.now()) {
		if sess.RevokedAt.IsZero() {
			return errTokenExpired
		}
		return errTokenInvalid
	}
	return nil
}

// Authenticate proves the caller of an authenticated call and loads their
// user. A blocked user's tokens stop working.
func (s *Service) Authenticate(ctx context.Context, m Meta, tok string) (*Principal, *userpool.User, error) {
	p, u, _, err := s.authenticate(ctx, m, tok, false)
	return p, u, err
}

// authenticate is Authenticate reading the session and the user (and,
// with values, the user's values) in one read of the store. The checks and
// their order are verify's and then the user's, as two reads would make
// them.
func (s *Service) authenticate(ctx context.Context, m Meta, tok string, values bool) (*Principal, *userpool.User, []*userpool.UserValue, error) {
	claims, err := s.verifyToken(ctx, m, tok)
	if err != nil {
		return nil, nil, nil, err
	}
	sess, u, vals, err := s.store.GetSessionUser(ctx, claims.SessionID, values)
	if errors.Is(err, userpool.ErrSessionNotFound) {
		return nil, nil, nil, errTokenInvalid
	}
	if sess == nil {
		return nil, nil, nil, err
	}
	if err := s.checkSession(claims, sess); err != nil {
		return nil, nil, nil, err
	}
	if isNotFound(err) {
		return nil, nil, nil, errTokenInvalid
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if u.Blocked {
		return nil, nil, nil, errTokenInvalid
	}
	return &Principal{Claims: claims, Session: sess, Token: tok}, u, vals, nil
}

// LoginStatus is the answer of CheckLoginStatus.
type LoginStatus struct {
	Code       userpool.Code
	Message    string
	Status     bool
	Exp, Iat   int64
	UserID     string
	UserPoolID string
}

// CheckLoginStatus reports whether tok is valid. An invalid token is an
// answer (Status false with a code), not an error; only an internal failure
// (the store unreachable) is an error.
func (s *Service) CheckLoginStatus(ctx context.Context, m Meta, tok string) (*LoginStatus, error) {
	if err := s.rateLimit(ctx, m, classTokenCheck); err != nil {
		return nil, err
	}
	p, err := s.verify(ctx, m, tok)
	if err != nil {
		e := userpool.AsError(err)
		switch e.Code {
		case userpool.CodeNotLoggedIn, userpool.CodeTokenExpired, userpool.CodeTokenInvalid:
			return &LoginStatus{Code: e.Code, Message: e.Message}, nil
		}
		return nil, err
	}
	return &LoginStatus{
		Code: 200, Message: "token is valid", Status: true,
		Exp: p.Claims.ExpiresAt.Unix(), Iat: p.Claims.IssuedAt.Unix(),
		UserID: p.Claims.Subject, UserPoolID: p.Claims.PoolID,
	}, nil
}

// RefreshToken issues a new token for the caller's session with a later
// expiry; the old token keeps working until its own expiry (they share the
// session, so logout ends both).
func (s *Service) RefreshToken(ctx context.Context, m Meta, tok string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sess, err := s.store.ExtendSession(ctx, p.Session.ID, now, now.Add(pool.Settings.TokenTTL),
		s.auditEvent(m, u.PoolID, u.ID, userpool.AuditTokenRefresh, nil))
	if errors.Is(err, userpool.ErrSessionNotFound) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	newTok, err := s.tokens.Issue(ctx, token.Claims{
		Subject: u.ID, SessionID: sess.ID, PoolID: u.PoolID, Issuer: s.cfg.Issuer,
		IssuedAt: now, ExpiresAt: sess.ExpiresAt,
	})
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return &Result{User: u, Token: newTok, TokenIssued: now, TokenExpires: sess.ExpiresAt}, nil
}

// Logout ends the caller's session: every token of it stops working at once.
func (s *Service) Logout(ctx context.Context, m Meta, tok string) error {
	p, err := s.verify(ctx, m, tok)
	if err != nil {
		return err
	}
	var recs []userpool.Record
	if u, err := s.store.GetUser(ctx, p.Claims.PoolID, p.Claims.Subject); err == nil {
		recs = append(recs, s.userEvent(eventUserLogout, m, u))
	} else if !isNotFound(err) {
		return err
	}
	recs = append(recs, s.auditEvent(m, p.Claims.PoolID, p.Claims.Subject, userpool.AuditLogout, nil))
	err = s.store.RevokeSession(ctx, p.Session.ID, s.now().UTC(), recs...)
	if errors.Is(err, userpool.ErrSessionNotFound) {
		// A concurrent logout won; the session is over either way.
		return nil
	}
	return err
}
