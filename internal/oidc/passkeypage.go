package oidc

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// Passkeys on the hosted pages (docs/MFA.md "Passkeys"). The browser's
// part is internal/web/static/passkey.js: it asks a "begin" route for a
// ceremony's options (a form post with the CSRF token, answered as JSON),
// hands them to navigator.credentials, and posts the answer in an
// ordinary form to the finishing route, which calls the API's own use
// cases: the passwordless sign-in (auth.FinishPasskeyLogin), the passkey
// second factor (auth.FinishPasskeyMFA) and registration on the account
// page's passkeys section (accountpasskeys.go).
const (
	pathPasskeyLogin      = "/login/passkey"
	pathPasskeyLoginBegin = "/login/passkey/begin"
	pathPasskeyMFA        = "/login/mfa/passkey"
	pathPasskeyMFABegin   = "/login/mfa/passkey/begin"
	pathPasskeys          = "/passkeys"
	pathPasskeysBegin     = "/passkeys/begin"
	pathPasskeysRemove    = "/passkeys/remove"
)

// passkeyPage serves the passkey routes; it reports whether sub was one.
func (s *Service) passkeyPage(w http.ResponseWriter, r *http.Request, p *poolOP, sub string) bool {
	var h func(http.ResponseWriter, *http.Request, *poolOP)
	switch sub {
	case pathPasskeys:
		if r.Method == http.MethodGet {
			h = s.passkeysPage
		} else {
			h = s.passkeysRegister
		}
	case pathPasskeyLogin:
		h = s.passkeyLoginSubmit
	case pathPasskeyLoginBegin:
		h = s.passkeyLoginBegin
	case pathPasskeyMFA:
		h = s.passkeyMFASubmit
	case pathPasskeyMFABegin:
		h = s.passkeyMFABegin
	case pathPasskeysBegin:
		h = s.passkeysBegin
	case pathPasskeysRemove:
		h = s.passkeysRemove
	default:
		return false
	}
	if r.Method != http.MethodPost && !(sub == pathPasskeys && r.Method == http.MethodGet) {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm+32<<10) // an authenticator's answer
	}
	h(w, r, p)
	return true
}

// writeOptions answers a begin route: the ceremony's options, or the
// error's message in the page's language.
func (s *Service) writeOptions(w http.ResponseWriter, r *http.Request, lang string, opts json.RawMessage, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal {
			s.d.Log.ErrorContext(r.Context(), "oidc: begin a passkey ceremony", slog.Any("error", err))
		}
		w.WriteHeader(statusOf(e))
		_ = json.NewEncoder(w).Encode(map[string]any{"code": int(e.Code), "message": web.ErrorMessage(lang, err)})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"options": opts})
}

// passkeyLoginBegin begins a passwordless sign-in for the page's request.
func (s *Service) passkeyLoginBegin(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	opts, err := s.d.Auth.BeginPasskeyLogin(r.Context(), s.meta(r, pc))
	s.writeOptions(w, r, pc.lang, opts, err)
}

// passkeyAMR is the amr of a passwordless sign-in: the passkey (hwk or
// swk) with user verification, two factors in one.
func passkeyAMR(res *auth.Result) []string {
	if res.Passkey == "" {
		return []string{"mfa"}
	}
	return []string{res.Passkey, "mfa"}
}

// passkeyLoginSubmit finishes a passwordless sign-in with the answer the
// script posted, and continues the authorization as a password would.
func (s *Service) passkeyLoginSubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	cred := r.PostForm.Get("credential")
	if cred == "" {
		s.renderSignin(w, r, pc, http.StatusBadRequest, "password", web.T(pc.lang, "error.missing"), signinData{})
		return
	}
	res, err := s.d.Auth.FinishPasskeyLogin(r.Context(), s.meta(r, pc), json.RawMessage(cred), auth.LoginOptions{})
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal {
			s.d.Log.ErrorContext(r.Context(), "oidc: passkey sign-in", slog.Any("error", err))
		}
		s.renderSignin(w, r, pc, statusOf(e), "password", web.ErrorMessage(pc.lang, err), signinData{})
		return
	}
	s.signedIn(w, r, pc, res, passkeyAMR(res), "password", signinData{})
}

// passkeyMFABegin begins the passkey second factor of the page's MFA token.
func (s *Service) passkeyMFABegin(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	opts, err := s.d.Auth.BeginPasskeyMFA(r.Context(), s.meta(r, pc), r.PostForm.Get("mfaToken"))
	s.writeOptions(w, r, pc.lang, opts, err)
}

// passkeyMFASubmit completes the login with the passkey's answer.
func (s *Service) passkeyMFASubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, tok, pend, ok := s.mfaForm(w, r, p)
	if !ok {
		return
	}
	cred := r.PostForm.Get("credential")
	if cred == "" {
		s.renderMFA(w, r, pc, http.StatusBadRequest, web.T(pc.lang, "error.missing"), tok, pend.Factors, "", "")
		return
	}
	res, err := s.d.Auth.FinishPasskeyMFA(r.Context(), s.meta(r, pc), tok, json.RawMessage(cred))
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeMFATokenInvalid || e.Code == userpool.CodeUserBlocked || e.Code == userpool.CodeInternal {
			s.mfaFailed(w, r, pc, err)
			return
		}
		if _, err2 := s.d.Auth.PendingMFA(r.Context(), s.meta(r, pc), tok); err2 != nil {
			s.mfaFailed(w, r, pc, err2)
			return
		}
		s.renderMFA(w, r, pc, statusOf(e), web.ErrorMessage(pc.lang, err), tok, pend.Factors, "", "")
		return
	}
	amr := amrOf(pend.Method, "")
	if res.Passkey != "" {
		amr = append(amr, res.Passkey)
	}
	s.signedIn(w, r, pc, res, append(amr, "mfa"), "password", signinData{})
}

// --- passkeys of a signed-in browser: the account page's section ---

// passkeyRow is one passkey as the account page lists it.
type passkeyRow struct {
	ID, Name, Created, LastUsed string
}

func (s *Service) passkeysMeta(r *http.Request, p *poolOP) auth.Meta {
	return auth.Meta{PoolID: p.poolID, ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent(), AcceptLanguage: r.Header.Get("Accept-Language")}
}

// passkeysPage is the former /passkeys page: the account page's passkeys
// section replaced it (a browser without a session is sent to sign in
// from there).
func (s *Service) passkeysPage(w http.ResponseWriter, r *http.Request, p *poolOP) {
	http.Redirect(w, r, p.prefix+pathAccount+"#passkeys", http.StatusSeeOther)
}

// passkeysForm reads a post of the /passkeys page: the form, its CSRF
// token and the browser session.
func (s *Service) passkeysForm(w http.ResponseWriter, r *http.Request, p *poolOP) (*browser, bool) {
	lang := web.Lang(r, "")
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, p, lang, http.StatusBadRequest, web.T(lang, "error.request"))
		return nil, false
	}
	if !s.csrf.Check(r) {
		s.errorPage(w, r, p, lang, http.StatusForbidden, web.T(lang, "error.csrf"))
		return nil, false
	}
	b := s.browserSession(r, p.poolID)
	if b == nil {
		s.message(w, r, p, http.StatusUnauthorized, "passkeys.title", "passkeys.signin_first")
		return nil, false
	}
	return b, true
}

func (s *Service) passkeysBegin(w http.ResponseWriter, r *http.Request, p *poolOP) {
	b, ok := s.passkeysForm(w, r, p)
	if !ok {
		return
	}
	opts, err := s.d.Auth.BeginPasskeyRegistration(r.Context(), s.passkeysMeta(r, p), b.token)
	s.writeOptions(w, r, web.Lang(r, ""), opts, err)
}

// passkeysRegister and passkeysRemove are the former page's forms, kept
// for a page still open in a browser: they are the account page's.
func (s *Service) passkeysRegister(w http.ResponseWriter, r *http.Request, p *poolOP) {
	s.accountPost(w, r, p, (*Service).accountPasskeyAdd)
}

func (s *Service) passkeysRemove(w http.ResponseWriter, r *http.Request, p *poolOP) {
	s.accountPost(w, r, p, (*Service).accountPasskeyRemove)
}
