package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
)

func (s *Server) listGrantedApps(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.ListGrantedApps(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	out := make([]api.GrantedApp, len(list))
	for i, g := range list {
		out[i] = api.GrantedApp{AppID: g.AppID, Name: g.Name, Scopes: g.Scopes, GrantedAt: g.GrantedAt, UpdatedAt: g.UpdatedAt}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) revokeGrantedApp(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.RevokeGrantedApp(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("appId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
