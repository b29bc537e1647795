package auth

import (
	"context"

	"github.com/authpool/authpool/internal/mfa"
	"github.com/authpool/authpool/internal/userpool"
)

// totpLabels are the issuer and account an authenticator app shows.
func (s *Service) totpLabels(u *userpool.User) (issuer, account string) {
	account = u.Email
	for _, a := range []string{u.Username, u.Phone, u.ID} {
		if account == "" {
			account = a
		}
	}
	issuer = s.cfg.MFAIssuer
	if issuer == "" {
		issuer = "authpool"
	}
	return issuer, account
}

// PendingTOTPEnrolment shows again the TOTP factor that the user of a
// live MFA token is enrolling (started by EnrolTOTP, not confirmed):
// its secret and QR code, without recovery codes, so that the hosted
// page asking the first code again after a wrong one keeps the secret
// the app has already. It counts no attempt and, like EnrolTOTP with an
// MFA token, works only while the user has no usable factor.
func (s *Service) PendingTOTPEnrolment(ctx context.Context, m Meta, mfaToken string) (*TOTPEnrolment, error) {
	if mfaToken == "" {
		return nil, errMFATokenInvalid
	}
	u, _, _, err := s.mfaSubject(ctx, m, "", mfaToken)
	if err != nil {
		return nil, err
	}
	_, secret, err := s.totpFactor(ctx, u, true)
	if err != nil {
		return nil, err
	}
	issuer, account := s.totpLabels(u)
	k, err := mfa.TOTPKeyOf(issuer, account, secret)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return &TOTPEnrolment{Secret: k.Secret, URI: k.URI, QRPNG: k.QRPNG}, nil
}
