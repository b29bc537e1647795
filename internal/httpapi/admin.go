package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// admin guards an administration handler: only a request bearing an
// administrator key gets through. End-user tokens are never administrator
// keys, so they are refused like any wrong key; wrong keys are throttled
// per client address (admin.KeyFailureLimit). A read-only named key is
// refused on every route that is not GET; the key's principal rides in
// the request's context, so the use cases audit under its name.
func (s *Server) admin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := bearerScheme(r, errAdminBearerScheme); err != nil {
			return err
		}
		who, err := s.Admin.Authenticate(r.Context(), s.adminMeta(r), bearer(r))
		if err != nil {
			return err
		}
		// A read-only key reads: every other method is a change.
		if who.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return admin.ErrReadOnly
		}
		return h(w, r.WithContext(admin.WithPrincipal(r.Context(), who)))
	}
}

// adminMeta addresses the pool named in the path ("default" is the
// default pool).
func (s *Server) adminMeta(r *http.Request) auth.Meta {
	return auth.Meta{PoolID: r.PathValue("poolId"), ClientIP: s.clientIP(r, "", false), UserAgent: r.UserAgent()}
}

func fromPool(p *userpool.Pool) api.Pool {
	return api.Pool{ID: p.ID, Name: p.Name, IsDefault: p.IsDefault, Settings: settingsToWire(p.Settings), CreatedAt: p.CreatedAt}
}

func (s *Server) adminListPools(w http.ResponseWriter, r *http.Request) error {
	pools, err := s.Admin.ListPools(r.Context())
	if err != nil {
		return err
	}
	out := api.PoolList{Pools: make([]api.Pool, len(pools))}
	for i, p := range pools {
		out.Pools[i] = fromPool(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreatePool(w http.ResponseWriter, r *http.Request) error {
	var in api.CreatePoolRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("name", in.Name); err != nil {
		return err
	}
	p, err := s.Admin.CreatePool(r.Context(), s.adminMeta(r), in.ID, in.Name, applySettings(in.Settings))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromPool(p))
	return nil
}

func (s *Server) adminGetPool(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Admin.GetPool(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromPool(p))
	return nil
}

func (s *Server) adminUpdatePool(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdatePoolRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Admin.UpdatePool(r.Context(), s.adminMeta(r), in.Name, applySettings(in.Settings))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromPool(p))
	return nil
}

func fromField(f *userpool.Field) api.Field {
	return api.Field{Key: f.Key, DataType: string(f.DataType), Label: f.Label, Description: f.Description, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, UserEditable: f.UserEditable}
}

func (s *Server) adminListFields(w http.ResponseWriter, r *http.Request) error {
	fields, err := s.Admin.ListFields(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	out := api.FieldList{Fields: make([]api.Field, len(fields))}
	for i, f := range fields {
		out.Fields[i] = fromField(f)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminDefineField(w http.ResponseWriter, r *http.Request) error {
	var in api.DefineFieldRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("key", in.Key, "dataType", in.DataType); err != nil {
		return err
	}
	f, err := s.Admin.DefineField(r.Context(), s.adminMeta(r), userpool.Field{
		Key: in.Key, DataType: userpool.DataType(in.DataType), Label: in.Label, Description: in.Description, UserEditable: in.UserEditable,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromField(f))
	return nil
}

func (s *Server) adminGetField(w http.ResponseWriter, r *http.Request) error {
	f, err := s.Admin.GetField(r.Context(), s.adminMeta(r), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromField(f))
	return nil
}

func (s *Server) adminUpdateField(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateFieldRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f, err := s.Admin.UpdateField(r.Context(), s.adminMeta(r), r.PathValue("key"), admin.FieldUpdate{
		Label: in.Label, Description: in.Description, DataType: in.DataType, UserEditable: in.UserEditable,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromField(f))
	return nil
}

func (s *Server) adminDeleteField(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeleteField(r.Context(), s.adminMeta(r), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
