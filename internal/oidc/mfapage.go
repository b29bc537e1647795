package oidc

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The second-factor step of the hosted sign-in (docs/MFA.md). A first
// factor answering 1635 shows this page instead of the app; its forms
// carry the MFA token in a hidden field (never in a URL), so each post is
// CSRF-checked like every form, and complete the login through the API's
// own use case (auth.VerifyMFA): its attempt limit, replay rule,
// pipelines, webhooks and login count apply once. The first factor's
// method is read from the stored challenge, never from the form, so the
// amr the ID token carries cannot be chosen by the browser.

type mfaData struct {
	Action, SendAction, AuthRequestID, MFAToken, AppName, RestartURL string
	Has                                                              map[string]bool
	Sent, Open                                                       string
	// The passkey factor's routes (passkeypage.go).
	PasskeyAction, PasskeyBeginAction string
}

// mfaStep answers a first factor that needs a second one: the code page,
// or (no factor enrolled, the pool requires one) the enrolment step
// (mfaenrolpage.go).
func (s *Service) mfaStep(w http.ResponseWriter, r *http.Request, pc *pageCtx, e *userpool.Error, mode string, d signinData) {
	tok, _ := e.Data["mfaToken"].(string)
	enrol, _ := e.Data["enrolmentRequired"].(bool)
	factors, _ := e.Data["factors"].([]string)
	if tok == "" {
		s.mfaFailed(w, r, pc, userpool.ErrMFATokenInvalid)
		return
	}
	if enrol || len(factors) == 0 {
		s.mfaEnrolStart(w, r, pc, tok)
		return
	}
	s.renderMFA(w, r, pc, http.StatusOK, "", tok, factors, "", "")
}

func (s *Service) renderMFA(w http.ResponseWriter, r *http.Request, pc *pageCtx, status int, msg, tok string, factors []string, sent, open string) {
	has := map[string]bool{}
	for _, f := range factors {
		has[f] = true
	}
	s.pages.Render(w, r, status, "mfa", web.Page{
		Lang: pc.lang, Brand: web.BrandOf(pc.pool), CSRF: s.csrf.Token(w, r), Error: msg,
		Data: mfaData{
			Action: pc.p.prefix + pathMFA, SendAction: pc.p.prefix + pathMFASend, AuthRequestID: pc.requestID(),
			MFAToken: tok, AppName: pc.appName(), Has: has, Sent: sent, Open: open,
			RestartURL:    pc.p.prefix + pathLogin + "?authRequestID=" + url.QueryEscape(pc.requestID()),
			PasskeyAction: pc.p.prefix + pathPasskeyMFA, PasskeyBeginAction: pc.p.prefix + pathPasskeyMFABegin,
		},
	})
}

// amrOf is RFC 8176's amr of a login by first-factor method and second
// factor: pwd or sms+otp first; otp for an authenticator app, recovery
// or email code, sms+otp for an SMS code; mfa for two factors.
func amrOf(method, factor string) []string {
	var amr []string
	if method == "phone-code" {
		amr = []string{"otp", "sms"}
	} else if method == "social" {
		amr = []string{"fed"} // federated: an upstream identity provider signed the user in
	} else {
		amr = []string{"pwd"}
	}
	add := func(v string) {
		if !slices.Contains(amr, v) {
			amr = append(amr, v)
		}
	}
	if factor != "" {
		add("otp")
		if factor == userpool.FactorSMS {
			add("sms")
		}
		add("mfa")
	}
	return amr
}

// mfaForm reads a second-factor post: the page, its MFA token and what
// the token still allows. A token that is used, expired or dead sends the
// user back to the sign-in form.
func (s *Service) mfaForm(w http.ResponseWriter, r *http.Request, p *poolOP) (*pageCtx, string, *auth.MFAPending, bool) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return nil, "", nil, false
	}
	tok := r.PostForm.Get("mfaToken")
	pend, err := s.d.Auth.PendingMFA(r.Context(), s.meta(r, pc), tok)
	if err != nil {
		s.mfaFailed(w, r, pc, err)
		return nil, "", nil, false
	}
	return pc, tok, pend, true
}

func (s *Service) mfaFailed(w http.ResponseWriter, r *http.Request, pc *pageCtx, err error) {
	e := userpool.AsError(err)
	if e.Code == userpool.CodeInternal {
		s.d.Log.ErrorContext(r.Context(), "oidc: second factor", slog.Any("error", err))
	}
	s.renderSignin(w, r, pc, statusOf(e), "password", web.ErrorMessage(pc.lang, err), signinData{})
}

// mfaSubmit completes the login with a second factor.
func (s *Service) mfaSubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, tok, pend, ok := s.mfaForm(w, r, p)
	if !ok {
		return
	}
	kind, code := r.PostForm.Get("kind"), strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		s.renderMFA(w, r, pc, http.StatusBadRequest, web.T(pc.lang, "error.missing"), tok, pend.Factors, "", kind)
		return
	}
	res, err := s.d.Auth.VerifyMFA(r.Context(), s.meta(r, pc), tok, kind, code)
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeMFATokenInvalid || e.Code == userpool.CodeUserBlocked || e.Code == userpool.CodeInternal {
			s.mfaFailed(w, r, pc, err)
			return
		}
		// Still alive (a wrong code counts an attempt): ask again, unless
		// that was the last attempt.
		if _, err2 := s.d.Auth.PendingMFA(r.Context(), s.meta(r, pc), tok); err2 != nil {
			s.mfaFailed(w, r, pc, err2)
			return
		}
		s.renderMFA(w, r, pc, statusOf(e), web.ErrorMessage(pc.lang, err), tok, pend.Factors, "", kind)
		return
	}
	s.signedIn(w, r, pc, res, amrOf(pend.Method, kind), "password", signinData{})
}

// mfaSend sends the code of the SMS or email factor to the user's own
// verified phone or address.
func (s *Service) mfaSend(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, tok, pend, ok := s.mfaForm(w, r, p)
	if !ok {
		return
	}
	kind := r.PostForm.Get("kind")
	if err := s.d.Auth.SendMFACode(r.Context(), s.meta(r, pc), tok, kind); err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal {
			s.d.Log.ErrorContext(r.Context(), "oidc: send a second-factor code", slog.Any("error", err))
		}
		s.renderMFA(w, r, pc, statusOf(e), web.ErrorMessage(pc.lang, err), tok, pend.Factors, "", "")
		return
	}
	s.renderMFA(w, r, pc, http.StatusOK, "", tok, pend.Factors, kind, kind)
}

// The acr_values that ask for multi-factor authentication (docs/OIDC.md):
// a request naming one gets the second-factor step whatever the pool's
// MFA policy, and its ID token carries that value as acr.
const (
	ACRMFA             = "mfa"
	ACRPAPEMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
)

// mfaACR is the first of acr (a request's acr_values) asking for MFA.
func mfaACR(acr []string) string {
	for _, v := range acr {
		if v == ACRMFA || v == ACRPAPEMultiFactor {
			return v
		}
	}
	return ""
}
