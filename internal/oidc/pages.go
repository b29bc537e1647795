package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The hosted pages of the login step, under each pool's prefix.
const (
	pathLogin     = "/login"
	pathSendCode  = "/login/code"
	pathConsent   = "/consent"
	pathLoggedOut = "/logged-out"
	pathSignup    = "/signup"
	pathReset     = "/reset"
	pathMFA       = "/login/mfa"
	pathMFASend   = "/login/mfa/code"
)

// maxForm bounds a page's form body.
const maxForm = 16 << 10

// page serves the hosted pages; it reports whether sub was one.
func (s *Service) page(w http.ResponseWriter, r *http.Request, p *poolOP, sub string) bool {
	if s.userPage(w, r, p, sub) { // sign-up, reset, verification (userpages.go)
		return true
	}
	if sub == pathAccount || strings.HasPrefix(sub, pathAccount+"/") {
		return s.accountPage(w, r, p, sub) // account.go
	}
	var h func(http.ResponseWriter, *http.Request, *poolOP)
	switch {
	case sub == pathLogin && r.Method == http.MethodGet:
		h = s.loginPage
	case sub == pathLogin && r.Method == http.MethodPost:
		h = s.loginSubmit
	case sub == pathSendCode && r.Method == http.MethodPost:
		h = s.sendCode
	case sub == pathMFA && r.Method == http.MethodPost:
		h = s.mfaSubmit
	case sub == pathMFASend && r.Method == http.MethodPost:
		h = s.mfaSend
	case sub == pathSocial && r.Method == http.MethodPost:
		h = s.socialStart
	case sub == pathConsent && r.Method == http.MethodPost:
		h = s.consentSubmit
	case sub == pathLoggedOut && r.Method == http.MethodGet:
		h = func(w http.ResponseWriter, r *http.Request, p *poolOP) {
			s.message(w, r, p, http.StatusOK, "loggedout.title", "loggedout.body")
		}
	case sub == pathMFA || sub == pathMFASend || sub == pathSocial:
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	case sub == pathLogin || sub == pathSendCode || sub == pathConsent || sub == pathLoggedOut:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	default:
		return s.passkeyPage(w, r, p, sub) // passkeypage.go
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	h(w, r, p)
	return true
}

// pageCtx is what a page knows of its request. The sign-in of the
// account page (authRequestID accountRequest) has no request and no app:
// req and app are nil, and a completed sign-in goes to the account page.
type pageCtx struct {
	p    *poolOP
	pool *userpool.Pool
	req  *authRequest
	app  *userpool.App
	lang string
}

// requestID is what the page's forms carry as authRequestID.
func (pc *pageCtx) requestID() string {
	if pc.req == nil {
		return accountRequest
	}
	return pc.req.GetID()
}

func (pc *pageCtx) appName() string {
	if pc.app == nil {
		return ""
	}
	return pc.app.Name
}

func (s *Service) brand(ctx context.Context, poolID string) (web.Brand, *userpool.Pool) {
	pool, err := s.d.Store.GetPool(ctx, poolID)
	if err != nil {
		return web.Brand{Name: "authpool"}, nil
	}
	return web.BrandOf(pool), pool
}

func (s *Service) message(w http.ResponseWriter, r *http.Request, p *poolOP, status int, title, body string) {
	b, _ := s.brand(r.Context(), p.poolID)
	s.pages.Render(w, r, status, "message", web.Page{Lang: web.Lang(r, r.URL.Query().Get("ui_locales")), Brand: b,
		Data: struct{ Title, Body string }{title, body}})
}

// errorPage shows an error on the page: a request that cannot be trusted
// to redirect (unknown, expired) is never redirected.
func (s *Service) errorPage(w http.ResponseWriter, r *http.Request, p *poolOP, lang string, status int, msg string) {
	b, _ := s.brand(r.Context(), p.poolID)
	s.pages.Render(w, r, status, "message", web.Page{Lang: lang, Brand: b, Error: msg, Data: struct{ Title, Body string }{"error.title", ""}})
}

// load reads the auth request the page is for.
func (s *Service) load(r *http.Request, p *poolOP, id string) (*pageCtx, bool) {
	if id == accountRequest {
		pool, err := s.d.Store.GetPool(r.Context(), p.poolID)
		if err != nil {
			return nil, false
		}
		return &pageCtx{p: p, pool: pool, lang: web.Lang(r, r.URL.Query().Get("ui_locales"))}, true
	}
	req, err := p.store.authRequest(r.Context(), id)
	if err != nil || req.data.Done {
		return nil, false
	}
	app, err := p.store.app(r.Context(), req.GetClientID())
	if err != nil {
		return nil, false
	}
	pool, err := s.d.Store.GetPool(r.Context(), p.poolID)
	if err != nil {
		return nil, false
	}
	return &pageCtx{p: p, pool: pool, req: req, app: app, lang: web.Lang(r, req.data.UILocales)}, true
}

func (s *Service) meta(r *http.Request, pc *pageCtx) auth.Meta {
	m := auth.Meta{
		PoolID: pc.p.poolID, ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent(),
		AcceptLanguage: r.Header.Get("Accept-Language"),
	}
	if pc.req != nil {
		m.AppID, m.RequireMFA = pc.app.ID, pc.req.data.ACR != ""
	}
	return m
}

// --- the browser session ---

// cookieName is the pool's browser-session cookie.
func cookieName(poolID string) string {
	h := sha256.Sum256([]byte(poolID))
	return "authpool_session_" + hex.EncodeToString(h[:8])
}

// browser is a valid browser session.
type browser struct {
	token    string
	sess     *userpool.Session
	user     *userpool.User
	authTime time.Time
	amr      []string
}

// browserSession reads the pool's cookie: an authpool session token the
// sign-in page issued, checked like any token (alive session, user not
// blocked).
func (s *Service) browserSession(r *http.Request, poolID string) *browser {
	ck, err := r.Cookie(cookieName(poolID))
	if err != nil || ck.Value == "" || len(ck.Value) > 4096 {
		return nil
	}
	pr, u, err := s.d.Auth.Authenticate(r.Context(), auth.Meta{PoolID: poolID}, ck.Value)
	if err != nil {
		return nil
	}
	b := &browser{token: ck.Value, sess: pr.Session, user: u, authTime: pr.Session.CreatedAt, amr: []string{"pwd"}}
	if rec, err := s.d.Store.GetOIDCBrowserSession(r.Context(), pr.Session.ID); err == nil {
		b.authTime, b.amr = rec.AuthTime, rec.AMR
	}
	return b
}

func (s *Service) setSessionCookie(w http.ResponseWriter, p *poolOP, res *auth.Result) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(p.poolID), Value: res.Token, Path: Prefix, Expires: res.TokenExpires,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// endBrowserSession logs the browser's session out (the use case's
// logout: audit event and user.logout webhook) and clears its cookie when
// the response is still to be written.
func (s *Service) endBrowserSession(ctx context.Context, r *http.Request, poolID string) {
	ck, err := r.Cookie(cookieName(poolID))
	if err != nil || ck.Value == "" {
		return
	}
	if err := s.d.Auth.Logout(ctx, auth.Meta{PoolID: poolID, ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent()}, ck.Value); err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal || e.Code == userpool.CodeUnavailable {
			s.d.Log.ErrorContext(ctx, "oidc: end the browser session", slog.Any("error", err))
		}
	}
}

// --- sign-in ---

type signinData struct {
	Mode, Action, SendCodeAction, AuthRequestID string
	AppName, Identifier, Phone                  string
	PasswordURL, PhoneURL, SignupURL, ResetURL  string
	CaptchaID                                   string
	CaptchaImage                                template.URL // a data: URL of the PNG we drew
	CodeSent                                    bool
	Wait                                        int
	// The passwordless sign-in's routes (passkeypage.go).
	PasskeyAction, PasskeyBeginAction string
	// Social are the enabled connectors' buttons (SocialAction posts);
	// LinkToken rides the password form after a 2803, so that signing in
	// confirms the link.
	Social       []socialButton
	SocialAction string
	LinkToken    string
}

func (s *Service) renderSignin(w http.ResponseWriter, r *http.Request, pc *pageCtx, status int, mode, msg string, d signinData) {
	base := pc.p.prefix + pathLogin + "?authRequestID=" + url.QueryEscape(pc.requestID())
	d.Mode, d.Action, d.SendCodeAction, d.AuthRequestID = mode, pc.p.prefix+pathLogin, pc.p.prefix+pathSendCode, pc.requestID()
	d.AppName, d.PasswordURL, d.PhoneURL = pc.appName(), base, base+"&mode=phone"
	back := "?authRequestID=" + url.QueryEscape(pc.requestID()) // the user pages come back to this request
	d.SignupURL, d.ResetURL = pc.p.prefix+pathSignup+back, pc.p.prefix+pathReset+back
	if s.d.Auth.PasskeysOn() {
		d.PasskeyAction, d.PasskeyBeginAction = pc.p.prefix+pathPasskeyLogin, pc.p.prefix+pathPasskeyLoginBegin
	}
	if pc.req != nil { // the account page's own sign-in offers no connectors
		d.Social, d.SocialAction = s.socialButtons(r, pc), pc.p.prefix+pathSocial
	}
	s.pages.Render(w, r, status, "signin", web.Page{
		Lang: pc.lang, Brand: web.BrandOf(pc.pool), CSRF: s.csrf.Token(w, r), Error: msg, Data: d,
	})
}

// loginPage is where op sends the browser: with a valid browser session
// (and no prompt=login, max_age satisfied, the id_token_hint's user) the
// sign-in is done at once (single sign-on); prompt=none without one
// answers login_required to the app; otherwise the sign-in form.
func (s *Service) loginPage(w http.ResponseWriter, r *http.Request, p *poolOP) {
	q := r.URL.Query()
	pc, ok := s.load(r, p, q.Get("authRequestID"))
	if !ok {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusBadRequest, web.T(web.Lang(r, ""), "error.request"))
		return
	}
	if pc.req == nil {
		// The account page's sign-in: signed in already, go there.
		if s.browserSession(r, p.poolID) != nil {
			http.Redirect(w, r, p.prefix+pathAccount, http.StatusSeeOther)
			return
		}
		mode := "password"
		if q.Get("mode") == "phone" {
			mode = "phone"
		}
		s.renderSignin(w, r, pc, http.StatusOK, mode, "", signinData{})
		return
	}
	if b := s.browserSession(r, p.poolID); b != nil && s.sessionFits(pc, b) {
		s.finish(w, r, pc, b)
		return
	}
	if slices.Contains(pc.req.data.Prompt, zoidc.PromptNone) {
		op.AuthRequestError(w, r, pc.req, zoidc.ErrLoginRequired(), p.provider)
		return
	}
	mode := "password"
	if q.Get("mode") == "phone" {
		mode = "phone"
	}
	s.renderSignin(w, r, pc, http.StatusOK, mode, "", signinData{Identifier: pc.req.data.LoginHint})
}

// sessionFits says whether an existing browser session may answer the
// request: not after prompt=login (op turns it into max_age 0), within
// max_age, and the id_token_hint's user when one was given.
func (s *Service) sessionFits(pc *pageCtx, b *browser) bool {
	d := pc.req.data
	if d.MaxAge != nil && uint64(s.d.Now().Sub(b.authTime)/time.Second) >= uint64(*d.MaxAge) {
		return false
	}
	if d.HintSubject != "" && d.HintSubject != b.user.ID {
		return false
	}
	if d.ACR != "" && !slices.Contains(b.amr, "mfa") {
		return false // acr_values asks for MFA: a one-factor session signs in again
	}
	return true
}

func (s *Service) parseForm(w http.ResponseWriter, r *http.Request, p *poolOP) (*pageCtx, bool) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusBadRequest, web.T(web.Lang(r, ""), "error.request"))
		return nil, false
	}
	pc, ok := s.load(r, p, r.PostForm.Get("authRequestID"))
	if !ok {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusBadRequest, web.T(web.Lang(r, ""), "error.request"))
		return nil, false
	}
	if !s.csrf.Check(r) {
		s.renderSignin(w, r, pc, http.StatusForbidden, "password", web.T(pc.lang, "error.csrf"), signinData{})
		return nil, false
	}
	return pc, true
}

// loginSubmit signs in with the API's own login use cases, so that every
// protection, pipeline, webhook, audit event and login count applies once.
// Any coded error is shown with its message (a later factor such as MFA
// answers with its own code).
func (s *Service) loginSubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	f := r.PostForm
	m := s.meta(r, pc)
	var res *auth.Result
	var err error
	var amr []string
	mode := "password"
	d := signinData{}
	if f.Get("mode") == "phone" {
		mode, amr = "phone", []string{"otp", "sms"}
		d.Phone = strings.TrimSpace(f.Get("phone"))
		code := strings.TrimSpace(f.Get("code"))
		if d.Phone == "" || code == "" {
			s.renderSignin(w, r, pc, http.StatusBadRequest, mode, web.T(pc.lang, "error.missing"), d)
			return
		}
		res, err = s.d.Auth.LoginByPhoneCode(r.Context(), m, d.Phone, code, auth.LoginOptions{})
	} else {
		amr = []string{"pwd"}
		d.Identifier = strings.TrimSpace(f.Get("identifier"))
		pw := f.Get("password")
		if d.Identifier == "" || pw == "" {
			s.renderSignin(w, r, pc, http.StatusBadRequest, mode, web.T(pc.lang, "error.missing"), d)
			return
		}
		opts := auth.LoginOptions{CaptchaID: f.Get("captchaID"), CaptchaCode: f.Get("captcha")}
		switch {
		case strings.Contains(d.Identifier, "@"):
			res, err = s.d.Auth.LoginByEmail(r.Context(), m, d.Identifier, pw, opts)
		case strings.HasPrefix(d.Identifier, "+"):
			res, err = s.d.Auth.LoginByPhonePassword(r.Context(), m, d.Identifier, pw, opts)
		default:
			res, err = s.d.Auth.LoginByUsername(r.Context(), m, d.Identifier, pw, opts)
		}
	}
	if err == nil && mode == "password" && f.Get("linkToken") != "" {
		// The account's password proved it: link the identity a social
		// sign-in left waiting (only this account's link token works).
		if _, lerr := s.d.Auth.ConfirmSocialLink(r.Context(), m, res.Token, f.Get("linkToken")); lerr != nil {
			s.d.Log.InfoContext(r.Context(), "oidc: identity link not confirmed", slog.String("reason", userpool.AsError(lerr).Reason))
		}
	}
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal {
			s.d.Log.ErrorContext(r.Context(), "oidc: sign-in", slog.Any("error", err))
		}
		if e.Code == userpool.CodeMFARequired {
			s.mfaStep(w, r, pc, e, mode, d)
			return
		}
		if mode == "password" && (e.Code == userpool.CodeCaptchaRequired || e.Reason == "wrong_captcha") {
			s.addCaptcha(r, m, &d)
		}
		s.renderSignin(w, r, pc, statusOf(e), mode, web.ErrorMessage(pc.lang, err), d)
		return
	}
	s.signedIn(w, r, pc, res, amr, mode, d)
}

// signedIn ends a completed login: the browser session (with the factors
// used) and its cookie, then consent or the redirect to the app.
func (s *Service) signedIn(w http.ResponseWriter, r *http.Request, pc *pageCtx, res *auth.Result, amr []string, mode string, d signinData) {
	p := pc.p
	now := s.d.Now().UTC()
	if err := s.d.Store.CreateOIDCBrowserSession(r.Context(), &userpool.OIDCBrowserSession{
		SessionID: sessionIDOf(s, r, p, res), PoolID: p.poolID, UserID: res.User.ID, AMR: amr, AuthTime: now, ExpiresAt: res.TokenExpires,
	}); err != nil {
		s.d.Log.ErrorContext(r.Context(), "oidc: record the browser session", slog.Any("error", err))
	}
	s.setSessionCookie(w, p, res)
	if pc.req == nil {
		http.Redirect(w, r, p.prefix+pathAccount, http.StatusSeeOther)
		return
	}
	pr, u, err := s.d.Auth.Authenticate(r.Context(), auth.Meta{PoolID: p.poolID}, res.Token)
	if err != nil {
		s.renderSignin(w, r, pc, statusOf(userpool.AsError(err)), mode, web.ErrorMessage(pc.lang, err), d)
		return
	}
	s.finish(w, r, pc, &browser{token: res.Token, sess: pr.Session, user: u, authTime: now, amr: amr})
}

// sessionIDOf is the session behind a token the login just issued.
func sessionIDOf(s *Service, r *http.Request, p *poolOP, res *auth.Result) string {
	pr, _, err := s.d.Auth.Authenticate(r.Context(), auth.Meta{PoolID: p.poolID}, res.Token)
	if err != nil {
		return ""
	}
	return pr.Session.ID
}

func (s *Service) addCaptcha(r *http.Request, m auth.Meta, d *signinData) {
	c, err := s.d.Auth.NewCaptcha(r.Context(), m)
	if err != nil {
		return
	}
	d.CaptchaID = c.ID
	// html/template would refuse a data: URL as unsafe; this one is the
	// base64 of a PNG we drew, so it is marked as trusted.
	d.CaptchaImage = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG))
}

func statusOf(e *userpool.Error) int {
	switch e.Code {
	case userpool.CodeInternal:
		return http.StatusInternalServerError
	case userpool.CodeUnavailable:
		return http.StatusServiceUnavailable
	case userpool.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// sendCode sends the SMS code of a phone sign-in (a form post, so it works
// without JavaScript; the script only counts the wait down).
func (s *Service) sendCode(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	d := signinData{Phone: strings.TrimSpace(r.PostForm.Get("phone"))}
	if d.Phone == "" {
		s.renderSignin(w, r, pc, http.StatusBadRequest, "phone", web.T(pc.lang, "error.missing"), d)
		return
	}
	if err := s.d.Auth.SendSmsCode(r.Context(), s.meta(r, pc), d.Phone); err != nil {
		s.renderSignin(w, r, pc, statusOf(userpool.AsError(err)), "phone", web.ErrorMessage(pc.lang, err), d)
		return
	}
	d.CodeSent, d.Wait = true, 60
	s.renderSignin(w, r, pc, http.StatusOK, "phone", "", d)
}

// --- consent and completion ---

// needsConsent: apps that are not first party need the user's consent to
// the scopes asked for, remembered per user and app; prompt=consent asks
// again.
func (s *Service) needsConsent(ctx context.Context, pc *pageCtx, userID string) (bool, error) {
	if pc.app.FirstParty {
		return false, nil
	}
	if slices.Contains(pc.req.data.Prompt, zoidc.PromptConsent) {
		return true, nil
	}
	c, err := s.d.Store.GetOIDCConsent(ctx, pc.p.poolID, userID, pc.app.ID)
	if errors.Is(err, userpool.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range pc.req.data.Scopes {
		if !slices.Contains(c.Scopes, sc) {
			return true, nil
		}
	}
	return false, nil
}

type consentData struct {
	Action, AuthRequestID, AppName, Who string
	Scopes                              []string
}

func (s *Service) finish(w http.ResponseWriter, r *http.Request, pc *pageCtx, b *browser) {
	need, err := s.needsConsent(r.Context(), pc, b.user.ID)
	if err != nil {
		s.errorPage(w, r, pc.p, pc.lang, http.StatusInternalServerError, web.ErrorMessage(pc.lang, err))
		return
	}
	if need {
		if slices.Contains(pc.req.data.Prompt, zoidc.PromptNone) {
			op.AuthRequestError(w, r, pc.req, &zoidc.Error{ErrorType: "consent_required"}, pc.p.provider)
			return
		}
		// The consent form completes the request for the session it was
		// shown to: remember it in the request now.
		if err := s.bind(r.Context(), pc, b, false); err != nil {
			s.errorPage(w, r, pc.p, pc.lang, http.StatusBadRequest, web.T(pc.lang, "error.request"))
			return
		}
		var scopes []string
		for _, sc := range pc.req.data.Scopes {
			if t := web.T(pc.lang, "scope."+sc); t != "scope."+sc {
				scopes = append(scopes, t)
			} else {
				scopes = append(scopes, sc)
			}
		}
		who := firstNonEmpty(b.user.Email, firstNonEmpty(b.user.Username, b.user.Phone))
		s.pages.Render(w, r, http.StatusOK, "consent", web.Page{
			Lang: pc.lang, Brand: web.BrandOf(pc.pool), CSRF: s.csrf.Token(w, r),
			Data: consentData{Action: pc.p.prefix + pathConsent, AuthRequestID: pc.req.GetID(), AppName: pc.app.Name, Who: who, Scopes: scopes},
		})
		return
	}
	if err := s.bind(r.Context(), pc, b, true); err != nil {
		s.errorPage(w, r, pc.p, pc.lang, http.StatusBadRequest, web.T(pc.lang, "error.request"))
		return
	}
	http.Redirect(w, r, pc.p.callbackURL(r.Context(), pc.req.GetID()), http.StatusSeeOther)
}

// bind records the session's user in the request; done says the sign-in
// is complete (op may issue the code).
func (s *Service) bind(ctx context.Context, pc *pageCtx, b *browser, done bool) error {
	_, err := s.d.Store.UpdateOIDCAuthRequest(ctx, pc.p.poolID, pc.req.GetID(), func(row *userpool.OIDCAuthRequest) error {
		a, err := loadAuthRequest(row)
		if err != nil {
			return err
		}
		if a.data.Done || row.CodeHash != nil {
			return errors.New("request already answered")
		}
		a.data.UserID, a.data.SessionID, a.data.AuthTime, a.data.AMR, a.data.Done = b.user.ID, b.sess.ID, b.authTime, b.amr, done
		row.Data = a.encode()
		pc.req = a
		pc.req.row = row
		return nil
	})
	return err
}

// consentSubmit records the user's answer. It is accepted only from the
// browser whose session the consent page was shown to.
func (s *Service) consentSubmit(w http.ResponseWriter, r *http.Request, p *poolOP) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusBadRequest, web.T(web.Lang(r, ""), "error.request"))
		return
	}
	pc, ok := s.load(r, p, r.PostForm.Get("authRequestID"))
	if ok && pc.req == nil {
		ok = false // the account page's sign-in asks no consent
	}
	if !ok || !s.csrf.Check(r) {
		lang := web.Lang(r, "")
		msg := web.T(lang, "error.request")
		if ok {
			msg = web.T(pc.lang, "error.csrf")
		}
		s.errorPage(w, r, p, lang, http.StatusForbidden, msg)
		return
	}
	b := s.browserSession(r, p.poolID)
	if b == nil || pc.req.data.SessionID == "" || b.sess.ID != pc.req.data.SessionID {
		s.errorPage(w, r, p, pc.lang, http.StatusForbidden, web.T(pc.lang, "error.request"))
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		op.AuthRequestError(w, r, pc.req, zoidc.ErrAccessDenied().WithDescription("the user denied the request"), p.provider)
		return
	}
	now := s.d.Now().UTC()
	scopes := slices.Clone(pc.req.data.Scopes)
	created := now
	if old, err := s.d.Store.GetOIDCConsent(r.Context(), p.poolID, b.user.ID, pc.app.ID); err == nil {
		created = old.CreatedAt
		for _, sc := range old.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	if err := s.d.Store.PutOIDCConsent(r.Context(), &userpool.OIDCConsent{
		PoolID: p.poolID, UserID: b.user.ID, ClientID: pc.app.ID, Scopes: scopes, CreatedAt: created, UpdatedAt: now,
	}); err != nil {
		s.errorPage(w, r, p, pc.lang, http.StatusInternalServerError, web.ErrorMessage(pc.lang, err))
		return
	}
	if _, err := s.d.Store.UpdateOIDCAuthRequest(r.Context(), p.poolID, pc.req.GetID(), func(row *userpool.OIDCAuthRequest) error {
		a, err := loadAuthRequest(row)
		if err != nil {
			return err
		}
		a.data.Done = true
		row.Data = a.encode()
		return nil
	}); err != nil {
		s.errorPage(w, r, p, pc.lang, http.StatusBadRequest, web.T(pc.lang, "error.request"))
		return
	}
	http.Redirect(w, r, p.callbackURL(r.Context(), pc.req.GetID()), http.StatusSeeOther)
}
