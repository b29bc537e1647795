package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
)

func (s *Server) registerByEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.RegisterByEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "password", in.Password); err != nil {
		return err
	}
	opts, ip := registerOpts(in.Options)
	res, err := s.Auth.RegisterByEmail(r.Context(), s.meta(r, ip), in.Email, in.Password, toProfile(in.Profile), opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromResult(res))
	return nil
}

func (s *Server) registerByUsername(w http.ResponseWriter, r *http.Request) error {
	var in api.RegisterByUsernameRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("username", in.Username, "password", in.Password); err != nil {
		return err
	}
	opts, ip := registerOpts(in.Options)
	res, err := s.Auth.RegisterByUsername(r.Context(), s.meta(r, ip), in.Username, in.Password, toProfile(in.Profile), opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromResult(res))
	return nil
}

func (s *Server) loginByEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.LoginByEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "password", in.Password); err != nil {
		return err
	}
	opts, ip := loginOpts(in.Options)
	res, err := s.Auth.LoginByEmail(r.Context(), s.meta(r, ip), in.Email, in.Password, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) loginByUsername(w http.ResponseWriter, r *http.Request) error {
	var in api.LoginByUsernameRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("username", in.Username, "password", in.Password); err != nil {
		return err
	}
	opts, ip := loginOpts(in.Options)
	res, err := s.Auth.LoginByUsername(r.Context(), s.meta(r, ip), in.Username, in.Password, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) getCurrentUser(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Auth.GetCurrentUser(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateProfileInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Auth.UpdateProfile(r.Context(), s.meta(r, ""), bearer(r), profileUpdate(&in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) updatePassword(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdatePasswordRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("newPassword", in.NewPassword); err != nil {
		return err
	}
	res, err := s.Auth.UpdatePassword(r.Context(), s.meta(r, ""), bearer(r), in.NewPassword, in.OldPassword)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}
