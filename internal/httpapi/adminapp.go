package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// fromApp shows an application; secret is the client secret of the call
// that generated it ("" otherwise: only its hash is kept).
func fromApp(a *userpool.App, secret string) api.App {
	return api.App{
		ID: a.ID, Name: a.Name, Type: string(a.Type),
		RedirectURIs: a.RedirectURIs, PostLogoutRedirectURIs: a.PostLogoutRedirectURIs, Scopes: a.Scopes,
		FirstParty:     a.FirstParty,
		AccessTokenTTL: durationText(a.AccessTokenTTL), IDTokenTTL: durationText(a.IDTokenTTL), RefreshTokenTTL: durationText(a.RefreshTokenTTL),
		HasSecret: len(a.SecretHash) > 0, ClientSecret: secret,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

// durationText is d as Go duration text without trailing zero units
// ("1h", "1h30m", "720h").
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseTTL reads a token lifetime: Go duration text; "" is the default.
func parseTTL(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_token_ttl", "%s must be Go duration text such as 15m or 720h", field)
	}
	return d, nil
}

func (s *Server) adminListApps(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Admin.ListApps(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	out := api.AppList{Apps: make([]api.App, len(list))}
	for i, a := range list {
		out.Apps[i] = fromApp(a, "")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreateApp(w http.ResponseWriter, r *http.Request) error {
	var in api.CreateAppRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("name", in.Name, "type", in.Type); err != nil {
		return err
	}
	app := userpool.App{
		Name: in.Name, Type: userpool.AppType(in.Type), RedirectURIs: in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, Scopes: in.Scopes, FirstParty: in.FirstParty,
	}
	var err error
	if app.AccessTokenTTL, err = parseTTL("accessTokenTTL", in.AccessTokenTTL); err != nil {
		return err
	}
	if app.IDTokenTTL, err = parseTTL("idTokenTTL", in.IDTokenTTL); err != nil {
		return err
	}
	if app.RefreshTokenTTL, err = parseTTL("refreshTokenTTL", in.RefreshTokenTTL); err != nil {
		return err
	}
	created, secret, err := s.Admin.CreateApp(r.Context(), s.adminMeta(r), app)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromApp(created, secret))
	return nil
}

func (s *Server) adminGetApp(w http.ResponseWriter, r *http.Request) error {
	app, err := s.Admin.GetApp(r.Context(), s.adminMeta(r), r.PathValue("appId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromApp(app, ""))
	return nil
}

func (s *Server) adminUpdateApp(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateAppRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	up := admin.AppUpdate{
		Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		Scopes: in.Scopes, FirstParty: in.FirstParty,
	}
	if in.Type != nil {
		t := userpool.AppType(*in.Type)
		up.Type = &t
	}
	for _, f := range []struct {
		name string
		in   *string
		out  **time.Duration
	}{{"accessTokenTTL", in.AccessTokenTTL, &up.AccessTokenTTL}, {"idTokenTTL", in.IDTokenTTL, &up.IDTokenTTL}, {"refreshTokenTTL", in.RefreshTokenTTL, &up.RefreshTokenTTL}} {
		if f.in == nil {
			continue
		}
		d, err := parseTTL(f.name, *f.in)
		if err != nil {
			return err
		}
		*f.out = &d
	}
	app, err := s.Admin.UpdateApp(r.Context(), s.adminMeta(r), r.PathValue("appId"), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromApp(app, ""))
	return nil
}

func (s *Server) adminDeleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeleteApp(r.Context(), s.adminMeta(r), r.PathValue("appId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminRotateAppSecret(w http.ResponseWriter, r *http.Request) error {
	app, secret, err := s.Admin.RotateAppSecret(r.Context(), s.adminMeta(r), r.PathValue("appId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromApp(app, secret))
	return nil
}
