package auth

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// Passkeys (WebAuthn; docs/MFA.md "Passkeys"). go-webauthn does the
// protocol (options, attestation and assertion checks); authpool keeps the
// credentials, the ceremonies and the policy. A ceremony is begun by one
// call and finished by another; between them its session data is a store
// row (webauthn_ceremonies) keyed by a keyed hash of the challenge, which
// the finishing answer carries in its client data: so any replica can
// finish it, and once only (the row is deleted as it is read).

const (
	// ceremonyTTL bounds how long a begun ceremony may be finished.
	ceremonyTTL = 5 * time.Minute
	// MaxPasskeys is how many passkeys one user may register.
	MaxPasskeys = userpool.MaxPasskeys
	// maxPasskeyName bounds a passkey's name (characters).
	maxPasskeyName = 64
	// maxCredentialJSON bounds the authenticator's answer a client sends.
	maxCredentialJSON = 32 << 10
	// methodPasskey is the login method of a passwordless sign-in.
	methodPasskey = "passkey"
)

// Audit events of passkeys (with the MFA ones of mfa.go).
const (
	auditPasskeyCloned  = "mfa.passkey_cloned"
	auditPasskeyRenamed = "mfa.passkey_renamed"
)

var (
	errPasskeysOff     = userpool.Errorf(userpool.CodeMFAUnsupported, "passkeys_unavailable", "passkeys are not available on this server")
	errCeremonyInvalid = userpool.Errorf(userpool.CodePasskeyInvalid, "passkey_ceremony_invalid", "this passkey ceremony is unknown, expired or finished already: begin again")
	errPasskeyCloned   = userpool.Errorf(userpool.CodePasskeyCloned, "passkey_cloned", "this passkey's signature counter went back: the authenticator may have been cloned, so it is refused")
	errPasskeyNotFound = userpool.Errorf(userpool.CodeNotFound, "passkey_not_found", "no such passkey")
	errTooManyPasskeys = userpool.ErrTooManyPasskeys
)

// passkeyInvalid is the answer to an authenticator's answer that does not
// verify; the library's reason is for the log only.
func passkeyInvalid(reason string) *userpool.Error {
	return userpool.Errorf(userpool.CodePasskeyInvalid, reason, "the passkey could not be verified")
}

// passkeyPass is the passkey that proved a passwordless login.
type passkeyPass struct {
	id  string
	amr string // "hwk" or "swk"
}

// passkeyAMR is RFC 8176's method of a passkey: a credential that may be
// synced between devices (backup eligible) lives in software, one that
// may not in a hardware key or a platform's secure element.
func passkeyAMR(backupEligible bool) string {
	if backupEligible {
		return "swk"
	}
	return "hwk"
}

// holder is a user as go-webauthn sees it: the user handle is the user's
// id, and the credentials are the given passkeys.
type holder struct {
	u   *userpool.User
	pks []*userpool.Passkey
}

func (h holder) WebAuthnID() []byte { return []byte(h.u.ID) }

func (h holder) WebAuthnName() string {
	for _, a := range []string{h.u.Email, h.u.Username, h.u.Phone} {
		if a != "" {
			return a
		}
	}
	return h.u.ID
}

func (h holder) WebAuthnDisplayName() string {
	if h.u.Nickname != "" {
		return h.u.Nickname
	}
	return h.WebAuthnName()
}

func (h holder) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(h.pks))
	for i, p := range h.pks {
		out[i] = credentialOf(p)
	}
	return out
}

func credentialOf(p *userpool.Passkey) webauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey, AttestationType: p.AttestationType, AttestationFormat: p.AttestationFormat,
		Transport: ts,
		Flags: webauthn.CredentialFlags{UserPresent: p.UserPresent, UserVerified: p.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

func descriptors(pks []*userpool.Passkey) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, len(pks))
	for i, p := range pks {
		c := credentialOf(p)
		out[i] = c.Descriptor()
	}
	return out
}

func (s *Service) ceremonyID(challenge string) string {
	return hex.EncodeToString(s.mfaMAC("webauthn ceremony", challenge))
}

// beginCeremony stores session (the library's state of a begun ceremony)
// and returns the options for the browser as JSON.
func (s *Service) beginCeremony(ctx context.Context, poolID, purpose, userID, binding string, options any, session *webauthn.SessionData) (json.RawMessage, error) {
	raw, err := json.Marshal(session)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	now := s.now().UTC()
	c := &userpool.WebAuthnCeremony{ID: s.ceremonyID(session.Challenge), PoolID: poolID, Purpose: purpose, UserID: userID,
		Binding: binding, Session: raw, CreatedAt: now, ExpiresAt: now.Add(ceremonyTTL)}
	if err := s.store.CreateWebAuthnCeremony(ctx, c); err != nil {
		return nil, err
	}
	out, err := json.Marshal(options)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return out, nil
}

// takeCeremony spends the ceremony whose challenge the client data names,
// refusing one of another pool, purpose, user or binding, or expired. The
// library's own expiry (on its clock) is cleared: the store's rules.
func (s *Service) takeCeremony(ctx context.Context, poolID, challenge, purpose, userID, binding string) (*webauthn.SessionData, error) {
	if challenge == "" || len(challenge) > 256 {
		return nil, errCeremonyInvalid
	}
	c, err := s.store.TakeWebAuthnCeremony(ctx, poolID, s.ceremonyID(challenge))
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errCeremonyInvalid
	}
	if err != nil {
		return nil, err
	}
	if c.Purpose != purpose || c.UserID != userID || c.Binding != binding || !s.now().Before(c.ExpiresAt) {
		return nil, errCeremonyInvalid
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return nil, userpool.Internal(err)
	}
	sd.Expires = time.Time{}
	return &sd, nil
}

// PasskeysOn says whether this server offers passkeys (a relying party
// is configured).
func (s *Service) PasskeysOn() bool { return s.cfg.WebAuthn != nil }

func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if s.cfg.WebAuthn == nil {
		return nil, errPasskeysOff
	}
	return s.cfg.WebAuthn, nil
}

func checkCredentialSize(raw json.RawMessage) error {
	if len(raw) == 0 {
		return invalid("missing_field", `field "credential" is required`)
	}
	if len(raw) > maxCredentialJSON {
		return invalid("credential_too_large", "the credential must be at most %d bytes", maxCredentialJSON)
	}
	return nil
}

// cleanPasskeyName trims a name and checks its length and characters; ""
// becomes "Passkey".
func cleanPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "Passkey", nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxPasskeyName ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid("invalid_name", "a passkey's name is at most %d characters, without control characters", maxPasskeyName)
	}
	return name, nil
}

// BeginPasskeyRegistration starts registering a passkey for the holder of
// tok: the answer is the options for navigator.credentials.create (a
// discoverable credential, so that it also signs in without an
// identifier), excluding the passkeys the user has.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, m Meta, tok string) (json.RawMessage, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	// A passkey signs in alone, past the password and the second factor,
	// and outlives a password reset: only a sign-in of the last few
	// minutes may add one, so a token that leaked (or a browser left
	// signed in) cannot plant the thief's key for good.
	if s.now().Sub(p.Session.CreatedAt) > FreshSignIn {
		return nil, errPasskeySignInAgain
	}
	pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	if len(pks) >= MaxPasskeys {
		return nil, errTooManyPasskeys
	}
	h := holder{u: u, pks: pks}
	opts, sd, err := wa.BeginRegistration(h, webauthn.WithExclusions(descriptors(pks)),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return s.beginCeremony(ctx, u.PoolID, userpool.CeremonyRegister, u.ID, "", opts, sd)
}

// PasskeyInfo is what may be shown of a passkey: never its key.
type PasskeyInfo struct {
	ID             string
	Name           string
	CreatedAt      time.Time
	LastUsedAt     time.Time
	SignCount      uint32
	AAGUID         []byte
	Transports     []string
	BackupEligible bool
	BackupState    bool
	UserVerified   bool
}

func passkeyInfo(p *userpool.Passkey) PasskeyInfo {
	return PasskeyInfo{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, SignCount: p.SignCount,
		AAGUID: p.AAGUID, Transports: p.Transports, BackupEligible: p.BackupEligible, BackupState: p.BackupState, UserVerified: p.UserVerified}
}

// FinishPasskeyRegistration checks the authenticator's answer (credential:
// the PublicKeyCredential as JSON) to the holder of tok's registration
// ceremony and stores the passkey under name.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, m Meta, tok, name string, credential json.RawMessage) (*PasskeyInfo, error) {
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
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		s.passkeyRefused(ctx, "registration", err)
		return nil, passkeyInvalid("passkey_invalid")
	}
	sd, err := s.takeCeremony(ctx, u.PoolID, parsed.Response.CollectedClientData.Challenge, userpool.CeremonyRegister, u.ID, "")
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
	cred, err := wa.CreateCredential(holder{u: u, pks: pks}, *sd, parsed)
	if err != nil {
		s.passkeyRefused(ctx, "registration", err)
		return nil, passkeyInvalid("passkey_invalid")
	}
	p, err := s.storePasskey(ctx, m, u, cred, name)
	if err != nil {
		return nil, err
	}
	info := passkeyInfo(p)
	return &info, nil
}

// wrongPasskey counts a passkey answer that did not verify as a wrong
// second factor of challenge c, answered as 6006 passkey_invalid rather
// than as a wrong code.
func (s *Service) wrongPasskey(ctx context.Context, m Meta, c *userpool.MFAChallenge, u *userpool.User, reason string) error {
	err := s.wrongFactor(ctx, m, c, u, userpool.FactorPasskey, reason)
	var e *userpool.Error
	if errors.As(err, &e) && e.Code == userpool.CodeMFAWrongCode {
		e.Code, e.Message = userpool.CodePasskeyInvalid, "the passkey could not be verified"
	}
	return err
}

// storePasskey stores the credential a registration ceremony verified as
// u's passkey named name, with its enrolment's audit and webhook events.
func (s *Service) storePasskey(ctx context.Context, m Meta, u *userpool.User, cred *webauthn.Credential, name string) (*userpool.Passkey, error) {
	p := &userpool.Passkey{
		ID: newID(), PoolID: u.PoolID, UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat, AAGUID: cred.Authenticator.AAGUID,
		SignCount: cred.Authenticator.SignCount, UserPresent: cred.Flags.UserPresent, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: name, CreatedAt: s.now().UTC(),
	}
	for _, t := range cred.Transport {
		if len(p.Transports) < 8 && len(t) <= 32 {
			p.Transports = append(p.Transports, string(t))
		}
	}
	if err := s.store.CreatePasskey(ctx, p,
		s.auditEvent(m, u.PoolID, u.ID, auditMFAEnrol, map[string]string{"factor": userpool.FactorPasskey, "passkey": p.ID}),
		s.mfaEvent(api.EventUserMFAEnrolled, m, u, userpool.FactorPasskey)); err != nil {
		return nil, err
	}
	return p, nil
}

// passkeyRefused logs why the library refused an answer (never the
// answer itself), at debug level: a client's mistake, not the server's.
func (s *Service) passkeyRefused(ctx context.Context, ceremony string, err error) {
	attrs := []slog.Attr{slog.String("ceremony", ceremony), slog.String("error", err.Error())}
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		attrs = append(attrs, slog.String("detail", pe.DevInfo))
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "passkey refused", attrs...)
}

// ListPasskeys lists the passkeys of the holder of tok, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, m Meta, tok string) ([]PasskeyInfo, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	return s.PasskeysOf(ctx, u.PoolID, u.ID)
}

// PasskeysOf lists the passkeys of user userID of pool poolID.
func (s *Service) PasskeysOf(ctx context.Context, poolID, userID string) ([]PasskeyInfo, error) {
	pks, err := s.store.ListPasskeys(ctx, poolID, userID)
	if err != nil {
		return nil, err
	}
	out := make([]PasskeyInfo, len(pks))
	for i, p := range pks {
		out[i] = passkeyInfo(p)
	}
	return out, nil
}

// RenamePasskey names a passkey of the holder of tok.
func (s *Service) RenamePasskey(ctx context.Context, m Meta, tok, id, name string) error {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	if name, err = cleanPasskeyName(name); err != nil {
		return err
	}
	err = s.store.RenamePasskey(ctx, u.PoolID, u.ID, id, name,
		s.auditEvent(m, u.PoolID, u.ID, auditPasskeyRenamed, map[string]string{"passkey": id}))
	if errors.Is(err, userpool.ErrNotFound) {
		return errPasskeyNotFound
	}
	return err
}

// RemovePasskey removes a passkey of the holder of tok.
func (s *Service) RemovePasskey(ctx context.Context, m Meta, tok, id string) error {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	err = s.store.DeletePasskey(ctx, u.PoolID, u.ID, id,
		s.auditEvent(m, u.PoolID, u.ID, auditMFARemove, map[string]string{"by": "user", "factor": userpool.FactorPasskey, "passkey": id}),
		s.mfaEvent(api.EventUserMFARemoved, m, u, userpool.FactorPasskey))
	if errors.Is(err, userpool.ErrNotFound) {
		return errPasskeyNotFound
	}
	return err
}

// BeginPasskeyLogin starts a passwordless sign-in: the options for
// navigator.credentials.get with no allowed credentials (the
// authenticator offers the discoverable ones it holds for this relying
// party) and user verification required.
func (s *Service) BeginPasskeyLogin(ctx context.Context, m Meta) (json.RawMessage, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	opts, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return s.beginCeremony(ctx, pool.ID, userpool.CeremonyLogin, "", "", opts, sd)
}

// FinishPasskeyLogin completes a passwordless sign-in with the
// authenticator's answer: its user handle names the user, its signature
// proves the passkey, and the login runs the same process as every login
// (pre-authentication pipelines, lockout, post-authentication pipelines,
// session, user.login webhook, audit, count). A passkey with user
// verification passes the MFA policy by itself.
func (s *Service) FinishPasskeyLogin(ctx context.Context, m Meta, credential json.RawMessage, opts LoginOptions) (*Result, error) {
	m.flow = flow{method: methodPasskey, params: opts.Context}
	res, err := s.finishPasskeyLogin(ctx, m, credential)
	return res, s.loginFailed(ctx, m, err)
}

func (s *Service) finishPasskeyLogin(ctx context.Context, m Meta, credential json.RawMessage) (*Result, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := checkCredentialSize(credential); err != nil {
		return nil, err
	}
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	if err := s.preAuthentication(ctx, &m, pool.ID); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		s.passkeyRefused(ctx, "login", err)
		return nil, passkeyInvalid("passkey_invalid")
	}
	sd, err := s.takeCeremony(ctx, pool.ID, parsed.Response.CollectedClientData.Challenge, userpool.CeremonyLogin, "", "")
	if err != nil {
		return nil, err
	}
	var (
		u  *userpool.User
		pk *userpool.Passkey
	)
	find := func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.GetPasskeyByCredential(ctx, pool.ID, rawID)
		if err != nil {
			return nil, err
		}
		if p.UserID != string(userHandle) {
			return nil, errors.New("the user handle does not own the credential")
		}
		if u, err = s.store.GetUser(ctx, pool.ID, p.UserID); err != nil {
			return nil, err
		}
		pk = p
		return holder{u: u, pks: []*userpool.Passkey{p}}, nil
	}
	_, cred, err := wa.ValidatePasskeyLogin(find, *sd, parsed)
	if err != nil {
		s.passkeyRefused(ctx, "login", err)
		if u != nil {
			s.audit(ctx, s.auditEvent(m, pool.ID, u.ID, userpool.AuditLoginFailure, map[string]string{"method": methodPasskey, "reason": "passkey_invalid"}))
		}
		return nil, passkeyInvalid("passkey_invalid")
	}
	if err := s.lockedOut(ctx, m, pool, u); err != nil {
		return nil, err
	}
	if cred.Authenticator.CloneWarning {
		return nil, s.passkeyCloned(ctx, m, u, pk, parsed.Response.AuthenticatorData.Counter)
	}
	if u.Blocked {
		s.audit(ctx, s.auditEvent(m, pool.ID, u.ID, userpool.AuditLoginFailure, map[string]string{"method": methodPasskey, "reason": "user_blocked"}))
		return nil, errBlocked
	}
	m.passkey = &passkeyPass{id: pk.ID, amr: passkeyAMR(pk.BackupEligible)}
	res, err := s.completeLoginVia(ctx, m, pool.Settings, u, false, methodPasskey, "", s.passkeyUse(pk, cred, parsed))
	return res, err
}

// passkeyUse is the record that moves pk's counter in the login's write.
func (s *Service) passkeyUse(pk *userpool.Passkey, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) *userpool.PasskeyUse {
	return &userpool.PasskeyUse{PoolID: pk.PoolID, ID: pk.ID, Prev: pk.SignCount, SignCount: cred.Authenticator.SignCount,
		BackupState:  parsed.Response.AuthenticatorData.Flags.HasBackupState(),
		UserVerified: pk.UserVerified || parsed.Response.AuthenticatorData.Flags.HasUserVerified(), At: s.now().UTC()}
}

// lockedOut refuses the login of u while the pool's lockout holds the
// account (a passkey is no way around a lock).
func (s *Service) lockedOut(ctx context.Context, m Meta, pool *userpool.Pool, u *userpool.User) error {
	g := &loginGuard{s: s, m: m, set: pool.Settings, poolID: pool.ID, method: methodPasskey, ip: ipKey(m.ClientIP), userID: u.ID, acct: userAcct(u)}
	if !g.locking() {
		return nil
	}
	now := s.now()
	n, until, err := s.store.GetCounter(ctx, g.lockKey(), now)
	if err != nil {
		return err
	}
	if n > 0 {
		g.audit(ctx, userpool.AuditLoginFailure, "account_locked")
		return lockedError(until, now)
	}
	return nil
}

// passkeyCloned reports a counter regression (audit mfa.passkey_cloned,
// webhook user.passkey_cloned) and returns the answer refusing it.
func (s *Service) passkeyCloned(ctx context.Context, m Meta, u *userpool.User, pk *userpool.Passkey, got uint32) error {
	detail := map[string]string{"passkey": pk.ID, "storedCount": strconv.FormatUint(uint64(pk.SignCount), 10),
		"givenCount": strconv.FormatUint(uint64(got), 10)}
	ev := pipeline.NewEvent(api.EventUserPasskeyCloned, u.PoolID, s.now().UTC(), api.WebhookData{
		User: pipeline.APIUser(u), ClientIP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Factor: userpool.FactorPasskey,
	})
	if err := s.store.WriteRecords(context.WithoutCancel(ctx), s.auditEvent(m, u.PoolID, u.ID, auditPasskeyCloned, detail), ev); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "passkey clone not recorded", slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "passkey counter regression refused", slog.String("user_id", u.ID), slog.String("passkey", pk.ID))
	return errPasskeyCloned
}

// BeginPasskeyMFA starts the passkey second factor of a live MFA token:
// the options for navigator.credentials.get listing the user's passkeys.
// It counts no attempt; FinishPasskeyMFA does.
func (s *Service) BeginPasskeyMFA(ctx context.Context, m Meta, mfaToken string) (json.RawMessage, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	c, u, kinds, err := s.pendingFactors(ctx, m, mfaToken)
	if err != nil {
		return nil, err
	}
	if !containsKind(kinds, userpool.FactorPasskey) {
		return nil, errMFANotEnrolled
	}
	pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	opts, sd, err := wa.BeginLogin(holder{u: u, pks: pks}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return s.beginCeremony(ctx, u.PoolID, userpool.CeremonyMFA, u.ID, c.ID, opts, sd)
}

func containsKind(kinds []string, k string) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// FinishPasskeyMFA completes the login of mfaToken with a passkey: one
// attempt of the token, counted like any second factor (a wrong answer
// is a wrong factor: 6006 with data.attemptsLeft, and a failure of the
// account), and the login runs once.
func (s *Service) FinishPasskeyMFA(ctx context.Context, m Meta, mfaToken string, credential json.RawMessage) (*Result, error) {
	wa, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if err := checkCredentialSize(credential); err != nil {
		return nil, err
	}
	c, u, pool, err := s.challenge(ctx, m, mfaToken)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: c.Method}
	kinds, err := s.usableFactors(ctx, u)
	if err != nil {
		return nil, err
	}
	if !containsKind(kinds, userpool.FactorPasskey) {
		return nil, errMFANotEnrolled
	}
	wrong := func(reason string) error { return s.wrongPasskey(ctx, m, c, u, reason) }
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		s.passkeyRefused(ctx, "mfa", err)
		return nil, wrong("passkey_invalid")
	}
	sd, err := s.takeCeremony(ctx, pool.ID, parsed.Response.CollectedClientData.Challenge, userpool.CeremonyMFA, u.ID, c.ID)
	if err != nil {
		return nil, wrong("passkey_ceremony_invalid")
	}
	pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	cred, err := wa.ValidateLogin(holder{u: u, pks: pks}, *sd, parsed)
	if err != nil {
		s.passkeyRefused(ctx, "mfa", err)
		return nil, wrong("passkey_invalid")
	}
	var pk *userpool.Passkey
	for _, p := range pks {
		if string(p.CredentialID) == string(cred.ID) {
			pk = p
		}
	}
	if pk == nil {
		return nil, wrong("passkey_invalid")
	}
	if cred.Authenticator.CloneWarning {
		if lerr := s.secondFactorFailed(ctx, m, u); lerr != nil {
			return nil, lerr
		}
		return nil, s.passkeyCloned(ctx, m, u, pk, parsed.Response.AuthenticatorData.Counter)
	}
	m.mfa = &mfaPass{challenge: c, factor: userpool.FactorPasskey}
	res, err := s.completeLoginVia(ctx, m, pool.Settings, u, false, c.Method, "", s.passkeyUse(pk, cred, parsed))
	if err != nil {
		return nil, err
	}
	res.Passkey = passkeyAMR(pk.BackupEligible)
	return res, nil
}
