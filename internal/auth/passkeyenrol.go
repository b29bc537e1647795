package auth

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authpool/authpool/internal/userpool"
)

// Enrolling a passkey with an MFA token (docs/MFA.md "Enrolling a
// passkey at login"): a login that answered 1635 with enrolmentRequired
// may register a passkey instead of a TOTP factor, and the registration
// completes the login as ConfirmTOTP with an MFA token does. The
// ceremony is a registration bound to the challenge (its binding is the
// challenge's id), so it cannot be finished as a signed-in registration
// nor with another MFA token.

// BeginPasskeyEnrolmentMFA begins registering a passkey for the user of
// mfaToken, who must enrol a second factor (no usable factor, as
// EnrolTOTP with an MFA token): the options for
// navigator.credentials.create, with user verification required. It
// counts no attempt of the token; FinishPasskeyEnrolmentMFA does.
func (s *Service) BeginPasskeyEnrolmentMFA(ctx context.Context, m Meta, mfaToken string) (json.RawMessage, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	if mfaToken == "" {
		return nil, errMFATokenInvalid
	}
	u, c, _, err := s.mfaSubject(ctx, m, "", mfaToken)
	if err != nil {
		return nil, err
	}
	pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	if len(pks) >= MaxPasskeys {
		return nil, errTooManyPasskeys
	}
	opts, sd, err := wa.BeginRegistration(holder{u: u, pks: pks}, webauthn.WithExclusions(descriptors(pks)),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			// The passkey is the account's only second factor, enrolled
			// on the first factor alone: it must verify its user.
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return s.beginCeremony(ctx, u.PoolID, userpool.CeremonyRegister, u.ID, c.ID, opts, sd)
}

// FinishPasskeyEnrolmentMFA checks the authenticator's answer to the
// registration begun by BeginPasskeyEnrolmentMFA, stores the passkey
// under name (audit mfa.enrol, webhook user.mfa.enrolled) and completes
// the login of mfaToken: one attempt of the token, counted like any
// second factor, and the challenge is spent in the login's write, so the
// rest of the login runs once.
func (s *Service) FinishPasskeyEnrolmentMFA(ctx context.Context, m Meta, mfaToken, name string, credential json.RawMessage) (*Result, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := checkCredentialSize(credential); err != nil {
		return nil, err
	}
	if name, err = cleanPasskeyName(name); err != nil {
		return nil, err
	}
	if mfaToken == "" {
		return nil, errMFATokenInvalid
	}
	// Only while the user has no usable factor (mfaSubject), then
	// counted like any second factor (challenge: bound to the user and
	// the first factor's credential, not used, not expired, attempts).
	if _, _, _, err := s.mfaSubject(ctx, m, "", mfaToken); err != nil {
		return nil, err
	}
	c, u, pool, err := s.challenge(ctx, m, mfaToken)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: c.Method}
	wrong := func(reason string) error { return s.wrongPasskey(ctx, m, c, u, reason) }
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		s.passkeyRefused(ctx, "mfa enrolment", err)
		return nil, wrong("passkey_invalid")
	}
	sd, err := s.takeCeremony(ctx, pool.ID, parsed.Response.CollectedClientData.Challenge, userpool.CeremonyRegister, u.ID, c.ID)
	if err != nil {
		return nil, wrong("passkey_ceremony_invalid")
	}
	pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	if len(pks) >= MaxPasskeys {
		return nil, errTooManyPasskeys
	}
	cred, err := wa.CreateCredential(holder{u: u, pks: pks}, *sd, parsed)
	if err != nil {
		s.passkeyRefused(ctx, "mfa enrolment", err)
		return nil, wrong("passkey_invalid")
	}
	p, err := s.storePasskey(ctx, m, u, cred, name)
	if err != nil {
		return nil, err
	}
	m.mfa = &mfaPass{challenge: c, factor: userpool.FactorPasskey}
	res, err := s.completeLoginVia(ctx, m, pool.Settings, u, false, c.Method, "")
	if err != nil {
		// The passkey was stored for this login only: a login refused
		// after it (the challenge spent by a racing finish, the user
		// blocked meanwhile, a pipeline's refusal) takes it back, or it
		// would stay a way in that no completed login enrolled.
		cctx := context.WithoutCancel(ctx)
		if derr := s.store.DeletePasskey(cctx, u.PoolID, u.ID, p.ID,
			s.auditEvent(m, u.PoolID, u.ID, auditMFARemove, map[string]string{"factor": userpool.FactorPasskey, "passkey": p.ID, "reason": "login_refused"})); derr != nil {
			s.log.LogAttrs(cctx, slog.LevelWarn, "passkey of a refused enrolment login not removed", slog.String("user_id", u.ID), slog.String("error", derr.Error()))
		}
		return nil, err
	}
	res.Passkey = passkeyAMR(p.BackupEligible)
	return res, nil
}
