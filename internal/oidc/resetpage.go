package oidc

import (
	"net/http"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The forgot-password page: a code to the account's email address
// (RESET_PASSWORD scene) or phone, then the code and a new password. The
// reset use cases end every session of the account, as the API does, and
// the page says so; this browser's cookie is cleared too. A second submit
// of the same form finds its code spent and is told that plainly.

type resetData struct {
	Method, SendAction, Action, SigninURL string
	Tabs                                  []tab
	Carry                                 []field
	Address                               string
	CodeSent                              bool
	Wait                                  int
	Rules                                 passwordRules
}

func resetMethod(m string) string {
	if m == "phone" {
		return "phone"
	}
	return "email"
}

func (s *Service) renderReset(w http.ResponseWriter, r *http.Request, h *hosted, status int, method, msg string, d resetData) {
	d.Method = resetMethod(method)
	d.Tabs = []tab{
		{Label: web.T(h.lang, "reset.by_email"), URL: h.url(pathReset, "method", "email"), Current: d.Method == "email"},
		{Label: web.T(h.lang, "reset.by_phone"), URL: h.url(pathReset, "method", "phone"), Current: d.Method == "phone"},
	}
	d.SendAction, d.Action, d.Carry = h.p.prefix+pathResetCode, h.p.prefix+pathReset, h.carry()
	d.Rules, d.SigninURL = rulesOf(h.pool.Settings, h.lang), h.signinURL()
	s.renderHosted(w, r, h, status, "reset", msg, d)
}

func (s *Service) resetPage(w http.ResponseWriter, r *http.Request, h *hosted) {
	s.renderReset(w, r, h, http.StatusOK, r.URL.Query().Get("method"), "", resetData{})
}

// resetSendCode sends the code: a RESET_PASSWORD mail (which, for a pool
// with uniform answers, looks the same whether or not the address has an
// account) or an SMS code.
func (s *Service) resetSendCode(w http.ResponseWriter, r *http.Request, h *hosted) {
	method := resetMethod(r.PostForm.Get("method"))
	d := resetData{Address: strings.TrimSpace(r.PostForm.Get("address"))}
	if d.Address == "" {
		s.renderReset(w, r, h, http.StatusBadRequest, method, web.T(h.lang, "error.missing"), d)
		return
	}
	m := s.hostedMeta(r, h)
	var err error
	if method == "phone" {
		err = s.d.Auth.SendSmsCode(r.Context(), m, d.Address)
	} else {
		err = s.d.Auth.SendEmail(r.Context(), m, d.Address, string(auth.SceneResetPassword))
	}
	if err != nil {
		s.renderReset(w, r, h, statusOf(userpool.AsError(err)), method, s.userError(r, h, err), d)
		return
	}
	d.CodeSent, d.Wait = true, 60
	s.renderReset(w, r, h, http.StatusOK, method, "", d)
}

// resetSubmit sets the new password through the reset use case.
func (s *Service) resetSubmit(w http.ResponseWriter, r *http.Request, h *hosted) {
	f := r.PostForm
	method := resetMethod(f.Get("method"))
	d := resetData{Address: strings.TrimSpace(f.Get("address")), CodeSent: true}
	code, pw := strings.TrimSpace(f.Get("code")), f.Get("password")
	if d.Address == "" || code == "" || pw == "" {
		s.renderReset(w, r, h, http.StatusBadRequest, method, web.T(h.lang, "error.missing"), d)
		return
	}
	m := s.hostedMeta(r, h)
	var err error
	if method == "phone" {
		err = s.d.Auth.ResetPasswordByPhoneCode(r.Context(), m, d.Address, code, pw)
	} else {
		err = s.d.Auth.ResetPasswordByEmailCode(r.Context(), m, d.Address, code, pw)
	}
	if err != nil {
		msg := s.userError(r, h, err)
		if userpool.AsError(err).Code == userpool.CodeWrongCode {
			msg = web.T(h.lang, "reset.code_used")
		}
		s.renderReset(w, r, h, statusOf(userpool.AsError(err)), method, msg, d)
		return
	}
	s.clearSessionCookie(w, h.p)
	s.done(w, r, h, "reset.done_title", "reset.done_body", "reset.back_signin", h.signinURL())
}
