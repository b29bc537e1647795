package authingcompat

import (
	"context"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/userpool"
)

// MFA is the second-factor use cases the MfaAuthenticationClient of
// authing-js-sdk reaches (docs/MFA.md); *auth.Service satisfies it. The
// SDK sends the MFA token of a 1635 answer as the bearer, where other
// calls send the user's token: auth.IsMFAToken tells them apart.
type MFA interface {
	VerifyMFA(ctx context.Context, m auth.Meta, mfaToken, kind, code string) (*auth.Result, error)
	EnrolTOTP(ctx context.Context, m auth.Meta, tok, mfaToken string) (*auth.TOTPEnrolment, error)
	ConfirmTOTP(ctx context.Context, m auth.Meta, tok, mfaToken, code string) (*auth.Result, error)
	ListFactors(ctx context.Context, m auth.Meta, tok string) (*auth.MFAStatus, error)
	MFAStatusByMFAToken(ctx context.Context, m auth.Meta, mfaToken string) (*auth.MFAStatus, error)
	RemoveFactor(ctx context.Context, m auth.Meta, tok, kind string) (*auth.MFAStatus, error)
	PhoneOrEmailBindable(ctx context.Context, m auth.Meta, mfaToken, phone, email string) (bool, error)
}

var errFace = userpool.Errorf(userpool.CodeMFAUnsupported, "mfa_unsupported", "face verification is not supported by this server")

// authenticator is Authing's IMfaAuthenticator, without the secret and
// recovery code Authing shows (authpool never shows them again).
type authenticator struct {
	ID                string    `json:"id"`
	UserID            string    `json:"userId"`
	Enable            bool      `json:"enable"`
	AuthenticatorType string    `json:"authenticatorType"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// mfaAuthenticators lists the confirmed authenticators of the bearer (a
// user token, or the MFA token of a login in progress): TOTP, the SMS and
// email factors, and each passkey (authenticatorType "webauthn", its id).
func (s *Server) mfaAuthenticators(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r, "")
	tok := httpapi.Bearer(r)
	var st *auth.MFAStatus
	var err error
	if auth.IsMFAToken(tok) {
		st, err = s.MFA.MFAStatusByMFAToken(r.Context(), m, tok)
	} else {
		st, err = s.MFA.ListFactors(r.Context(), m, tok)
	}
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	typ := r.URL.Query().Get("type")
	out := []authenticator{}
	for _, f := range st.Factors {
		kind, id := f.Kind, f.Kind
		switch f.Kind {
		case userpool.FactorTOTP, userpool.FactorSMS, userpool.FactorEmail:
		case userpool.FactorPasskey:
			kind, id = "webauthn", f.ID
		default:
			continue
		}
		if !f.Confirmed || (typ != "" && typ != kind) {
			continue
		}
		updated := f.CreatedAt
		if f.LastUsedAt.After(updated) {
			updated = f.LastUsedAt
		}
		out = append(out, authenticator{ID: id, Enable: true, AuthenticatorType: kind, CreatedAt: f.CreatedAt, UpdatedAt: updated})
	}
	s.writeREST(w, r, out, nil, "fetched")
}

// association is Authing's IMfaAssociation; recovery_code is the first
// of the ten recovery codes, recovery_codes (an addition) all of them.
type association struct {
	AuthenticatorType string   `json:"authenticator_type"`
	Secret            string   `json:"secret"`
	QRCodeURI         string   `json:"qrcode_uri"`
	QRCodeDataURL     string   `json:"qrcode_data_url"`
	RecoveryCode      string   `json:"recovery_code"`
	RecoveryCodes     []string `json:"recovery_codes"`
}

type associateRequest struct {
	AuthenticatorType string `json:"authenticator_type"`
	TOTP              string `json:"totp"`
}

// bearers splits the bearer into a user token and an MFA token.
func bearers(r *http.Request) (tok, mfaToken string) {
	b := httpapi.Bearer(r)
	if auth.IsMFAToken(b) {
		return "", b
	}
	return b, ""
}

func (s *Server) mfaAssociate(w http.ResponseWriter, r *http.Request) {
	var in associateRequest
	if err := s.decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	if in.AuthenticatorType != "" && in.AuthenticatorType != userpool.FactorTOTP {
		s.writeREST(w, r, nil, invalidArg("invalid_factor", "authenticator_type must be totp"))
		return
	}
	tok, mfaToken := bearers(r)
	e, err := s.MFA.EnrolTOTP(r.Context(), s.meta(r, ""), tok, mfaToken)
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	s.writeREST(w, r, association{
		AuthenticatorType: userpool.FactorTOTP, Secret: e.Secret, QRCodeURI: e.URI,
		QRCodeDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG),
		RecoveryCode:  e.RecoveryCodes[0], RecoveryCodes: e.RecoveryCodes,
	}, nil, "fetched")
}

// mfaConfirm activates the TOTP factor; with an MFA token as the bearer
// it completes that login too and answers the user with the token.
func (s *Server) mfaConfirm(w http.ResponseWriter, r *http.Request) {
	var in associateRequest
	if err := s.decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	m := s.meta(r, "")
	tok, mfaToken := bearers(r)
	res, err := s.MFA.ConfirmTOTP(r.Context(), m, tok, mfaToken, in.TOTP)
	if err != nil || res == nil {
		s.writeREST(w, r, nil, err, "bound")
		return
	}
	s.writeREST(w, r, s.render(m, res), nil, "bound")
}

func (s *Server) mfaUnbind(w http.ResponseWriter, r *http.Request) {
	_, err := s.MFA.RemoveFactor(r.Context(), s.meta(r, ""), httpapi.Bearer(r), userpool.FactorTOTP)
	s.writeREST(w, r, nil, err, "unbound")
}

// verifyWith completes the login of the MFA token (the bearer) with a
// factor, answering the user with the token.
func (s *Server) verifyWith(w http.ResponseWriter, r *http.Request, kind string, code func(in *verifyRequest) string) {
	var in verifyRequest
	if err := s.decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	m := s.meta(r, "")
	res, err := s.MFA.VerifyMFA(r.Context(), m, httpapi.Bearer(r), kind, code(&in))
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	s.writeREST(w, r, s.render(m, res), nil, "logged_in")
}

type verifyRequest struct {
	TOTP         string `json:"totp"`
	RecoveryCode string `json:"recoveryCode"`
	Code         string `json:"code"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
}

func (s *Server) mfaVerifyTOTP(w http.ResponseWriter, r *http.Request) {
	s.verifyWith(w, r, userpool.FactorTOTP, func(in *verifyRequest) string { return in.TOTP })
}

func (s *Server) mfaVerifyRecovery(w http.ResponseWriter, r *http.Request) {
	s.verifyWith(w, r, userpool.FactorRecovery, func(in *verifyRequest) string { return in.RecoveryCode })
}

// mfaVerifySMS and mfaVerifyEmail check the code sent to the account's
// own verified phone or address; the phone or email in the body is not
// needed (a code sent anywhere else does not match).
func (s *Server) mfaVerifySMS(w http.ResponseWriter, r *http.Request) {
	s.verifyWith(w, r, userpool.FactorSMS, func(in *verifyRequest) string { return in.Code })
}

func (s *Server) mfaVerifyEmail(w http.ResponseWriter, r *http.Request) {
	s.verifyWith(w, r, userpool.FactorEmail, func(in *verifyRequest) string { return in.Code })
}

// mfaCheck is Authing's phoneOrEmailBindable: true when the phone or
// address is free in the pool or already the MFA token's user's.
func (s *Server) mfaCheck(w http.ResponseWriter, r *http.Request) {
	var in verifyRequest
	if err := s.decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	ok, err := s.MFA.PhoneOrEmailBindable(r.Context(), s.meta(r, ""), httpapi.Bearer(r), in.Phone, in.Email)
	s.writeREST(w, r, ok, err, "fetched")
}

// mfa is h, or the "not supported" answer when the server has no MFA.
func (s *Server) mfa(h http.HandlerFunc) http.HandlerFunc {
	if s.MFA == nil {
		return s.mfaFace
	}
	return h
}

// mfaFace answers every face-verification call: not supported.
func (s *Server) mfaFace(w http.ResponseWriter, r *http.Request) {
	s.writeREST(w, r, nil, errFace)
}
