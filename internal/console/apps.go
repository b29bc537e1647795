package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// appsData is the applications page: the list and the create form (kept
// as typed when it is refused).
type appsData struct {
	Apps       []*userpool.App
	Types      []userpool.AppType
	Name, Type string
	Redirects  string // one URI a line
	Scopes     string // space-separated
	FirstParty bool
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Service) appsPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d appsData, msg string) error {
	list, err := s.d.Admin.ListApps(r.Context(), c.meta)
	if err != nil {
		return err
	}
	d.Apps, d.Types = list, userpool.AppTypes
	pg := Page{Title: "nav.apps", Section: "nav.apps", Pool: p, Data: d, Error: msg}
	if r.URL.Query().Get("done") == "app_deleted" && msg == "" {
		pg.Notice = T(c.lang, "done.app_deleted")
	}
	s.render(w, r, c, status, "apps", pg)
	return nil
}

// apps lists the pool's OIDC applications with the create form.
func (s *Service) apps(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.appsPage(w, r, c, p, http.StatusOK, appsData{Type: string(userpool.AppWeb), Scopes: strings.Join(userpool.StandardScopes, " ")}, "")
}

// appData is one application's page; Secret is set only in the answer
// that created or rotated it (shown once, never stored in a page again).
type appData struct {
	App       *userpool.App
	Issuer    string
	Secret    string
	Redirects string
}

func (s *Service) appPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, app *userpool.App, secret, notice, msg string, status int) {
	d := appData{App: app, Secret: secret, Redirects: strings.Join(app.RedirectURIs, "\n")}
	pg := Page{Title: "apps.app", Section: "nav.apps", Pool: p, Data: d, Error: msg}
	if notice != "" {
		pg.Notice = T(c.lang, "done."+notice)
	}
	// The secret is in this answer only: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, c, status, "app", pg)
}

// app shows one application.
func (s *Service) app(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	app, err := s.d.Admin.GetApp(r.Context(), c.meta, r.PathValue("appId"))
	if err != nil {
		return err
	}
	notice := ""
	if k := r.URL.Query().Get("done"); k == "app_updated" {
		notice = k
	}
	s.appPage(w, r, c, p, app, "", notice, "", http.StatusOK)
	return nil
}

// createApp creates an application through the admin API's use case and
// answers with its page, which shows the client secret of a web or
// machine app this once.
func (s *Service) createApp(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := appsData{Name: f.Get("name"), Type: f.Get("type"), Redirects: f.Get("redirectUris"), Scopes: f.Get("scopes"), FirstParty: f.Get("firstParty") == "1"}
	in := userpool.App{Name: d.Name, Type: userpool.AppType(d.Type), RedirectURIs: lines(d.Redirects), Scopes: strings.Fields(d.Scopes), FirstParty: d.FirstParty}
	app, secret, err := s.d.Admin.CreateApp(r.Context(), c.meta, in)
	if err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.appsPage(w, r, c, p, http.StatusBadRequest, d, formError(c.lang, err))
		}
		return err
	}
	s.appPage(w, r, c, p, app, secret, "app_created", "", http.StatusCreated)
	return nil
}

func (s *Service) appDone(w http.ResponseWriter, r *http.Request, c *call, notice string) {
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/apps/"+url.PathEscape(r.PathValue("appId"))+"?done="+notice)
}

// updateApp sets the redirect URIs (one a line) and the scopes.
func (s *Service) updateApp(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	uris, scopes := lines(r.PostForm.Get("redirectUris")), strings.Fields(r.PostForm.Get("scopes"))
	if uris == nil {
		uris = []string{}
	}
	if _, err := s.d.Admin.UpdateApp(r.Context(), c.meta, r.PathValue("appId"), admin.AppUpdate{RedirectURIs: &uris, Scopes: &scopes}); err != nil {
		if statusOf(codeOf(err)) != http.StatusBadRequest {
			return err
		}
		app, gerr := s.d.Admin.GetApp(r.Context(), c.meta, r.PathValue("appId"))
		if gerr != nil {
			return gerr
		}
		s.appPage(w, r, c, p, app, "", "", formError(c.lang, err), http.StatusBadRequest)
		return nil
	}
	s.appDone(w, r, c, "app_updated")
	return nil
}

// rotateAppSecret gives the app a new secret, shown in this answer once;
// the old one stops working at once.
func (s *Service) rotateAppSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	app, secret, err := s.d.Admin.RotateAppSecret(r.Context(), c.meta, r.PathValue("appId"))
	if err != nil {
		return err
	}
	s.appPage(w, r, c, p, app, secret, "secret_rotated", "", http.StatusOK)
	return nil
}

// deleteApp deletes the application once the box is ticked.
func (s *Service) deleteApp(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.DeleteApp(r.Context(), c.meta, r.PathValue("appId")); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/apps?done=app_deleted")
	return nil
}
