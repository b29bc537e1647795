package oidc

import (
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// The account page (docs/ACCOUNT.md): where a user signed in to the
// pool's browser session manages themselves. It is a thin transport like
// httpapi: every form calls the API's own use case with the browser
// session's token, so the API's rules, limits, audit events and webhooks
// apply once; this file holds only the page's routing and rendering,
// accountforms.go the forms.

const (
	pathAccount = "/account"
	// accountRequest is the authRequestID of the account page's sign-in,
	// which belongs to no OpenID Connect request (pageCtx).
	accountRequest = "account"
)

// accountCtx is what a form of the account page works with: the pool,
// the signed-in browser and the language.
type accountCtx struct {
	p    *poolOP
	pool *userpool.Pool
	b    *browser
	lang string
	m    auth.Meta
}

// accountAction handles one form. It returns the outcome, or an error to
// show on the page (with what the outcome keeps of the form).
type accountAction func(s *Service, ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error)

// outcome is what a form's success (or failure) leads to.
type outcome struct {
	// done names the notice of a success (a key of accountNotices): the
	// browser is sent to the page again (post/redirect/get).
	done string
	// redirect, when set, is where the browser goes instead.
	redirect string
	// keep fills what the page shows beyond the stored state: the values
	// typed into a form that failed, codes shown once. It makes the
	// answer a page rather than a redirect.
	keep func(*accountData)
}

// accountActions are the forms, by the path under /account.
var accountActions = map[string]accountAction{
	"/profile":           (*Service).accountProfile,
	"/password":          (*Service).accountPassword,
	"/email":             (*Service).accountEmail,
	"/email/code":        (*Service).accountEmailCode,
	"/phone":             (*Service).accountPhone,
	"/phone/code":        (*Service).accountPhoneCode,
	"/mfa/totp":          (*Service).accountTOTPStart,
	"/mfa/totp/confirm":  (*Service).accountTOTPConfirm,
	"/mfa/recovery":      (*Service).accountRecoveryCodes,
	"/mfa/enable":        (*Service).accountFactorEnable,
	"/mfa/remove":        (*Service).accountFactorRemove,
	"/sessions/revoke":   (*Service).accountSessionRevoke,
	"/sessions/others":   (*Service).accountSessionsOthers,
	"/apps/revoke":       (*Service).accountAppRevoke,
	"/fields":            (*Service).accountField,
	"/delete":            (*Service).accountDelete,
	"/logout":            (*Service).accountLogout,
	"/passkeys/add":      (*Service).accountPasskeyAdd,
	"/passkeys/rename":   (*Service).accountPasskeyRename,
	"/passkeys/remove":   (*Service).accountPasskeyRemove,
	"/identities/unlink": (*Service).accountIdentityUnlink,
	"/reauth":            (*Service).accountReauth,
}

// accountNotices are the successes the page can announce after a
// redirect; anything else in ?done= is ignored.
var accountNotices = []string{
	"profile", "password", "email", "phone", "totp", "factor_on", "factor_off",
	"session", "sessions", "app", "field", "recovery",
	"passkey_added", "passkey_renamed", "passkey_removed", "identity",
}

// accountPage serves /account and its forms; it reports whether sub was
// one of them.
func (s *Service) accountPage(w http.ResponseWriter, r *http.Request, p *poolOP, sub string) bool {
	rest := strings.TrimPrefix(sub, pathAccount)
	if rest == "/deleted" && r.Method == http.MethodGet {
		s.message(w, r, p, http.StatusOK, "account.deleted.title", "account.deleted.body")
		return true
	}
	if rest == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return true
		}
		s.accountView(w, r, p)
		return true
	}
	act, ok := accountActions[rest]
	if !ok {
		http.NotFound(w, r)
		return true
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	limit := int64(maxForm)
	if rest == "/passkeys/add" {
		limit += 32 << 10 // an authenticator's answer
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	s.accountPost(w, r, p, act)
	return true
}

// accountSignIn sends a browser without a session of this pool to the
// pool's sign-in page, which comes back here.
func (s *Service) accountSignIn(w http.ResponseWriter, r *http.Request, p *poolOP) {
	http.Redirect(w, r, p.prefix+pathLogin+"?authRequestID="+accountRequest, http.StatusSeeOther)
}

func (s *Service) accountCtx(r *http.Request, p *poolOP, b *browser) (*accountCtx, bool) {
	pool, err := s.d.Store.GetPool(r.Context(), p.poolID)
	if err != nil {
		return nil, false
	}
	return &accountCtx{
		p: p, pool: pool, b: b, lang: web.Lang(r, r.URL.Query().Get("ui_locales")),
		m: auth.Meta{PoolID: p.poolID, ClientIP: s.d.ClientIP(r, ""), UserAgent: r.UserAgent(), AcceptLanguage: r.Header.Get("Accept-Language")},
	}, true
}

func (s *Service) accountView(w http.ResponseWriter, r *http.Request, p *poolOP) {
	b := s.browserSession(r, p.poolID)
	if b == nil {
		s.accountSignIn(w, r, p)
		return
	}
	ac, ok := s.accountCtx(r, p, b)
	if !ok {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusInternalServerError, web.ErrorMessage(web.Lang(r, ""), userpool.Internal(nil)))
		return
	}
	notice := ""
	if d := r.URL.Query().Get("done"); slices.Contains(accountNotices, d) {
		notice = web.T(ac.lang, "account.done."+d)
	}
	s.renderAccount(w, r, ac, http.StatusOK, "", notice, nil)
}

// accountPost runs a form: the browser session of this pool (a session of
// another pool is no session here: its cookie has another name, and a
// token of another pool fails Authenticate), the CSRF token, then the
// action.
func (s *Service) accountPost(w http.ResponseWriter, r *http.Request, p *poolOP, act accountAction) {
	lang := web.Lang(r, "")
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, p, lang, http.StatusBadRequest, web.ErrorMessage(lang, userpool.Errorf(userpool.CodeBodyTooLarge, "bad_form", "the form cannot be read")))
		return
	}
	b := s.browserSession(r, p.poolID)
	if b == nil {
		s.accountSignIn(w, r, p)
		return
	}
	ac, ok := s.accountCtx(r, p, b)
	if !ok {
		s.errorPage(w, r, p, lang, http.StatusInternalServerError, web.ErrorMessage(lang, userpool.Internal(nil)))
		return
	}
	if !s.csrf.Check(r) {
		s.renderAccount(w, r, ac, http.StatusForbidden, web.T(ac.lang, "error.csrf"), "", nil)
		return
	}
	out, err := act(s, ac, w, r)
	if pe, ok := pageErrorOf(err); ok {
		s.renderAccount(w, r, ac, http.StatusBadRequest, web.T(ac.lang, string(pe)), "", out.keep)
		return
	}
	if err != nil {
		e := userpool.AsError(err)
		if e.Code == userpool.CodeInternal {
			s.d.Log.ErrorContext(r.Context(), "oidc: account page", slog.String("form", r.URL.Path), slog.Any("error", err))
		}
		// The session may have ended (an account deleted meanwhile, the
		// session signed out elsewhere): sign in again.
		if e.Code == userpool.CodeTokenInvalid || e.Code == userpool.CodeNotLoggedIn {
			if s.browserSession(r, p.poolID) == nil {
				s.accountSignIn(w, r, p)
				return
			}
		}
		s.renderAccount(w, r, ac, statusOf(e), accountError(ac.lang, e), "", out.keep)
		return
	}
	switch {
	case out.redirect != "":
		http.Redirect(w, r, out.redirect, http.StatusSeeOther)
	case out.keep != nil:
		notice := ""
		if out.done != "" {
			notice = web.T(ac.lang, "account.done."+out.done)
		}
		s.renderAccount(w, r, ac, http.StatusOK, "", notice, out.keep)
	default:
		http.Redirect(w, r, p.prefix+pathAccount+"?done="+url.QueryEscape(out.done), http.StatusSeeOther)
	}
}

// accountError is the page's message for an error: the code's message,
// and when to try again after a limit.
func accountError(lang string, e *userpool.Error) string {
	msg := web.ErrorMessage(lang, e)
	if e.Code == userpool.CodeRateLimited {
		var secs int64
		switch v := e.Data["retryAfter"].(type) {
		case int64:
			secs = v
		case int:
			secs = int64(v)
		}
		if secs > 0 {
			msg += " " + strings.ReplaceAll(web.T(lang, "account.retry_in"), "{n}", strconv.FormatInt(secs, 10))
		}
	}
	return msg
}

// --- the page ---

type accountData struct {
	Base        string // the pool's /account path; forms post under it
	LogoutURL   string
	Who         string
	Profile     []profileInput
	HasPassword bool
	PasswordMin int

	Email, Phone                   string
	EmailVerified, PhoneVerified   bool
	VerifyOldEmail, VerifyOldPhone bool
	// What a form typed, kept when it failed or sent a code.
	NewEmail, NewPhone   string
	EmailSent, PhoneSent string // "new" or "old": the code just sent
	Wait                 int    // seconds until the send buttons work again

	TOTP, SMS, EmailFactor bool // enrolled and confirmed
	RecoveryLeft           int
	MFARequired            bool
	OtherFactors           []factorRow // SMS and email codes
	Enrol                  *totpEnrolment
	RecoveryCodes          []string // fresh, shown this once

	// Passkeys (accountpasskeys.go): the list, and the routes of the
	// "add a passkey" ceremony (passkey.js).
	Passkeys                 []passkeyRow
	PasskeyBegin, PasskeyAdd string
	PasskeyStale             bool          // the session is too old to add one (auth.FreshSignIn)
	Identities               []identityRow // linked social identities

	Sessions []sessionRow
	Apps     []auth.GrantedApp
	Fields   []fieldInput

	AllowDelete bool
	FreshMin    int
	Lang        string
	Notice      string // a success to announce, already translated
}

type profileInput struct {
	Name, Label, Value, Type, Autocomplete string
	Max                                    int
}

// factorRow is the SMS or email factor: on, or possible (the phone or
// address is verified), and the message keys of its title and of what it
// needs otherwise.
type factorRow struct {
	Kind, Title, Needs string
	On, Can            bool
}

type totpEnrolment struct {
	QR            template.URL // a data: URL of the PNG the use case drew
	Secret        string
	RecoveryCodes []string
}

type sessionRow struct {
	ID, Device, IP, Since string
	Current               bool
}

type fieldInput struct {
	Key, Label, Type, Value string
	Checked, Editable       bool
}

// profileInputs are the profile fields the page edits (OpenID Connect's
// standard claims that the API's UpdateProfile accepts); the others stay
// as they are.
var profileInputs = []struct{ name, typ, auto string }{
	{"nickname", "text", "nickname"},
	{"name", "text", "name"},
	{"givenName", "text", "given-name"},
	{"middleName", "text", "additional-name"},
	{"familyName", "text", "family-name"},
	{"preferredUsername", "text", "off"},
	{"username", "text", "username"},
	{"gender", "text", "sex"},
	{"birthdate", "date", "bday"},
	{"website", "url", "url"},
	{"profile", "url", "url"},
	{"photo", "url", "photo"},
	{"zoneinfo", "text", "off"},
	{"locale", "text", "language"},
	{"address", "text", "street-address"},
}

func profileValue(p *userpool.Profile, name string) string {
	switch name {
	case "nickname":
		return p.Nickname
	case "name":
		return p.Name
	case "givenName":
		return p.GivenName
	case "middleName":
		return p.MiddleName
	case "familyName":
		return p.FamilyName
	case "preferredUsername":
		return p.PreferredUsername
	case "username":
		return p.Username
	case "gender":
		return p.Gender
	case "birthdate":
		return p.Birthdate
	case "website":
		return p.Website
	case "profile":
		return p.Profile
	case "photo":
		return p.Photo
	case "zoneinfo":
		return p.Zoneinfo
	case "locale":
		return p.Locale
	case "address":
		return p.Address
	}
	return ""
}

// renderAccount shows the page from the stored state (read through the
// use cases with the browser's token), then keep's additions.
func (s *Service) renderAccount(w http.ResponseWriter, r *http.Request, ac *accountCtx, status int, errMsg, notice string, keep func(*accountData)) {
	ctx, tok, lang := r.Context(), ac.b.token, ac.lang
	res, err := s.d.Auth.GetCurrentUser(ctx, ac.m, tok)
	if err != nil {
		if s.browserSession(r, ac.p.poolID) == nil {
			s.accountSignIn(w, r, ac.p)
			return
		}
		s.errorPage(w, r, ac.p, lang, statusOf(userpool.AsError(err)), web.ErrorMessage(lang, err))
		return
	}
	u := res.User
	set := ac.pool.Settings
	d := &accountData{
		Base: ac.p.prefix + pathAccount, LogoutURL: ac.p.prefix + pathAccount + "/logout",
		Who: firstNonEmpty(u.Email, firstNonEmpty(u.Username, u.Phone)), HasPassword: u.HasPassword(), PasswordMin: set.PasswordMinLength,
		Email: u.Email, Phone: u.Phone, EmailVerified: u.EmailVerified, PhoneVerified: u.PhoneVerified,
		VerifyOldEmail: set.VerifyOldEmail, VerifyOldPhone: set.VerifyOldPhone,
		AllowDelete: set.AllowSelfDelete, FreshMin: int(auth.FreshSignIn / time.Minute), Lang: lang,
	}
	for _, f := range profileInputs {
		d.Profile = append(d.Profile, profileInput{Name: f.name, Label: web.T(lang, "account.profile."+f.name), Value: profileValue(&u.Profile, f.name), Type: f.typ, Autocomplete: f.auto})
	}
	if st, err := s.d.Auth.ListFactors(ctx, ac.m, tok); err == nil {
		for _, f := range st.Factors {
			if !f.Confirmed {
				continue
			}
			switch f.Kind {
			case userpool.FactorTOTP:
				d.TOTP = true
			case userpool.FactorSMS:
				d.SMS = true
			case userpool.FactorEmail:
				d.EmailFactor = true
			}
		}
		d.RecoveryLeft, d.MFARequired = st.RecoveryCodesLeft, st.Required
	}
	d.OtherFactors = []factorRow{
		{Kind: userpool.FactorSMS, Title: "account.mfa.sms", Needs: "account.mfa.sms_needs", On: d.SMS, Can: u.Phone != "" && u.PhoneVerified},
		{Kind: userpool.FactorEmail, Title: "account.mfa.email", Needs: "account.mfa.email_needs", On: d.EmailFactor, Can: u.Email != "" && u.EmailVerified},
	}
	s.accountPasskeysAndIdentities(r, ac, d)
	if list, err := s.d.Auth.ListSessions(ctx, ac.m, tok); err == nil {
		for _, x := range list {
			d.Sessions = append(d.Sessions, sessionRow{ID: x.ID, Device: deviceOf(x.UserAgent, lang), IP: orDash(x.ClientIP),
				Since: x.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Current: x.Current})
		}
	}
	if apps, err := s.d.Auth.ListGrantedApps(ctx, ac.m, tok); err == nil {
		d.Apps = apps
	}
	if fields, err := s.d.Store.ListFields(ctx, u.PoolID); err == nil {
		values := map[string]auth.UDV{}
		for _, v := range res.CustomData {
			values[v.Key] = v
		}
		for _, f := range fields {
			v, has := values[f.Key]
			if !f.UserEditable && !has {
				continue
			}
			d.Fields = append(d.Fields, fieldOf(f, v, has))
		}
	}
	d.Notice = notice
	if keep != nil {
		keep(d)
	}
	s.pages.Render(w, r, status, "account", web.Page{
		Lang: lang, Brand: web.BrandOf(ac.pool), CSRF: s.csrf.Token(w, r), Error: errMsg, Data: d,
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// deviceOf names the browser and system of a User-Agent for people; the
// page shows the recorded text too (as a title).
func deviceOf(ua, lang string) string {
	if ua == "" {
		return web.T(lang, "account.sessions.unknown")
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "" || system != "":
		return browser + system
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}

// qrURL is a data: URL of a PNG the use case drew: html/template refuses
// data: URLs as unsafe, so this one is marked as trusted (the CSP's
// img-src allows data:).
func qrURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
