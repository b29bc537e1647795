package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// SessionCookie is the console session cookie's name.
const SessionCookie = "authpool_console"

// touchEvery bounds the writes that keep a session's idle clock: one per
// session per minute at most.
const touchEvery = time.Minute

// hash is the stored form of a session token: HMAC under the console key.
func (s *Service) hash(token string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("session\x00" + token))
	return m.Sum(nil)
}

// formToken is the CSRF token of a session's forms: bound to the session,
// so a token from another browser or an ended session is worthless.
func (s *Service) formToken(token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validToken(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// session returns the request's live session, or errNoSession. An idle or
// ended session is deleted as it is found.
func (s *Service) session(r *http.Request) (*userpool.ConsoleSession, string, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || !validToken(ck.Value) {
		return nil, "", errNoSession
	}
	h := s.hash(ck.Value)
	sess, err := s.d.Store.GetConsoleSession(r.Context(), h)
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, "", errNoSession
	}
	if err != nil {
		return nil, "", err
	}
	now := s.d.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.SeenAt.Add(s.d.IdleTimeout)) {
		if err := s.d.Store.DeleteConsoleSession(r.Context(), h); err != nil {
			return nil, "", err
		}
		return nil, "", errNoSession
	}
	if now.Sub(sess.SeenAt) >= touchEvery {
		if err := s.d.Store.TouchConsoleSession(r.Context(), h, now); err != nil {
			return nil, "", err
		}
	}
	return sess, ck.Value, nil
}

// startSession stores a new session for who and sets its cookie.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, who admin.Principal) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.d.Now().UTC()
	sess := &userpool.ConsoleSession{
		IDHash: s.hash(token), KeyID: who.KeyID, KeyName: who.Name, ReadOnly: who.ReadOnly,
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(s.d.Lifetime),
	}
	if err := s.d.Store.CreateConsoleSession(ctx, sess); err != nil {
		return err
	}
	s.setCookie(w, token, int(s.d.Lifetime/time.Second))
	return nil
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) the session cookie:
// HttpOnly, SameSite=Strict (never sent with a request another site
// starts), Secure behind https, and only for the console's path.
func (s *Service) setCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: s.d.Path + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.d.Secure, SameSite: http.SameSiteStrictMode,
	})
}
