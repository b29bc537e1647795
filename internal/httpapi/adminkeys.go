package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

func fromSigningKey(k userpool.SigningKeyInfo) api.SigningKey {
	out := api.SigningKey{Kid: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt.UTC(), SignsFrom: k.SignsFrom.UTC()}
	if !k.RetiresAt.IsZero() {
		t := k.RetiresAt.UTC()
		out.RetiresAt = &t
	}
	return out
}

func (s *Server) adminListKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.Admin.ListSigningKeys(r.Context())
	if err != nil {
		return err
	}
	out := api.SigningKeyList{Keys: make([]api.SigningKey, len(keys))}
	for i, k := range keys {
		out.Keys[i] = fromSigningKey(k)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminRotateKey takes no body, or an empty object: the lead time and the
// key's kind are the server's configuration, and a body that tries to say
// otherwise is refused rather than ignored.
func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength != 0 {
		var in struct{}
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	k, err := s.Admin.RotateSigningKey(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromSigningKey(k))
	return nil
}
