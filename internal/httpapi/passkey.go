package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
)

// Passkeys (docs/MFA.md "Passkeys"): registering and managing one's
// passkeys, the passwordless sign-in, and the passkey second factor. Each
// ceremony is a begin (options for the browser) and a finish (its answer).

func (s *Server) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) error {
	if err := CrossSiteBody(r, nil); err != nil {
		return err
	}
	opts, err := s.Auth.BeginPasskeyRegistration(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PasskeyOptions{Options: opts})
	return nil
}

func (s *Server) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyRegistrationRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Auth.FinishPasskeyRegistration(r.Context(), s.meta(r, ""), bearer(r), in.Name, in.Credential)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromPasskey(*p))
	return nil
}

func (s *Server) listPasskeys(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Auth.ListPasskeys(r.Context(), s.meta(r, ""), bearer(r))
	return writePasskeys(w, ps, err)
}

func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request) error {
	var in api.RenamePasskeyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := s.Auth.RenamePasskey(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("id"), in.Name); err != nil {
		return err
	}
	return s.listPasskeys(w, r)
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.RemovePasskey(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("id")); err != nil {
		return err
	}
	return s.listPasskeys(w, r)
}

func (s *Server) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	if err := CrossSiteBody(r, nil); err != nil {
		return err
	}
	opts, err := s.Auth.BeginPasskeyLogin(r.Context(), s.meta(r, ""))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PasskeyOptions{Options: opts})
	return nil
}

func (s *Server) finishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyLoginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Auth.FinishPasskeyLogin(r.Context(), s.meta(r, ""), in.Credential, auth.LoginOptions{Context: in.Context})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) beginPasskeyMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyMFABeginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("mfaToken", in.MFAToken); err != nil {
		return err
	}
	opts, err := s.Auth.BeginPasskeyMFA(r.Context(), s.meta(r, ""), in.MFAToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PasskeyOptions{Options: opts})
	return nil
}

func (s *Server) finishPasskeyMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyMFARequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("mfaToken", in.MFAToken); err != nil {
		return err
	}
	res, err := s.Auth.FinishPasskeyMFA(r.Context(), s.meta(r, ""), in.MFAToken, in.Credential)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

// beginPasskeyEnrolmentMFA and finishPasskeyEnrolmentMFA register a
// passkey with the MFA token of a login that must enrol a second factor;
// the finish completes the login.
func (s *Server) beginPasskeyEnrolmentMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyMFABeginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("mfaToken", in.MFAToken); err != nil {
		return err
	}
	opts, err := s.Auth.BeginPasskeyEnrolmentMFA(r.Context(), s.meta(r, ""), in.MFAToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PasskeyOptions{Options: opts})
	return nil
}

func (s *Server) finishPasskeyEnrolmentMFA(w http.ResponseWriter, r *http.Request) error {
	var in api.PasskeyMFAEnrolmentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("mfaToken", in.MFAToken); err != nil {
		return err
	}
	res, err := s.Auth.FinishPasskeyEnrolmentMFA(r.Context(), s.meta(r, ""), in.MFAToken, in.Name, in.Credential)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func fromPasskey(p auth.PasskeyInfo) api.Passkey {
	out := api.Passkey{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, SignCount: p.SignCount,
		Transports: p.Transports, BackupEligible: p.BackupEligible, BackupState: p.BackupState, UserVerified: p.UserVerified}
	if id, err := uuid.FromBytes(p.AAGUID); err == nil {
		out.AAGUID = id.String()
	}
	return out
}

func writePasskeys(w http.ResponseWriter, ps []auth.PasskeyInfo, err error) error {
	if err != nil {
		return err
	}
	out := api.Passkeys{Passkeys: make([]api.Passkey, len(ps))}
	for i, p := range ps {
		out.Passkeys[i] = fromPasskey(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
