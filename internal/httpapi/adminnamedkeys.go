package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

func fromNamedKey(k *userpool.NamedAdminKey) api.NamedAdminKey {
	out := api.NamedAdminKey{ID: k.ID, Name: k.Name, ReadOnly: k.ReadOnly, CreatedAt: k.CreatedAt.UTC()}
	if !k.RevokedAt.IsZero() {
		t := k.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	return out
}

func (s *Server) adminListNamedKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.Admin.ListNamedKeys(r.Context())
	if err != nil {
		return err
	}
	out := api.NamedAdminKeyList{Keys: make([]api.NamedAdminKey, len(keys))}
	for i, k := range keys {
		out.Keys[i] = fromNamedKey(k)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreateNamedKey(w http.ResponseWriter, r *http.Request) error {
	var in api.CreateNamedAdminKeyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("name", in.Name); err != nil {
		return err
	}
	key, k, err := s.Admin.CreateNamedKey(r.Context(), s.adminMeta(r), in.Name, in.ReadOnly)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, api.CreatedNamedAdminKey{NamedAdminKey: fromNamedKey(k), Key: key})
	return nil
}

func (s *Server) adminRevokeNamedKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.RevokeNamedKey(r.Context(), s.adminMeta(r), r.PathValue("keyId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RouteInfo names one route of the native API.
type RouteInfo struct{ Method, Path string }

// AdminRoutes lists the administration API's routes, for tests that must
// try every one of them (a read-only key is refused on each change).
func AdminRoutes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range (&Server{}).adminRoutes() {
		out = append(out, RouteInfo{rt.Method, rt.Path})
	}
	return out
}
