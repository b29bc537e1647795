package console

import (
	"net/http"
	"net/url"

	"github.com/authpool/authpool/internal/userpool"
)

// keysData is the signing keys page (the keys are the server's, shared by
// every pool; the page sits in each pool's navigation).
type keysData struct {
	Keys []userpool.SigningKeyInfo
}

// signingKeys lists the token signing keys: kid, state, times.
func (s *Service) signingKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	keys, err := s.d.Admin.ListSigningKeys(r.Context())
	if err != nil {
		return err
	}
	pg := Page{Title: "nav.keys", Section: "nav.keys", Pool: p, Data: keysData{Keys: keys}}
	if r.URL.Query().Get("done") == "key_rotated" {
		pg.Notice = T(c.lang, "done.key_rotated")
	}
	s.render(w, r, c, http.StatusOK, "keys", pg)
	return nil
}

// rotateSigningKey adds a new key (published now, signing after the lead
// time) once the confirmation box is ticked; while one still waits the
// use case refuses (1410) and the page says so.
func (s *Service) rotateSigningKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if _, err := s.d.Admin.RotateSigningKey(r.Context(), c.meta); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/keys?done=key_rotated")
	return nil
}
