package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// userData is a user's page.
type userData struct {
	User       *userpool.User
	Values     []valueEditor
	Sessions   []*userpool.Session
	MFA        *auth.MFAStatus
	Identities []*userpool.Identity
	Audit      []*userpool.AuditEvent
}

// valueEditor is the typed editor of one defined field.
type valueEditor struct {
	Key, Label, Type string
	UserEditable     bool   // the user may set and remove the value too
	Set              bool   // the user has a value
	Text             string // the value as the editor shows it
	True             bool   // BOOLEAN's value
}

// done are the notices a change may leave on the user's page.
var done = map[string]bool{
	"blocked": true, "unblocked": true, "verified": true, "value_set": true, "value_removed": true,
	"sessions_revoked": true, "session_revoked": true, "mfa_reset": true,
}

// user shows one user: profile, values with typed editors, sessions,
// second factors, the user's audit events, and the actions.
func (s *Service) user(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	id := r.PathValue("userId")
	res, err := s.d.Admin.GetUser(r.Context(), c.meta, id)
	if err != nil {
		return err
	}
	d := userData{User: res.User}
	fields, err := s.d.Admin.ListFields(r.Context(), c.meta)
	if err != nil {
		return err
	}
	have := map[string]auth.UDV{}
	for _, v := range res.CustomData {
		have[v.Key] = v
	}
	for _, f := range fields {
		e := valueEditor{Key: f.Key, Label: f.Label, Type: string(f.DataType), UserEditable: f.UserEditable}
		if v, ok := have[f.Key]; ok {
			e.Set = true
			e.Text, e.True = editorText(f.DataType, v.Value)
		}
		d.Values = append(d.Values, e)
	}
	if d.Sessions, err = s.d.Admin.ListSessions(r.Context(), c.meta, id); err != nil {
		return err
	}
	if d.MFA, err = s.d.Admin.UserMFA(r.Context(), c.meta, id); err != nil {
		return err
	}
	if d.Identities, err = s.d.Admin.UserIdentities(r.Context(), c.meta, id); err != nil {
		return err
	}
	if d.Audit, err = s.d.Admin.ListAudit(r.Context(), c.meta, userpool.AuditFilter{UserID: id, Limit: 50}); err != nil {
		return err
	}
	pg := Page{Title: "user.title", Section: "nav.users", Pool: p, Data: d}
	if k := r.URL.Query().Get("done"); done[k] {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, http.StatusOK, "user", pg)
	return nil
}

// editorText is a value as its editor shows it.
func editorText(t userpool.DataType, v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, false
	case bool:
		return fmt.Sprint(x), x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), false
	case json.Number, float64, int64, int:
		return fmt.Sprint(x), false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), false
}

// userDone redirects to the user's page with a notice.
func (s *Service) userDone(w http.ResponseWriter, r *http.Request, c *call, notice string) {
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/users/"+url.PathEscape(r.PathValue("userId"))+"?done="+notice)
}

func (s *Service) blockUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if _, _, err := s.d.Admin.BlockUser(r.Context(), c.meta, r.PathValue("userId")); err != nil {
		return err
	}
	s.userDone(w, r, c, "blocked")
	return nil
}

func (s *Service) unblockUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if _, err := s.d.Admin.UnblockUser(r.Context(), c.meta, r.PathValue("userId")); err != nil {
		return err
	}
	s.userDone(w, r, c, "unblocked")
	return nil
}

// setVerified sets both verified flags as the form's checkboxes say.
func (s *Service) setVerified(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	email, phone := r.PostForm.Get("emailVerified") == "1", r.PostForm.Get("phoneVerified") == "1"
	if _, err := s.d.Admin.UpdateUser(r.Context(), c.meta, r.PathValue("userId"), admin.UserUpdate{EmailVerified: &email, PhoneVerified: &phone}); err != nil {
		return err
	}
	s.userDone(w, r, c, "verified")
	return nil
}

// setValue sets a user's value of a field from its typed editor: the
// field's type (read from its definition, not from the form) says how
// the text becomes the JSON value the use case checks.
func (s *Service) setValue(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	key, text := r.PostForm.Get("key"), r.PostForm.Get("value")
	f, err := s.d.Admin.GetField(r.Context(), c.meta, key)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	switch f.DataType {
	case userpool.TypeString, userpool.TypeDatetime:
		raw, _ = json.Marshal(text) // a string always encodes
	default:
		// NUMBER, BOOLEAN and OBJECT editors hold JSON text; the field's
		// type judges it.
		if !json.Valid([]byte(text)) {
			return userpool.Errorf(userpool.CodeFieldTypeMismatch, "field_type_mismatch", "%s", T(c.lang, "user.value_not_json"))
		}
		raw = json.RawMessage(text)
	}
	if _, err := s.d.Admin.SetUserValue(r.Context(), c.meta, r.PathValue("userId"), key, raw); err != nil {
		return err
	}
	s.userDone(w, r, c, "value_set")
	return nil
}

func (s *Service) removeValue(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if _, err := s.d.Admin.RemoveUserValue(r.Context(), c.meta, r.PathValue("userId"), r.PostForm.Get("key")); err != nil {
		return err
	}
	s.userDone(w, r, c, "value_removed")
	return nil
}

func (s *Service) revokeSessions(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if _, err := s.d.Admin.RevokeSessions(r.Context(), c.meta, r.PathValue("userId")); err != nil {
		return err
	}
	s.userDone(w, r, c, "sessions_revoked")
	return nil
}

func (s *Service) revokeSession(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if err := s.d.Admin.RevokeSession(r.Context(), c.meta, r.PathValue("userId"), r.PathValue("sessionId")); err != nil {
		return err
	}
	s.userDone(w, r, c, "session_revoked")
	return nil
}

func (s *Service) resetMFA(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if _, _, err := s.d.Admin.ResetUserMFA(r.Context(), c.meta, r.PathValue("userId")); err != nil {
		return err
	}
	s.userDone(w, r, c, "mfa_reset")
	return nil
}

// deleteUser deletes the user once the form's confirmation box is ticked
// (the page's script also asks first).
func (s *Service) deleteUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "user.delete_unconfirmed"))
	}
	if err := s.d.Admin.DeleteUser(r.Context(), c.meta, r.PathValue("userId")); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/users")
	return nil
}
