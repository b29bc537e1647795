package oidc

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The sign-up page: by email and password, username and password, or
// phone and SMS code, as the pool's registerBy* settings open them. The
// use case registers with ForceLogin, so the whole login process (its
// pipelines, MFA policy, webhooks) runs once, and the browser is signed
// in: back to the OpenID Connect request, or the application's return
// URL. A sign-up by email also sends the VERIFY_EMAIL mail, whose link
// opens the verification page.

// The sign-up methods, in the order the page offers them.
var signupMethods = []struct{ key, label string }{
	{"email", "signup.method_email"}, {"username", "signup.method_user"}, {"phone", "signup.method_phone"},
}

func signupOpen(set userpool.PoolSettings, method string) bool {
	switch method {
	case "email":
		return set.RegisterByEmail
	case "username":
		return set.RegisterByUsername
	case "phone":
		return set.RegisterByPhone
	}
	return false
}

type tab struct {
	Label, URL string
	Current    bool
}

type signupData struct {
	Method, Action, SendCodeAction, SigninURL string
	Tabs                                      []tab
	Carry                                     []field
	Email, Username, Phone                    string
	CodeSent                                  bool
	Wait                                      int
	Rules                                     passwordRules
}

func (s *Service) renderSignup(w http.ResponseWriter, r *http.Request, h *hosted, status int, method, msg string, d signupData) {
	set := h.pool.Settings
	if !signupOpen(set, method) {
		method = ""
	}
	for _, m := range signupMethods {
		if !signupOpen(set, m.key) {
			continue
		}
		if method == "" {
			method = m.key
		}
		d.Tabs = append(d.Tabs, tab{Label: web.T(h.lang, m.label), URL: h.url(pathSignup, "method", m.key), Current: m.key == method})
	}
	if len(d.Tabs) < 2 {
		d.Tabs = nil // one method: nothing to choose
	}
	d.Method, d.Action, d.SendCodeAction = method, h.p.prefix+pathSignup, h.p.prefix+pathSignupCode
	d.Carry, d.Rules, d.SigninURL = h.carry(), rulesOf(set, h.lang), h.signinURL()
	if method == "" && msg == "" {
		msg = web.T(h.lang, "signup.closed")
	}
	s.renderHosted(w, r, h, status, "signup", msg, d)
}

func (s *Service) signupPage(w http.ResponseWriter, r *http.Request, h *hosted) {
	d := signupData{}
	if h.pc != nil && h.pc.req != nil {
		d.Email = h.pc.req.data.LoginHint
	}
	s.renderSignup(w, r, h, http.StatusOK, r.URL.Query().Get("method"), "", d)
}

// signupSendCode sends the SMS code of a sign-up by phone (a form post,
// so it works without JavaScript; authpool.js counts the wait down).
func (s *Service) signupSendCode(w http.ResponseWriter, r *http.Request, h *hosted) {
	d := signupData{Phone: strings.TrimSpace(r.PostForm.Get("phone"))}
	if d.Phone == "" {
		s.renderSignup(w, r, h, http.StatusBadRequest, "phone", web.T(h.lang, "error.missing"), d)
		return
	}
	if !h.pool.Settings.RegisterByPhone {
		s.renderSignup(w, r, h, http.StatusForbidden, "phone", web.ErrorMessage(h.lang, userpool.Errorf(userpool.CodeRegistrationClosed, "registration_closed", "closed")), d)
		return
	}
	if err := s.d.Auth.SendSmsCode(r.Context(), s.hostedMeta(r, h), d.Phone); err != nil {
		s.renderSignup(w, r, h, statusOf(userpool.AsError(err)), "phone", s.userError(r, h, err), d)
		return
	}
	d.CodeSent, d.Wait = true, 60
	s.renderSignup(w, r, h, http.StatusOK, "phone", "", d)
}

// signupSubmit registers through the API's use cases and signs in.
func (s *Service) signupSubmit(w http.ResponseWriter, r *http.Request, h *hosted) {
	f := r.PostForm
	m := s.hostedMeta(r, h)
	opts := auth.RegisterOptions{ForceLogin: true}
	method := f.Get("method")
	d := signupData{Email: strings.TrimSpace(f.Get("email")), Username: strings.TrimSpace(f.Get("username")), Phone: strings.TrimSpace(f.Get("phone"))}
	pw := f.Get("password")
	var res *auth.Result
	var err error
	amr := []string{"pwd"}
	switch method {
	case "email":
		if d.Email == "" || pw == "" {
			s.renderSignup(w, r, h, http.StatusBadRequest, method, web.T(h.lang, "error.missing"), d)
			return
		}
		res, err = s.d.Auth.RegisterByEmail(r.Context(), m, d.Email, pw, userpool.Profile{}, opts)
	case "username":
		if d.Username == "" || pw == "" {
			s.renderSignup(w, r, h, http.StatusBadRequest, method, web.T(h.lang, "error.missing"), d)
			return
		}
		res, err = s.d.Auth.RegisterByUsername(r.Context(), m, d.Username, pw, userpool.Profile{}, opts)
	case "phone":
		code := strings.TrimSpace(f.Get("code"))
		if d.Phone == "" || code == "" {
			s.renderSignup(w, r, h, http.StatusBadRequest, method, web.T(h.lang, "error.missing"), d)
			return
		}
		amr = []string{"otp", "sms"}
		res, err = s.d.Auth.RegisterByPhoneCode(r.Context(), m, d.Phone, code, "", userpool.Profile{}, opts)
	default:
		s.renderSignup(w, r, h, http.StatusBadRequest, "", web.T(h.lang, "error.missing"), d)
		return
	}
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeMFARequired {
			// Registered; the login needs a second factor first.
			if h.pc != nil {
				s.mfaStep(w, r, h.pc, e, "password", signinData{})
				return
			}
			s.done(w, r, h, "signup.done_title", "signup.done_mfa", "signup.have_account", h.signinURL())
			return
		}
		if method == "phone" {
			d.CodeSent = true // keep the code field
		}
		s.renderSignup(w, r, h, statusOf(e), method, s.userError(r, h, err), d)
		return
	}
	if method == "email" {
		// The address is not proven by signing up: the mail's link proves
		// it. A refused send (its limits) does not undo the sign-up.
		if err := s.d.Auth.SendEmail(r.Context(), m, res.User.Email, string(auth.SceneVerifyEmail)); err != nil {
			s.d.Log.LogAttrs(r.Context(), slog.LevelWarn, "oidc: sign-up: the verification mail was not queued",
				slog.String("user_id", res.User.ID), slog.String("reason", userpool.AsError(err).Reason))
		}
	}
	if h.pc != nil {
		s.signedIn(w, r, h.pc, res, amr, "password", signinData{})
		return
	}
	s.startBrowserSession(w, r, h.p, res, amr)
	if h.returnTo != "" {
		http.Redirect(w, r, h.returnTo, http.StatusSeeOther)
		return
	}
	body := "signup.done_body"
	s.done(w, r, h, "signup.done_title", body, "", "")
}
