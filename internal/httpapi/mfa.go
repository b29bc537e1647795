package httpapi

import (
	"encoding/base64"
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// Second factors (docs/MFA.md): completing a login that answered 1635,
// enrolling and managing one's factors, and the administrator's view.

func (s *Server) verifyMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.VerifyMFARequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("mfaToken", in.MFAToken, "kind", in.Kind, "code", in.Code); err != nil {
		return err
	}
	res, err := s.Auth.VerifyMFA(r.Context(), s.meta(r, ""), in.MFAToken, in.Kind, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request) error {
	var in api.EnrolTOTPRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Auth.EnrolTOTP(r.Context(), s.meta(r, ""), bearer(r), in.MFAToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.TOTPEnrolment{Secret: e.Secret, URI: e.URI, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG), RecoveryCodes: e.RecoveryCodes})
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var in api.ConfirmTOTPRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("code", in.Code); err != nil {
		return err
	}
	res, err := s.Auth.ConfirmTOTP(r.Context(), s.meta(r, ""), bearer(r), in.MFAToken, in.Code)
	if err != nil {
		return err
	}
	out := api.TOTPConfirmation{Confirmed: true}
	if res != nil {
		u := fromResult(res)
		out.User = &u
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listFactors(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Auth.ListFactors(r.Context(), s.meta(r, ""), bearer(r))
	return writeMFAStatus(w, st, err)
}

func (s *Server) enableFactor(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Auth.EnableFactor(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("kind"))
	return writeMFAStatus(w, st, err)
}

func (s *Server) removeFactor(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Auth.RemoveFactor(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("kind"))
	return writeMFAStatus(w, st, err)
}

func (s *Server) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.Auth.RegenerateRecoveryCodes(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.RecoveryCodes{RecoveryCodes: codes})
	return nil
}

func (s *Server) adminUserMFA(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Admin.UserMFA(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	return writeMFAStatus(w, st, err)
}

func (s *Server) adminSetUserMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.SetMFARequiredRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Required == nil {
		return userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", `field "required" is required`)
	}
	st, err := s.Admin.SetUserMFARequired(r.Context(), s.adminMeta(r), r.PathValue("userId"), *in.Required)
	return writeMFAStatus(w, st, err)
}

func (s *Server) adminResetUserMFA(w http.ResponseWriter, r *http.Request) error {
	f, n, err := s.Admin.ResetUserMFA(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.MFAReset{FactorsRemoved: f, SessionsRevoked: n})
	return nil
}

func writeMFAStatus(w http.ResponseWriter, st *auth.MFAStatus, err error) error {
	if err != nil {
		return err
	}
	out := api.MFAStatus{Factors: make([]api.MFAFactor, len(st.Factors)), RecoveryCodesLeft: st.RecoveryCodesLeft, Required: st.Required}
	for i, f := range st.Factors {
		out.Factors[i] = api.MFAFactor{ID: f.ID, Name: f.Name, Kind: f.Kind, Confirmed: f.Confirmed, CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
