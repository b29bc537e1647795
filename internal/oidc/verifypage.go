package oidc

import (
	"fmt"
	"net/http"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The email verification page. The link of a VERIFY_EMAIL mail
// (VerifyEmailLink) lands here with the address and the code: confirmed,
// already confirmed, expired, or refused. Without them, a signed-in user
// (this pool's browser session) sees whether the address is confirmed and
// can ask for a new mail. The query holds the code: the page sends no
// Referer (web.SecurityHeaders) and the request log records the route
// pattern only.

type verifyData struct {
	Status, Action string
	Carry          []field
	Sent           bool
	HasEmail       bool
	Verified       bool
}

func (s *Service) verifyEmailPage(w http.ResponseWriter, r *http.Request, h *hosted) {
	q := r.URL.Query()
	email, code := q.Get("email"), q.Get("code")
	if email == "" && code == "" {
		s.verifyStatus(w, r, h, http.StatusOK, false, "")
		return
	}
	if email == "" || code == "" || len(email) > 320 || len(code) > 64 {
		s.verifyResult(w, r, h, http.StatusBadRequest, "verify.failed_title", web.T(h.lang, "error.missing"))
		return
	}
	err := s.d.Auth.VerifyEmail(r.Context(), s.hostedMeta(r, h), email, code)
	if err == nil {
		s.verifyResult(w, r, h, http.StatusOK, "verify.ok_title", web.T(h.lang, "verify.ok_body"))
		return
	}
	e := userpool.AsError(err)
	// A used or stale link of an address that is confirmed meanwhile (the
	// user opened it twice): say so. A pool answering uniformly does not
	// tell which addresses have accounts, so it gets the code's message.
	if (e.Code == userpool.CodeWrongCode || e.Code == userpool.CodeCodeExpired) && !h.pool.Settings.UniformLoginError {
		if u, err := s.d.Store.GetUserByEmail(r.Context(), h.p.poolID, email); err == nil && u.EmailVerified {
			s.verifyResult(w, r, h, http.StatusOK, "verify.already_title", web.T(h.lang, "verify.already_body"))
			return
		}
	}
	if e.Code == userpool.CodeCodeExpired {
		s.verifyResult(w, r, h, http.StatusBadRequest, "verify.expired_title", web.T(h.lang, "verify.expired_body"))
		return
	}
	s.verifyResult(w, r, h, statusOf(e), "verify.failed_title", s.userError(r, h, err))
}

// verifyResult is the answer to a link: a title and a text, with a link
// to the status page (where a signed-in user asks for a new mail).
func (s *Service) verifyResult(w http.ResponseWriter, r *http.Request, h *hosted, status int, title, body string) {
	s.renderHosted(w, r, h, status, "done", "", struct{ Title, Body, LinkText, Link string }{
		title, body, "verify.title", h.url(pathVerifyEmail)})
}

// verifyStatus shows the signed-in user's address and the resend form.
func (s *Service) verifyStatus(w http.ResponseWriter, r *http.Request, h *hosted, status int, sent bool, msg string) {
	b := s.browserSession(r, h.p.poolID)
	if b == nil {
		s.done(w, r, h, "verify.title", "verify.signin", "signin.title", h.signinURL())
		return
	}
	d := verifyData{Action: h.p.prefix + pathVerifyEmailSend, Carry: h.carry(), Sent: sent, HasEmail: b.user.Email != "", Verified: b.user.EmailVerified}
	switch {
	case !d.HasEmail:
		d.Status = web.T(h.lang, "verify.no_email")
	case d.Verified:
		d.Status = fmt.Sprintf(web.T(h.lang, "verify.status_ok"), b.user.Email)
	default:
		d.Status = fmt.Sprintf(web.T(h.lang, "verify.status_pending"), b.user.Email)
	}
	s.renderHosted(w, r, h, status, "verify", msg, d)
}

// verifyEmailSend sends a new VERIFY_EMAIL mail to the signed-in user's
// own address, within the mail limits of the API's SendEmail.
func (s *Service) verifyEmailSend(w http.ResponseWriter, r *http.Request, h *hosted) {
	b := s.browserSession(r, h.p.poolID)
	if b == nil {
		s.renderHosted(w, r, h, http.StatusUnauthorized, "done", web.ErrorMessage(h.lang, userpool.Errorf(userpool.CodeNotLoggedIn, "not_logged_in", "not signed in")),
			struct{ Title, Body, LinkText, Link string }{"verify.title", "verify.signin", "signin.title", h.signinURL()})
		return
	}
	if b.user.Email == "" || b.user.EmailVerified {
		s.verifyStatus(w, r, h, http.StatusOK, false, "")
		return
	}
	if err := s.d.Auth.SendEmail(r.Context(), s.hostedMeta(r, h), b.user.Email, string(auth.SceneVerifyEmail)); err != nil {
		s.verifyStatus(w, r, h, statusOf(userpool.AsError(err)), false, s.userError(r, h, err))
		return
	}
	s.verifyStatus(w, r, h, http.StatusOK, true, "")
}
