package oidc

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The enrolment step of the hosted sign-in (docs/MFA.md, "On the hosted
// sign-in page"): a user who must pass a second factor but has none
// (pool policy required, the administrator's flag, acr_values) enrols an
// authenticator app with the MFA token of the first factor, through the
// API's own use cases (auth.EnrolTOTP and auth.ConfirmTOTP with the MFA
// token): the token rides a hidden field of CSRF-checked forms, never a
// URL; a wrong first code counts on the token's 5 attempts and on the
// account like any wrong second factor; the right one completes the login
// once. Then the ten recovery codes are shown, once, and "I saved them"
// continues the authorization (consent or the app). Where passkeys are
// on, the step also offers "Use a passkey instead": passkey.js begins a
// registration with the MFA token (auth.BeginPasskeyEnrolmentMFA) and
// posts the authenticator's answer to pathMFAEnrolPasskey, whose
// auth.FinishPasskeyEnrolmentMFA stores the passkey and completes the
// login (no recovery codes: they go with the authenticator app).

const (
	pathMFAEnrol     = "/login/mfa/enrol"
	pathMFAEnrolDone = "/login/mfa/enrol/done"
	// The passkey instead of the app: begin (JSON options) and finish.
	pathMFAEnrolPasskey      = "/login/mfa/enrol/passkey"
	pathMFAEnrolPasskeyBegin = "/login/mfa/enrol/passkey/begin"
)

type mfaEnrolData struct {
	Action, AuthRequestID, MFAToken, AppName, RestartURL string
	QR                                                   template.URL // a data: URL of the PNG the use case drew
	Secret                                               string
	AttemptsLeft                                         int // after a wrong code; 0: not shown
	// Passkeys: the server offers them, so the step offers one instead.
	Passkeys                          bool
	PasskeyAction, PasskeyBeginAction string
}

type mfaRecoveryData struct {
	Action, AuthRequestID string
	RecoveryCodes         []string
}

// mfaEnrolPage serves the enrolment step's posts; it reports whether sub
// was one of its routes.
func (s *Service) mfaEnrolPage(w http.ResponseWriter, r *http.Request, p *poolOP, sub string) bool {
	var h func(http.ResponseWriter, *http.Request, *poolOP)
	limit := int64(maxForm)
	switch sub {
	case pathMFAEnrol:
		h = s.mfaEnrolSubmit
	case pathMFAEnrolDone:
		h = s.mfaEnrolDone
	case pathMFAEnrolPasskeyBegin:
		h = s.mfaEnrolPasskeyBegin
	case pathMFAEnrolPasskey:
		h, limit = s.mfaEnrolPasskeySubmit, maxForm+32<<10 // an authenticator's answer
	default:
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	h(w, r, p)
	return true
}

// mfaEnrolStart begins the enrolment of the MFA token's user: a new
// secret (auth.EnrolTOTP; its recovery codes are not shown, new ones are
// made once the factor works) and the page that shows it.
func (s *Service) mfaEnrolStart(w http.ResponseWriter, r *http.Request, pc *pageCtx, tok string) {
	e, err := s.d.Auth.EnrolTOTP(r.Context(), s.meta(r, pc), "", tok)
	if err != nil {
		s.mfaFailed(w, r, pc, err)
		return
	}
	s.renderMFAEnrol(w, r, pc, http.StatusOK, "", tok, e, 0)
}

func (s *Service) renderMFAEnrol(w http.ResponseWriter, r *http.Request, pc *pageCtx, status int, msg, tok string, e *auth.TOTPEnrolment, left int) {
	s.pages.Render(w, r, status, "mfaenrol", web.Page{
		Lang: pc.lang, Brand: web.BrandOf(pc.pool), CSRF: s.csrf.Token(w, r), Error: msg,
		Data: mfaEnrolData{
			Action: pc.p.prefix + pathMFAEnrol, AuthRequestID: pc.requestID(), MFAToken: tok, AppName: pc.appName(),
			RestartURL: pc.p.prefix + pathLogin + "?authRequestID=" + url.QueryEscape(pc.requestID()),
			QR:         qrURL(e.QRPNG), Secret: e.Secret, AttemptsLeft: left,
			Passkeys:      s.d.Auth.PasskeysOn(),
			PasskeyAction: pc.p.prefix + pathMFAEnrolPasskey, PasskeyBeginAction: pc.p.prefix + pathMFAEnrolPasskeyBegin,
		},
	})
}

// mfaEnrolAgain shows the enrolment step again with msg and the same
// TOTP secret (the token still lives).
func (s *Service) mfaEnrolAgain(w http.ResponseWriter, r *http.Request, pc *pageCtx, m auth.Meta, tok string, status int, msg string, left int) {
	e, err := s.d.Auth.PendingTOTPEnrolment(r.Context(), m, tok)
	if err != nil {
		s.mfaFailed(w, r, pc, err)
		return
	}
	s.renderMFAEnrol(w, r, pc, status, msg, tok, e, left)
}

// mfaEnrolSubmit confirms the enrolment with the app's first code, which
// also completes the login (auth.ConfirmTOTP with the MFA token).
func (s *Service) mfaEnrolSubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p) // CSRF first: a refused post spends no attempt
	if !ok {
		return
	}
	m := s.meta(r, pc)
	tok := r.PostForm.Get("mfaToken")
	pend, err := s.d.Auth.PendingMFA(r.Context(), m, tok)
	if err != nil {
		s.mfaFailed(w, r, pc, err)
		return
	}
	again := func(status int, msg string, left int) { s.mfaEnrolAgain(w, r, pc, m, tok, status, msg, left) }
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		again(http.StatusBadRequest, web.T(pc.lang, "error.missing"), 0)
		return
	}
	res, err := s.d.Auth.ConfirmTOTP(r.Context(), m, "", tok, code)
	if err != nil {
		e := userpool.AsError(err)
		if e.Code != userpool.CodeMFAWrongCode {
			s.mfaFailed(w, r, pc, err) // dead or used token, a factor enrolled meanwhile, blocked, ...
			return
		}
		left, _ := e.Data["attemptsLeft"].(int)
		if _, err2 := s.d.Auth.PendingMFA(r.Context(), m, tok); err2 != nil || left <= 0 {
			if err2 == nil {
				err2 = userpool.ErrMFATokenInvalid
			}
			s.mfaFailed(w, r, pc, err2) // that was the last attempt
			return
		}
		again(statusOf(e), web.ErrorMessage(pc.lang, err), left)
		return
	}
	amr := amrOf(pend.Method, userpool.FactorTOTP)
	s.startBrowserSession(w, r, pc.p, res, amr)
	// The codes made with the secret were never shown: make the ten the
	// user sees now (the factor is confirmed, the new session holds it).
	codes, err := s.d.Auth.RegenerateRecoveryCodes(r.Context(), m, res.Token)
	if err != nil {
		s.d.Log.ErrorContext(r.Context(), "oidc: recovery codes after enrolment", slog.Any("error", err))
		s.continueSignedIn(w, r, pc, res, amr, "password", signinData{})
		return
	}
	s.pages.Render(w, r, http.StatusOK, "mfarecovery", web.Page{
		Lang: pc.lang, Brand: web.BrandOf(pc.pool), CSRF: s.csrf.Token(w, r),
		Data: mfaRecoveryData{Action: pc.p.prefix + pathMFAEnrolDone, AuthRequestID: pc.requestID(), RecoveryCodes: codes},
	})
}

// mfaEnrolDone ("I saved them") continues the authorization with the
// browser session the enrolment began, exactly as a returning browser
// would: consent or the redirect to the app.
func (s *Service) mfaEnrolDone(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	b := s.browserSession(r, p.poolID)
	if b == nil || (pc.req != nil && !s.sessionFits(pc, b)) {
		s.renderSignin(w, r, pc, http.StatusForbidden, "password", web.T(pc.lang, "error.request"), signinData{})
		return
	}
	if pc.req == nil {
		http.Redirect(w, r, p.prefix+pathAccount, http.StatusSeeOther)
		return
	}
	s.finish(w, r, pc, b)
}

// mfaEnrolPasskeyBegin begins registering a passkey with the page's MFA
// token (auth.BeginPasskeyEnrolmentMFA: only while the user has no
// factor; it counts no attempt), answered as JSON to passkey.js.
func (s *Service) mfaEnrolPasskeyBegin(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	opts, err := s.d.Auth.BeginPasskeyEnrolmentMFA(r.Context(), s.meta(r, pc), r.PostForm.Get("mfaToken"))
	s.writeOptions(w, r, pc.lang, opts, err)
}

// mfaEnrolPasskeySubmit stores the passkey whose answer passkey.js posted
// and completes the login (auth.FinishPasskeyEnrolmentMFA, one attempt
// of the token). An answer that does not verify shows the step again
// (the same TOTP secret) with the attempts left; a dead token, or a
// factor enrolled meanwhile, goes back to the sign-in form.
func (s *Service) mfaEnrolPasskeySubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p) // CSRF first: a refused post spends no attempt
	if !ok {
		return
	}
	m := s.meta(r, pc)
	tok := r.PostForm.Get("mfaToken")
	pend, err := s.d.Auth.PendingMFA(r.Context(), m, tok)
	if err != nil {
		s.mfaFailed(w, r, pc, err)
		return
	}
	again := func(status int, msg string, left int) { s.mfaEnrolAgain(w, r, pc, m, tok, status, msg, left) }
	cred := r.PostForm.Get("credential")
	if cred == "" {
		again(http.StatusBadRequest, web.T(pc.lang, "error.missing"), 0)
		return
	}
	res, err := s.d.Auth.FinishPasskeyEnrolmentMFA(r.Context(), m, tok, "", json.RawMessage(cred))
	if err != nil {
		e := userpool.AsError(err)
		if e.Code != userpool.CodePasskeyInvalid && e.Code != userpool.CodeInvalidArgument {
			s.mfaFailed(w, r, pc, err) // dead or used token, a factor enrolled meanwhile, blocked, ...
			return
		}
		left, _ := e.Data["attemptsLeft"].(int)
		if _, err2 := s.d.Auth.PendingMFA(r.Context(), m, tok); err2 != nil {
			s.mfaFailed(w, r, pc, err2) // that was the last attempt
			return
		}
		again(statusOf(e), web.ErrorMessage(pc.lang, err), left)
		return
	}
	amr := amrOf(pend.Method, "")
	if res.Passkey != "" {
		amr = append(amr, res.Passkey)
	}
	s.signedIn(w, r, pc, res, append(amr, "mfa"), "password", signinData{})
}
