package console

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// usersPageSize is the users list's page length.
const usersPageSize = 25

// usersData is the users list's data.
type usersData struct {
	Search                      string
	Blocked, Unverified, HasMFA bool
	Users                       []*userpool.User
	// Next is the link of the next page ("" on the last one), built here
	// from escaped parts.
	Next template.URL
}

// users lists the pool's users newest first, a page at a time (keyset:
// the next page starts after the last user shown, however deep), or the
// users whose email, username or phone starts with the search, or whose
// id it is; filtered by blocked, unverified and has-MFA.
func (s *Service) users(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := usersData{Search: q.Get("q"), Blocked: q.Get("blocked") == "1", Unverified: q.Get("unverified") == "1", HasMFA: q.Get("mfa") == "1"}
	page := userpool.UserPage{Search: d.Search, Blocked: d.Blocked, Unverified: d.Unverified, HasMFA: d.HasMFA, Limit: usersPageSize + 1}
	if after := q.Get("after"); after != "" && d.Search == "" {
		ms, id, ok := strings.Cut(after, ".")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_paging", "%s", T(c.lang, "users.bad_cursor"))
		}
		page.AfterCreated, page.AfterID = time.UnixMilli(n).UTC(), id
	}
	list, err := s.d.Admin.UserPage(r.Context(), c.meta, page)
	if err != nil {
		return err
	}
	if len(list) > usersPageSize && d.Search == "" {
		last := list[usersPageSize-1]
		next := url.Values{"after": {strconv.FormatInt(last.CreatedAt.UnixMilli(), 10) + "." + last.ID}}
		for k, on := range map[string]bool{"blocked": d.Blocked, "unverified": d.Unverified, "mfa": d.HasMFA} {
			if on {
				next.Set(k, "1")
			}
		}
		d.Next = template.URL(s.d.Path + "/pools/" + url.PathEscape(p.ID) + "/users?" + next.Encode())
	}
	d.Users = list[:min(len(list), usersPageSize)]
	s.render(w, r, c, http.StatusOK, "users", Page{Title: "nav.users", Section: "nav.users", Pool: p, Data: d})
	return nil
}

// newUserData is the new user form's data (kept when it is refused).
type newUserData struct {
	Email, Username, Phone       string
	EmailVerified, PhoneVerified bool
}

func (s *Service) newUserPage(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	s.render(w, r, c, http.StatusOK, "usernew", Page{Title: "users.new", Section: "nav.users", Pool: p, Data: newUserData{}})
	return nil
}

// createUser creates a user as the admin API does (the pool's password
// policy applies) and opens their page; a refusal shows the form again
// with what was typed, except the password.
func (s *Service) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := newUserData{Email: f.Get("email"), Username: f.Get("username"), Phone: f.Get("phone"),
		EmailVerified: f.Get("emailVerified") == "1", PhoneVerified: f.Get("phoneVerified") == "1"}
	res, err := s.d.Admin.CreateUser(r.Context(), c.meta, admin.NewUser{
		Email: d.Email, Username: d.Username, Phone: d.Phone, Password: f.Get("password"),
		EmailVerified: d.EmailVerified, PhoneVerified: d.PhoneVerified, CustomData: map[string]json.RawMessage{},
	})
	if err != nil {
		if st := statusOf(codeOf(err)); st == http.StatusBadRequest {
			s.render(w, r, c, st, "usernew", Page{Title: "users.new", Section: "nav.users", Pool: p, Data: d, Error: formError(c.lang, err)})
			return nil
		}
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/users/"+url.PathEscape(res.User.ID))
	return nil
}

// formError is the message of a refused form: the use case's own for an
// invalid value (it names the value), else the catalogue's for its code.
func formError(lang string, err error) string {
	if e := userpool.AsError(err); e.Code == userpool.CodeInvalidArgument {
		return e.Message
	}
	return web.ErrorMessage(lang, err)
}
