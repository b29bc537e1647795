package oidc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// The account page's forms. Each reads its fields, calls the API's use
// case with the browser session's token and says what follows
// (accountPost renders errors and redirects).

// pageError is a mistake the page itself finds in a form (two new
// passwords that differ, an unticked confirmation): shown by its message
// key, with status 400.
type pageError string

func (e pageError) Error() string { return string(e) }

func pageErrorOf(err error) (pageError, bool) {
	var pe pageError
	ok := errors.As(err, &pe)
	return pe, ok
}

func formValue(r *http.Request, name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }

func (s *Service) accountProfile(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	up := auth.ProfileUpdate{Fields: map[string]*string{}}
	for _, f := range profileInputs {
		if _, sent := r.PostForm[f.name]; sent {
			v := formValue(r, f.name)
			up.Fields[f.name] = &v
		}
	}
	keep := func(d *accountData) {
		for i := range d.Profile {
			if v := up.Fields[d.Profile[i].Name]; v != nil {
				d.Profile[i].Value = *v
			}
		}
	}
	if _, err := s.d.Auth.UpdateProfile(r.Context(), ac.m, ac.b.token, up); err != nil {
		return outcome{keep: keep}, err
	}
	return outcome{done: "profile"}, nil
}

// accountPassword changes the password as the API does: every session
// ends, the browser's included, and the browser carries on with the
// answer's fresh session (keeping the factors it signed in with).
func (s *Service) accountPassword(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	old, next, again := r.PostForm.Get("oldPassword"), r.PostForm.Get("newPassword"), r.PostForm.Get("confirmPassword")
	if next == "" {
		return outcome{}, pageError("error.missing")
	}
	if next != again {
		return outcome{}, pageError("account.password.mismatch")
	}
	res, err := s.d.Auth.UpdatePassword(r.Context(), ac.m, ac.b.token, next, old)
	if err != nil {
		return outcome{}, err
	}
	if err := s.d.Store.CreateOIDCBrowserSession(r.Context(), &userpool.OIDCBrowserSession{
		SessionID: sessionIDOf(s, r, ac.p, res), PoolID: ac.p.poolID, UserID: res.User.ID, AMR: ac.b.amr,
		AuthTime: ac.b.authTime, ExpiresAt: res.TokenExpires,
	}); err != nil {
		s.d.Log.ErrorContext(r.Context(), "oidc: record the browser session", slog.Any("error", err))
	}
	s.setSessionCookie(w, ac.p, res)
	return outcome{done: "password"}, nil
}

// sendWait is how long the send buttons wait after a code (the pool's
// per-address interval; the server enforces it anyway).
func sendWait(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

func (s *Service) accountEmailCode(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	typed, which := formValue(r, "email"), r.PostForm.Get("which")
	to := typed
	if which == "old" {
		to = ac.b.user.Email // the account's own address, never one typed
	} else {
		which = "new"
	}
	keep := func(d *accountData) { d.NewEmail = typed }
	if to == "" {
		return outcome{keep: keep}, pageError("error.missing")
	}
	if err := s.d.Auth.SendEmail(r.Context(), ac.m, to, string(auth.SceneChangeEmail)); err != nil {
		return outcome{keep: keep}, err
	}
	wait := sendWait(ac.pool.Settings.EmailAddressInterval)
	return outcome{keep: func(d *accountData) { d.NewEmail, d.EmailSent, d.Wait = typed, which, wait }}, nil
}

// accountEmail binds an address to an account without one, or moves the
// account to a new one (with the current address's code when the pool
// verifies the old address).
func (s *Service) accountEmail(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	email, code, oldCode := formValue(r, "email"), formValue(r, "code"), formValue(r, "oldCode")
	keep := func(d *accountData) { d.NewEmail = email }
	if email == "" || code == "" {
		return outcome{keep: keep}, pageError("error.missing")
	}
	var err error
	if u := ac.b.user; u.Email == "" {
		_, err = s.d.Auth.BindEmail(r.Context(), ac.m, ac.b.token, email, code)
	} else {
		old := ""
		if ac.pool.Settings.VerifyOldEmail {
			old = u.Email
		}
		_, err = s.d.Auth.UpdateEmail(r.Context(), ac.m, ac.b.token, email, code, old, oldCode)
	}
	if err != nil {
		return outcome{keep: keep}, err
	}
	return outcome{done: "email"}, nil
}

func (s *Service) accountPhoneCode(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	typed, which := formValue(r, "phone"), r.PostForm.Get("which")
	to := typed
	if which == "old" {
		to = ac.b.user.Phone
	} else {
		which = "new"
	}
	keep := func(d *accountData) { d.NewPhone = typed }
	if to == "" {
		return outcome{keep: keep}, pageError("error.missing")
	}
	if err := s.d.Auth.SendSmsCode(r.Context(), ac.m, to); err != nil {
		return outcome{keep: keep}, err
	}
	wait := sendWait(ac.pool.Settings.SMSPhoneInterval)
	return outcome{keep: func(d *accountData) { d.NewPhone, d.PhoneSent, d.Wait = typed, which, wait }}, nil
}

func (s *Service) accountPhone(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	phone, code, oldCode := formValue(r, "phone"), formValue(r, "code"), formValue(r, "oldCode")
	keep := func(d *accountData) { d.NewPhone = phone }
	if phone == "" || code == "" {
		return outcome{keep: keep}, pageError("error.missing")
	}
	var err error
	if u := ac.b.user; u.Phone == "" {
		_, err = s.d.Auth.BindPhone(r.Context(), ac.m, ac.b.token, phone, code)
	} else {
		old := ""
		if ac.pool.Settings.VerifyOldPhone {
			old = u.Phone
		}
		_, err = s.d.Auth.UpdatePhone(r.Context(), ac.m, ac.b.token, phone, code, old, oldCode)
	}
	if err != nil {
		return outcome{keep: keep}, err
	}
	return outcome{done: "phone"}, nil
}

// accountTOTPStart begins an authenticator app's enrolment: the QR code,
// the secret to type instead, and the recovery codes, shown this once.
func (s *Service) accountTOTPStart(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	e, err := s.d.Auth.EnrolTOTP(r.Context(), ac.m, ac.b.token, "")
	if err != nil {
		return outcome{}, err
	}
	return outcome{keep: func(d *accountData) {
		d.Enrol = &totpEnrolment{QR: qrURL(e.QRPNG), Secret: e.Secret, RecoveryCodes: e.RecoveryCodes}
	}}, nil
}

func (s *Service) accountTOTPConfirm(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	code := formValue(r, "code")
	if code == "" {
		return outcome{}, pageError("error.missing")
	}
	if _, err := s.d.Auth.ConfirmTOTP(r.Context(), ac.m, ac.b.token, "", code); err != nil {
		return outcome{}, err
	}
	return outcome{done: "totp"}, nil
}

func (s *Service) accountRecoveryCodes(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	codes, err := s.d.Auth.RegenerateRecoveryCodes(r.Context(), ac.m, ac.b.token)
	if err != nil {
		return outcome{}, err
	}
	return outcome{done: "recovery", keep: func(d *accountData) { d.RecoveryCodes = codes }}, nil
}

func (s *Service) accountFactorEnable(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	if _, err := s.d.Auth.EnableFactor(r.Context(), ac.m, ac.b.token, r.PostForm.Get("kind")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "factor_on"}, nil
}

func (s *Service) accountFactorRemove(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	if _, err := s.d.Auth.RemoveFactor(r.Context(), ac.m, ac.b.token, r.PostForm.Get("kind")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "factor_off"}, nil
}

func (s *Service) accountSessionRevoke(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	id := r.PostForm.Get("session")
	if err := s.d.Auth.RevokeSession(r.Context(), ac.m, ac.b.token, id); err != nil {
		return outcome{}, err
	}
	if id == ac.b.sess.ID {
		s.clearSessionCookie(w, ac.p)
		return outcome{redirect: ac.p.prefix + pathLoggedOut}, nil
	}
	return outcome{done: "session"}, nil
}

func (s *Service) accountSessionsOthers(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	if _, err := s.d.Auth.RevokeOtherSessions(r.Context(), ac.m, ac.b.token); err != nil {
		return outcome{}, err
	}
	return outcome{done: "sessions"}, nil
}

func (s *Service) accountAppRevoke(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	if err := s.d.Auth.RevokeGrantedApp(r.Context(), ac.m, ac.b.token, r.PostForm.Get("app")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "app"}, nil
}

// accountField sets or clears the user's value of a user-editable field
// (SetUdv and RemoveUdv refuse the others). The typed editors' text
// becomes the JSON the API takes.
func (s *Service) accountField(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	key := r.PostForm.Get("key")
	if r.PostForm.Get("action") == "clear" {
		if _, err := s.d.Auth.RemoveUdv(r.Context(), ac.m, ac.b.token, key); err != nil {
			return outcome{}, err
		}
		return outcome{done: "field"}, nil
	}
	dt := userpool.TypeString
	if f, err := s.d.Store.GetField(r.Context(), ac.p.poolID, key); err == nil {
		dt = f.DataType
	} // else SetUdv answers the unknown key
	raw, err := fieldJSON(dt, r.PostForm.Get("value"), r.PostForm.Get("checked") != "")
	if err != nil {
		return outcome{}, err
	}
	if _, err := s.d.Auth.SetUdv(r.Context(), ac.m, ac.b.token, key, raw); err != nil {
		return outcome{}, err
	}
	return outcome{done: "field"}, nil
}

var errFieldValue = userpool.Errorf(userpool.CodeFieldTypeMismatch, "field_type_mismatch", "the value does not match the field's type")

// fieldJSON is the JSON of an editor's value for a field of type dt.
func fieldJSON(dt userpool.DataType, v string, checked bool) (json.RawMessage, error) {
	switch dt {
	case userpool.TypeBoolean:
		return json.Marshal(checked)
	case userpool.TypeNumber:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, errFieldValue
		}
		return json.Marshal(n)
	case userpool.TypeDatetime:
		// A datetime-local editor's value, read as UTC.
		t, err := time.Parse("2006-01-02T15:04", strings.TrimSpace(v))
		if err != nil {
			if t, err = time.Parse(time.RFC3339, strings.TrimSpace(v)); err != nil {
				return nil, errFieldValue
			}
		}
		return json.Marshal(t.UTC().Format(time.RFC3339))
	case userpool.TypeObject:
		if !json.Valid([]byte(v)) {
			return nil, errFieldValue
		}
		return json.RawMessage(v), nil
	}
	return json.Marshal(v)
}

// fieldOf is the editor of field f with the user's value v (has: the
// user has one).
func fieldOf(f *userpool.Field, v auth.UDV, has bool) fieldInput {
	in := fieldInput{Key: f.Key, Label: f.Label, Type: string(f.DataType), Editable: f.UserEditable}
	if in.Label == "" {
		in.Label = f.Key
	}
	if !has {
		return in
	}
	switch x := v.Value.(type) {
	case string:
		in.Value = x
	case bool:
		in.Checked = x
		in.Value = strconv.FormatBool(x)
	case float64:
		in.Value = strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		in.Value = x.UTC().Format("2006-01-02T15:04")
	case json.RawMessage:
		in.Value = string(x)
	default:
		if b, err := json.Marshal(x); err == nil {
			in.Value = string(b)
		}
	}
	return in
}

// accountDelete deletes the account when the pool allows it.
func (s *Service) accountDelete(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	if r.PostForm.Get("confirm") == "" {
		return outcome{}, pageError("account.delete.confirm_needed")
	}
	if err := s.d.Auth.DeleteAccount(r.Context(), ac.m, ac.b.token, r.PostForm.Get("password")); err != nil {
		return outcome{}, err
	}
	s.clearSessionCookie(w, ac.p)
	return outcome{redirect: ac.p.prefix + pathAccount + "/deleted"}, nil
}

// accountLogout signs the browser out (the API's logout: audit event and
// user.logout webhook).
func (s *Service) accountLogout(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	s.endBrowserSession(r.Context(), r, ac.p.poolID)
	s.clearSessionCookie(w, ac.p)
	return outcome{redirect: ac.p.prefix + pathLoggedOut}, nil
}
