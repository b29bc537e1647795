package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// poolsData is the pools page: every pool with its rename form, and the
// create form (kept as typed when it is refused).
type poolsData struct {
	All      []*userpool.Pool
	ID, Name string
}

func (s *Service) poolsPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d poolsData, msg string) error {
	all, err := s.d.Admin.ListPools(r.Context())
	if err != nil {
		return err
	}
	d.All = all
	pg := Page{Title: "nav.pools", Section: "nav.pools", Pool: p, Pools: all, Data: d, Error: msg}
	if k := r.URL.Query().Get("done"); (k == "pool_renamed" || k == "pool_created") && msg == "" {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, status, "pools", pg)
	return nil
}

// pools lists the server's pools (shown within the current pool's
// navigation).
func (s *Service) pools(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.poolsPage(w, r, c, p, http.StatusOK, poolsData{}, "")
}

// createPool creates a pool with the default settings (an empty id gets a
// random one) and opens its settings.
func (s *Service) createPool(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	d := poolsData{ID: strings.TrimSpace(r.PostForm.Get("id")), Name: r.PostForm.Get("name")}
	np, err := s.d.Admin.CreatePool(r.Context(), c.meta, d.ID, d.Name, nil)
	if err != nil {
		if st := statusOf(codeOf(err)); st == http.StatusBadRequest || codeOf(err) == userpool.CodeInvalidArgument {
			return s.poolsPage(w, r, c, p, http.StatusBadRequest, d, formError(c.lang, err))
		}
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(np.ID)+"/pools?done=pool_created")
	return nil
}

// renamePool renames the pool of the path.
func (s *Service) renamePool(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	if _, err := s.d.Admin.UpdatePool(r.Context(), c.meta, &name, nil); err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.poolsPage(w, r, c, p, http.StatusBadRequest, poolsData{}, formError(c.lang, err))
		}
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/pools?done=pool_renamed")
	return nil
}
