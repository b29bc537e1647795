package console

import (
	"net/http"
	"net/url"

	"github.com/authpool/authpool/internal/web"
)

// signinPage shows the key form. The form token is the pre-session
// double-submit one of internal/web: a page of another site cannot sign
// a browser in with the attacker's key.
func (s *Service) signinPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, _, err := s.session(r); err == nil {
		s.redirect(w, r, s.d.Path+"/")
		return nil
	}
	s.render(w, r, c, http.StatusOK, "signin", Page{Title: "signin.title", CSRF: s.csrf.Token(w, r)})
	return nil
}

// signin checks the key as the admin API does (the same throttle of wrong
// keys per address) and starts a session. The key is read from the form
// only: never from the URL, never written back into the page, never logged.
func (s *Service) signin(w http.ResponseWriter, r *http.Request, c *call) error {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !s.csrf.Check(r) {
		s.render(w, r, c, http.StatusForbidden, "signin", Page{Title: "signin.title", CSRF: s.csrf.Token(w, r), Error: T(c.lang, "error.csrf")})
		return nil
	}
	who, err := s.d.Admin.Authenticate(r.Context(), c.meta, r.PostForm.Get("key"))
	if err != nil {
		st := http.StatusUnauthorized
		if e := statusOf(codeOf(err)); e == http.StatusTooManyRequests || e >= 500 {
			st = e
		}
		s.render(w, r, c, st, "signin", Page{Title: "signin.title", CSRF: s.csrf.Token(w, r), Error: web.ErrorMessage(c.lang, err)})
		return nil
	}
	if err := s.startSession(r.Context(), w, who); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/")
	return nil
}

// signout ends the session everywhere (it is deleted from the store).
func (s *Service) signout(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.d.Store.DeleteConsoleSession(r.Context(), s.hash(c.token)); err != nil {
		return err
	}
	s.setCookie(w, "", -1)
	s.redirect(w, r, s.d.Path+"/signin")
	return nil
}

// home opens the default pool's overview.
func (s *Service) home(w http.ResponseWriter, r *http.Request, c *call) error {
	s.redirect(w, r, s.d.Path+"/pools/default/overview")
	return nil
}

// switchPool is the pool switcher's target (a GET form: it changes
// nothing): the same section of another pool.
func (s *Service) switchPool(w http.ResponseWriter, r *http.Request, c *call) error {
	c.meta.PoolID = r.URL.Query().Get("pool")
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	section := "/overview"
	for _, n := range s.nav() {
		if n.Path == r.URL.Query().Get("section") {
			section = n.Path
		}
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+section)
	return nil
}
