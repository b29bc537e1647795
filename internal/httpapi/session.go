package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

func (s *Server) checkLoginStatus(w http.ResponseWriter, r *http.Request) error {
	var in api.CheckLoginStatusRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	tok := in.Token
	if tok == "" {
		tok = bearer(r)
	}
	st, err := s.Auth.CheckLoginStatus(r.Context(), s.meta(r, ""), tok)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.LoginStatus{
		Code: int(st.Code), Message: st.Message, Status: st.Status,
		Exp: st.Exp, Iat: st.Iat, UserID: st.UserID, UserPoolID: st.UserPoolID,
	})
	return nil
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Auth.RefreshToken(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.RefreshedToken{Token: res.Token, Iat: res.TokenIssued.Unix(), Exp: res.TokenExpires.Unix()})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.Logout(r.Context(), s.meta(r, ""), bearer(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining() {
		// Shutting down: the load balancer should send no more requests.
		w.Header().Set("Retry-After", strconv.Itoa(int(userpool.UnavailableRetry/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "draining"})
		return nil
	}
	if err := s.Ready(r.Context()); err != nil {
		s.Log.LogAttrs(r.Context(), slog.LevelWarn, "store not ready", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", strconv.Itoa(int(userpool.UnavailableRetry/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable"})
		return nil
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.JWKS(r.Context()))
	return err
}
