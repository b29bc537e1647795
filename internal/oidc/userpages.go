package oidc

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The hosted user pages (docs/PAGES.md): sign-up, password reset and
// email verification, under the same per-pool prefix as the sign-in page
// ({publicUrl}/oidc for the default pool, {publicUrl}/oidc/pools/{poolId}
// for the others). Like the sign-in page they are thin: they parse the
// form, call the API's own use cases (internal/auth: the same policy,
// rate limits, pipelines, webhooks and audit events), and render.
//
// A page knows where the user came from in one of two ways, carried in
// its links and forms: the OpenID Connect request the sign-in page was
// showing (authRequestID: after sign-up the request is completed), or an
// application's client_id with a return_to URL that must be one of the
// redirect URIs the application registered (no open redirect).
const (
	pathSignupCode      = "/signup/code"
	pathResetCode       = "/reset/code"
	pathVerifyEmail     = "/verify-email"
	pathVerifyEmailSend = "/verify-email/send"
)

// maxReturnTo bounds a return_to URL.
const maxReturnTo = 2048

// VerifyEmailLink is the link a VERIFY_EMAIL mail carries: the pool's
// hosted verification page with the address and the code. publicBase has
// no trailing slash; the default pool's pages are under Prefix.
func VerifyEmailLink(publicBase, poolID string, isDefault bool, email, code string) string {
	prefix := Prefix
	if !isDefault {
		prefix = PoolsPrefix + url.PathEscape(poolID)
	}
	return publicBase + prefix + pathVerifyEmail + "?" + url.Values{"email": {email}, "code": {code}}.Encode()
}

// userPage serves the hosted user pages; it reports whether sub was one.
func (s *Service) userPage(w http.ResponseWriter, r *http.Request, p *poolOP, sub string) bool {
	var get, post func(http.ResponseWriter, *http.Request, *hosted)
	switch sub {
	case pathSignup:
		get, post = s.signupPage, s.signupSubmit
	case pathSignupCode:
		post = s.signupSendCode
	case pathReset:
		get, post = s.resetPage, s.resetSubmit
	case pathResetCode:
		post = s.resetSendCode
	case pathVerifyEmail:
		get = s.verifyEmailPage
	case pathVerifyEmailSend:
		post = s.verifyEmailSend
	default:
		return false
	}
	switch {
	case r.Method == http.MethodGet && get != nil:
		if h, ok := s.hostedFrom(w, r, p, r.URL.Query()); ok {
			get(w, r, h)
		}
	case r.Method == http.MethodPost && post != nil:
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if h, ok := s.hostedForm(w, r, p); ok {
			post(w, r, h)
		}
	default:
		allow := []string{}
		if get != nil {
			allow = append(allow, "GET")
		}
		if post != nil {
			allow = append(allow, "POST")
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
	return true
}

// hosted is what a hosted user page knows of its request.
type hosted struct {
	p         *poolOP
	pool      *userpool.Pool
	lang      string
	uiLocales string
	// pc is the OpenID Connect request the user came from (nil: none).
	pc *pageCtx
	// app and returnTo: an application's page to go back to, checked
	// against its registered redirect URIs (both empty: none).
	app      *userpool.App
	returnTo string
}

// field is a hidden form field that carries the page's origin.
type field struct{ Name, Value string }

// carry is what the page's forms and links pass on.
func (h *hosted) carry() []field {
	var f []field
	switch {
	case h.pc != nil:
		f = append(f, field{"authRequestID", h.pc.requestID()})
	case h.app != nil:
		f = append(f, field{"client_id", h.app.ID}, field{"return_to", h.returnTo})
	}
	if h.uiLocales != "" {
		f = append(f, field{"ui_locales", h.uiLocales})
	}
	return f
}

// url is the pool's page at sub with the carried parameters and extra.
func (h *hosted) url(sub string, extra ...string) string {
	q := url.Values{}
	for _, f := range h.carry() {
		q.Set(f.Name, f.Value)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u := h.p.prefix + sub
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// signinURL is where "sign in" leads: the request's sign-in page, or the
// application's return URL (which starts its own sign-in), or nothing.
func (h *hosted) signinURL() string {
	switch {
	case h.pc != nil:
		return h.url(pathLogin)
	case h.returnTo != "":
		return h.returnTo
	}
	return ""
}

// hostedFrom reads the page's origin from vals (the query of a GET, the
// form of a POST). An unknown or finished request, or a return URL the
// application did not register, is refused with an error page.
func (s *Service) hostedFrom(w http.ResponseWriter, r *http.Request, p *poolOP, vals url.Values) (*hosted, bool) {
	pool, err := s.d.Store.GetPool(r.Context(), p.poolID)
	if err != nil {
		s.d.Log.ErrorContext(r.Context(), "oidc: hosted page: read the pool", slog.Any("error", err))
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusInternalServerError, web.ErrorMessage(web.Lang(r, ""), userpool.Internal(err)))
		return nil, false
	}
	h := &hosted{p: p, pool: pool}
	if ul := vals.Get("ui_locales"); len(ul) <= 64 {
		h.uiLocales = ul
	}
	lang := web.Lang(r, h.uiLocales)
	switch id, rt, cid := vals.Get("authRequestID"), vals.Get("return_to"), vals.Get("client_id"); {
	case id != "":
		pc, ok := s.load(r, p, id)
		if !ok {
			s.errorPage(w, r, p, lang, http.StatusBadRequest, web.T(lang, "error.request"))
			return nil, false
		}
		h.pc = pc
		if h.uiLocales == "" {
			lang = pc.lang
		}
	case rt != "" || cid != "":
		app, err := p.store.app(r.Context(), cid)
		if err != nil || len(rt) > maxReturnTo || !userpool.MatchRedirectURI(app, rt) {
			s.errorPage(w, r, p, lang, http.StatusBadRequest, web.T(lang, "error.return_to"))
			return nil, false
		}
		h.app, h.returnTo = app, rt
	}
	h.lang = lang
	return h, true
}

// hostedForm parses a hosted page's form and checks its CSRF token.
func (s *Service) hostedForm(w http.ResponseWriter, r *http.Request, p *poolOP) (*hosted, bool) {
	if err := r.ParseForm(); err != nil {
		lang := web.Lang(r, "")
		s.errorPage(w, r, p, lang, http.StatusBadRequest, web.T(lang, "error.too_large"))
		return nil, false
	}
	h, ok := s.hostedFrom(w, r, p, r.PostForm)
	if !ok {
		return nil, false
	}
	if !s.csrf.Check(r) {
		s.errorPage(w, r, p, h.lang, http.StatusForbidden, web.T(h.lang, "error.csrf"))
		return nil, false
	}
	return h, true
}

// meta is the use cases' view of the request.
func (s *Service) hostedMeta(r *http.Request, h *hosted) auth.Meta {
	m := auth.Meta{PoolID: h.p.poolID, ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent(), AcceptLanguage: h.lang}
	switch {
	case h.pc != nil && h.pc.req != nil: // nil: the account page's own sign-in
		m.AppID, m.RequireMFA = h.pc.app.ID, h.pc.req.data.ACR != ""
	case h.app != nil:
		m.AppID = h.app.ID
	}
	return m
}

// render shows a hosted page.
func (s *Service) renderHosted(w http.ResponseWriter, r *http.Request, h *hosted, status int, name, msg string, data any) {
	s.pages.Render(w, r, status, name, web.Page{
		Lang: h.lang, Brand: web.BrandOf(h.pool), CSRF: s.csrf.Token(w, r), Error: msg, Data: data,
	})
}

// done shows the end of a flow: a title, a text and a link onward.
func (s *Service) done(w http.ResponseWriter, r *http.Request, h *hosted, title, body, linkText, link string) {
	s.renderHosted(w, r, h, http.StatusOK, "done", "", struct{ Title, Body, LinkText, Link string }{title, body, linkText, link})
}

// userError is the page's message for a use case's error: the pool's
// password rule that failed, a pipeline's own refusal message, or the
// message of the code (with when to try again).
func (s *Service) userError(r *http.Request, h *hosted, err error) string {
	e := userpool.AsError(err)
	switch e.Code {
	case userpool.CodeInternal, userpool.CodeUnavailable:
		s.d.Log.ErrorContext(r.Context(), "oidc: hosted page", slog.Any("error", err))
	case userpool.CodePasswordTooWeak:
		switch e.Reason {
		case "password_too_short":
			return fmt.Sprintf(web.T(h.lang, "pw.too_short"), h.pool.Settings.PasswordMinLength)
		case "password_too_long", "password_invalid":
			return web.T(h.lang, "pw.too_long")
		case "password_contains_identity":
			return web.T(h.lang, "pw.identity")
		case "password_too_common":
			return web.T(h.lang, "pw.common")
		}
	case userpool.CodePipelineRejected:
		// The pool's own rule wrote this message for its users.
		if e.Message != "" && len(e.Message) <= 500 {
			return e.Message
		}
	}
	return web.ErrorMessage(h.lang, err)
}

// passwordRules are the pool's password rules, shown beside a new
// password field and checked as the user types (signup.js); the server
// checks them again (auth's password policy).
type passwordRules struct {
	MinLength                       int
	Title, Length, Identity, Common string
}

func rulesOf(set userpool.PoolSettings, lang string) passwordRules {
	r := passwordRules{MinLength: set.PasswordMinLength, Title: web.T(lang, "rules.title"),
		Length: fmt.Sprintf(web.T(lang, "rules.length"), set.PasswordMinLength), Identity: web.T(lang, "rules.identity")}
	if set.PasswordRejectCommon {
		r.Common = web.T(lang, "rules.common")
	}
	return r
}

// startBrowserSession makes a login the browser's session: the record of
// its factors (for the ID token's amr) and the pool's cookie.
func (s *Service) startBrowserSession(w http.ResponseWriter, r *http.Request, p *poolOP, res *auth.Result, amr []string) {
	if err := s.d.Store.CreateOIDCBrowserSession(r.Context(), &userpool.OIDCBrowserSession{
		SessionID: sessionIDOf(s, r, p, res), PoolID: p.poolID, UserID: res.User.ID, AMR: amr, AuthTime: s.d.Now().UTC(), ExpiresAt: res.TokenExpires,
	}); err != nil {
		s.d.Log.ErrorContext(r.Context(), "oidc: record the browser session", slog.Any("error", err))
	}
	s.setSessionCookie(w, p, res)
}

// clearSessionCookie removes the pool's browser-session cookie.
func (s *Service) clearSessionCookie(w http.ResponseWriter, p *poolOP) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(p.poolID), Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}
