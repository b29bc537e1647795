package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
)

func (s *Server) sendSmsCode(w http.ResponseWriter, r *http.Request) error {
	var in api.SendSmsCodeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone); err != nil {
		return err
	}
	if err := s.Auth.SendSmsCode(r.Context(), s.meta(r, ""), in.Phone); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) registerByPhoneCode(w http.ResponseWriter, r *http.Request) error {
	var in api.RegisterByPhoneCodeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "code", in.Code); err != nil {
		return err
	}
	opts, ip := registerOpts(in.Options)
	res, err := s.Auth.RegisterByPhoneCode(r.Context(), s.meta(r, ip), in.Phone, in.Code, in.Password, toProfile(in.Profile), opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromResult(res))
	return nil
}

func (s *Server) loginByPhoneCode(w http.ResponseWriter, r *http.Request) error {
	var in api.LoginByPhoneCodeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "code", in.Code); err != nil {
		return err
	}
	opts, ip := loginOpts(in.Options)
	res, err := s.Auth.LoginByPhoneCode(r.Context(), s.meta(r, ip), in.Phone, in.Code, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) loginByPhonePassword(w http.ResponseWriter, r *http.Request) error {
	var in api.LoginByPhonePasswordRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "password", in.Password); err != nil {
		return err
	}
	opts, ip := loginOpts(in.Options)
	res, err := s.Auth.LoginByPhonePassword(r.Context(), s.meta(r, ip), in.Phone, in.Password, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) resetPasswordByPhoneCode(w http.ResponseWriter, r *http.Request) error {
	var in api.ResetPasswordByPhoneCodeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "code", in.Code, "newPassword", in.NewPassword); err != nil {
		return err
	}
	if err := s.Auth.ResetPasswordByPhoneCode(r.Context(), s.meta(r, ""), in.Phone, in.Code, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) bindPhone(w http.ResponseWriter, r *http.Request) error {
	var in api.BindPhoneRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "phoneCode", in.PhoneCode); err != nil {
		return err
	}
	res, err := s.Auth.BindPhone(r.Context(), s.meta(r, ""), bearer(r), in.Phone, in.PhoneCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) updatePhone(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdatePhoneRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("phone", in.Phone, "phoneCode", in.PhoneCode); err != nil {
		return err
	}
	res, err := s.Auth.UpdatePhone(r.Context(), s.meta(r, ""), bearer(r), in.Phone, in.PhoneCode, in.OldPhone, in.OldPhoneCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) unbindPhone(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Auth.UnbindPhone(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}
