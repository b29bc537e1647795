package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
)

// The account's own calls (docs/ACCOUNT.md): sessions and self-deletion.

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.ListSessions(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	out := make([]api.SessionInfo, len(list))
	for i, x := range list {
		out[i] = api.SessionInfo{ID: x.ID, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, ClientIP: x.ClientIP, UserAgent: x.UserAgent, Current: x.Current}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.RevokeSession(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("sessionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Auth.RevokeOtherSessions(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.SessionsRevoked{Revoked: n})
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	var in api.DeleteAccountRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.Auth.DeleteAccount(r.Context(), s.meta(r, ""), bearer(r), in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
