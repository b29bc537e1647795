package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/mfa"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// Second factors (docs/MFA.md). A first-factor login of a user who must
// pass MFA ends in completeLoginVia's gate (mfaGate): instead of a token it
// answers 1635 with an MFA token, the key of a stored challenge. Completing
// the challenge with a second factor (VerifyMFA, or ConfirmTOTP while
// enrolling) runs the rest of the login once: the challenge is spent in the
// login's own write, so one challenge makes at most one session.

const (
	// mfaTokenTTL bounds how long a first factor waits for the second.
	mfaTokenTTL = 5 * time.Minute
	// MFAMaxAttempts is how many second factors one MFA token may try.
	MFAMaxAttempts = 5
	// maxMFATokenLen bounds what is hashed of a client's MFA token.
	maxMFATokenLen = 128
)

// Audit events of second factors.
const (
	auditMFAChallenge = "mfa.challenge"
	auditMFASuccess   = "mfa.success"
	auditMFAFailure   = "mfa.failure"
	auditMFAEnrol     = "mfa.enrol"
	auditMFARemove    = "mfa.remove"
	auditMFARecovery  = "mfa.recovery_used"
	auditMFARecodes   = "mfa.recovery_regenerated"
)

var (
	errMFATokenInvalid = userpool.ErrMFATokenInvalid
	errMFANotEnrolled  = userpool.Errorf(userpool.CodeMFANotEnrolled, "mfa_not_enrolled", "this second factor is not enrolled for this account")
	errMFAUnsupported  = userpool.Errorf(userpool.CodeMFAUnsupported, "mfa_unsupported", "this second factor is not supported")
	errMFAEnrolClosed  = userpool.Errorf(userpool.CodeMFAAlreadyEnrolled, "mfa_enrolment_closed", "this account already has a second factor: pass it to log in, then enrol others")
)

// mfaPass is a challenge completed by a second factor; completeLoginVia
// writes its spend with the session.
type mfaPass struct {
	challenge *userpool.MFAChallenge
	factor    string
}

// factors are the factors a login used, for pipelines and events.
func (m Meta) factors() []string {
	if m.flow.method == "" {
		return nil
	}
	if m.passkey != nil && m.mfa == nil {
		return []string{userpool.FactorPasskey}
	}
	if m.mfa != nil {
		return []string{m.flow.method, m.mfa.factor}
	}
	return nil
}

// mfaMAC is the keyed hash of parts under the server's MFA key.
func (s *Service) mfaMAC(parts ...string) []byte {
	mac := hmac.New(sha256.New, s.cfg.MFAKey)
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}

func (s *Service) challengeID(tok string) string {
	return hex.EncodeToString(s.mfaMAC("mfa token", tok))
}

// credential binds a challenge to the password hash the first factor was
// checked against: a password changed before the second factor voids it.
func (s *Service) credential(u *userpool.User, hash string) []byte {
	return s.mfaMAC("credential", u.PoolID, u.ID, hash)
}

func (s *Service) recoveryHash(poolID, userID, code string) []byte {
	return s.mfaMAC("recovery", poolID, userID, code)
}

func newMFAToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// usableFactors lists the second factors u can pass now: a confirmed TOTP
// (and "recovery" while unused recovery codes remain), an SMS or email
// factor while its phone or address is verified.
func (s *Service) usableFactors(ctx context.Context, u *userpool.User) ([]string, error) {
	fs, err := s.store.ListMFAFactors(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	var kinds []string
	for _, f := range fs {
		switch {
		case !f.Confirmed:
		case f.Kind == userpool.FactorTOTP:
			kinds = append(kinds, userpool.FactorTOTP)
			n, err := s.store.CountRecoveryCodes(ctx, u.PoolID, u.ID)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				kinds = append(kinds, userpool.FactorRecovery)
			}
		case f.Kind == userpool.FactorSMS && u.Phone != "" && u.PhoneVerified,
			f.Kind == userpool.FactorEmail && u.Email != "" && u.EmailVerified:
			kinds = append(kinds, f.Kind)
		}
	}
	if s.cfg.WebAuthn != nil {
		pks, err := s.store.ListPasskeys(ctx, u.PoolID, u.ID)
		if err != nil {
			return nil, err
		}
		if len(pks) > 0 {
			kinds = append(kinds, userpool.FactorPasskey)
		}
	}
	return kinds, nil
}

// mfaRequired says whether u must pass a second factor at this login:
// the pool's policy, the administrator's flag for u, or the request's
// acr_values.
func (s *Service) mfaRequired(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User) (bool, error) {
	if set.MFAPolicy == userpool.MFARequired || m.RequireMFA {
		return true, nil
	}
	return s.store.MFARequiredFor(ctx, u.PoolID, u.ID)
}

// mfaGate decides whether the login of u (first factor proven by method)
// must pass a second factor. When it must, it stores a challenge (with
// the login's counter resets in extra, and the password rehash the login
// would have written) and returns the 1635 answer carrying its token;
// otherwise nil.
func (s *Service) mfaGate(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User, method, rehashTo string, extra []userpool.Record) error {
	required, err := s.mfaRequired(ctx, m, set, u)
	if err != nil {
		return err
	}
	if !required && set.MFAPolicy != userpool.MFAOptional {
		return nil
	}
	kinds, err := s.usableFactors(ctx, u)
	if err != nil {
		return err
	}
	if len(kinds) == 0 && !required {
		return nil
	}
	if u.Blocked {
		return errBlocked
	}
	cred := u.PasswordHash
	if rehashTo != "" {
		// The upgrade a password login earns, written now: the second
		// factor proves no password.
		if _, err := s.store.UpdateUser(ctx, u.PoolID, u.ID, func(x *userpool.User) error {
			if x.PasswordHash != u.PasswordHash {
				return errCredentialsChanged
			}
			x.PasswordHash = rehashTo
			return nil
		}); err != nil {
			return err
		}
		cred = rehashTo
	}
	now := s.now().UTC()
	tok := newMFAToken()
	c := &userpool.MFAChallenge{
		ID: s.challengeID(tok), PoolID: u.PoolID, UserID: u.ID, Method: method,
		Credential: s.credential(u, cred), CreatedAt: now, ExpiresAt: now.Add(mfaTokenTTL),
	}
	enrol := len(kinds) == 0
	// The first factor's counter resets wait for the second factor: were
	// they written now, every right password would wipe the account's
	// count of wrong second factors (wrongFactor), and 5 guesses per
	// password login would go on for ever.
	//
	// An identity the sign-in would link (a social sign-in; auto-linked
	// by verified email) waits for the second factor too: linked now, it
	// would attach a way in to the account on the first factor alone.
	var links deferredLinks
	recs := slices.DeleteFunc(slices.Clone(extra), func(r userpool.Record) bool {
		switch r := r.(type) {
		case *userpool.CounterReset:
			return true
		case *userpool.IdentityLink:
			links.Links = append(links.Links, linkData{Connector: r.Identity.Provider, Subject: r.Identity.Subject, Claims: r.Identity.Data, UserID: r.UserID})
			return true
		case *userpool.AuditEvent:
			if r.Event == auditIdentityLink {
				links.By = r.Detail["by"]
				return true
			}
		}
		return false
	})
	if err := s.deferLinks(ctx, c, links); err != nil {
		return err
	}
	recs = append(recs, s.auditEvent(m, u.PoolID, u.ID, auditMFAChallenge, map[string]string{
		"method": method, "factors": strings.Join(kinds, ","), "enrolmentRequired": strconv.FormatBool(enrol),
	}))
	if err := s.store.CreateMFAChallenge(ctx, c, recs...); err != nil {
		return err
	}
	e := userpool.Errorf(userpool.CodeMFARequired, "mfa_required", "a second factor is required: complete the login with the MFA token")
	if enrol {
		e.Message = "this account must enrol a second factor (TOTP) before it can log in: enrol with the MFA token"
		if s.cfg.WebAuthn != nil {
			e.Message = "this account must enrol a second factor (TOTP or a passkey) before it can log in: enrol with the MFA token"
		}
	}
	if kinds == nil {
		kinds = []string{}
	}
	e.Data = map[string]any{
		"mfaToken": tok, "factors": kinds, "enrolmentRequired": enrol,
		"expiresIn": int(mfaTokenTTL / time.Second), "userId": u.ID,
	}
	return e
}

// mfaRecords are what a completed challenge adds to the login's write.
func (s *Service) mfaRecords(m Meta, u *userpool.User) []userpool.Record {
	if m.mfa == nil {
		return nil
	}
	now := s.now().UTC()
	return []userpool.Record{
		&userpool.MFAChallengeSpend{PoolID: u.PoolID, ID: m.mfa.challenge.ID, At: now},
		// What the first factor's right password would have reset (see
		// mfaGate), now that the login is complete.
		&userpool.CounterReset{Key: acctFailKey(u.PoolID, userAcct(u))},
		&userpool.CounterReset{Key: lockFailKey(u.PoolID, userAcct(u))},
		s.auditEvent(m, u.PoolID, u.ID, auditMFASuccess, map[string]string{"factor": m.mfa.factor, "method": m.flow.method}),
		s.mfaEvent(api.EventUserMFAVerified, m, u, m.mfa.factor),
	}
}

func (s *Service) mfaEvent(typ string, m Meta, u *userpool.User, factor string) *userpool.Event {
	return pipeline.NewEvent(typ, u.PoolID, s.now().UTC(), api.WebhookData{
		User: pipeline.APIUser(u), ClientIP: m.ClientIP, UserAgent: m.UserAgent, Method: m.flow.method, Factor: factor,
	})
}

// challenge counts one attempt on the challenge of tok and returns it with
// its user, refusing a token that is unknown, used, expired, dead, or
// whose first factor no longer holds (password changed, user blocked).
func (s *Service) challenge(ctx context.Context, m Meta, tok string) (*userpool.MFAChallenge, *userpool.User, *userpool.Pool, error) {
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, nil, nil, err
	}
	if tok == "" || len(tok) > maxMFATokenLen {
		return nil, nil, nil, errMFATokenInvalid
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.store.TryMFAChallenge(ctx, pool.ID, s.challengeID(tok), MFAMaxAttempts, s.now())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, nil, nil, errMFATokenInvalid
	}
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := s.store.GetUser(ctx, pool.ID, c.UserID)
	if isNotFound(err) {
		return nil, nil, nil, errMFATokenInvalid
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if u.Blocked {
		return nil, nil, nil, errBlocked
	}
	if subtle.ConstantTimeCompare(c.Credential, s.credential(u, u.PasswordHash)) != 1 {
		return nil, nil, nil, errMFATokenInvalid
	}
	return c, u, pool, nil
}

// wrongFactor records a wrong second factor (audit, user.mfa_failed) and
// returns the answer, with the attempts the token has left.
func (s *Service) wrongFactor(ctx context.Context, m Meta, c *userpool.MFAChallenge, u *userpool.User, factor, reason string) error {
	left := max(MFAMaxAttempts-c.Attempts, 0)
	// A wrong second factor is a failed login of the account: it counts
	// towards the CAPTCHA demand and the lockout exactly as a wrong
	// password does, across MFA tokens (a token allows only 5 tries, but
	// a password holder could otherwise ask for tokens without end).
	if lerr := s.secondFactorFailed(ctx, m, u); lerr != nil {
		return lerr
	}
	detail := map[string]string{"factor": factor, "reason": reason, "attemptsLeft": strconv.Itoa(left)}
	if err := s.store.WriteRecords(context.WithoutCancel(ctx),
		s.auditEvent(m, u.PoolID, u.ID, auditMFAFailure, detail), s.mfaEvent(api.EventUserMFAFailed, m, u, factor)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "mfa failure not recorded", slog.String("error", err.Error()))
	}
	e := userpool.Errorf(userpool.CodeMFAWrongCode, reason, "the second factor is wrong")
	if reason == "code_reused" {
		e.Message = "this code was used already: wait for the next one"
	}
	e.Data = map[string]any{"attemptsLeft": left}
	return e
}

// VerifyMFA completes the login of the MFA token tok with a second factor:
// kind "totp" (code from the app), "recovery" (a recovery code), "sms" (a
// code sent by SendSmsCode to the account's verified phone) or "email" (a
// code sent by SendEmail with scene MFA_VERIFY to its verified address).
func (s *Service) VerifyMFA(ctx context.Context, m Meta, tok, kind, code string) (*Result, error) {
	switch kind {
	case userpool.FactorTOTP, userpool.FactorRecovery, userpool.FactorSMS, userpool.FactorEmail:
	case "face":
		return nil, errMFAUnsupported
	default:
		return nil, invalid("invalid_factor", "kind must be totp, recovery, sms or email")
	}
	c, u, pool, err := s.challenge(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: c.Method}
	kinds, err := s.usableFactors(ctx, u)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(kinds, kind) {
		return nil, errMFANotEnrolled
	}
	var spend []userpool.Record
	switch kind {
	case userpool.FactorTOTP:
		if err := s.passTOTP(ctx, m, c, u, code, false); err != nil {
			return nil, err
		}
	case userpool.FactorRecovery:
		norm, ok := mfa.NormalizeRecoveryCode(code)
		if !ok {
			return nil, s.wrongFactor(ctx, m, c, u, kind, "wrong_code")
		}
		h := s.recoveryHash(u.PoolID, u.ID, norm)
		unused, err := s.store.RecoveryCodeUnused(ctx, u.PoolID, u.ID, h)
		if err != nil {
			return nil, err
		}
		if !unused {
			return nil, s.wrongFactor(ctx, m, c, u, kind, "wrong_code")
		}
		// Spent in the login's write, with its audit and webhook event.
		spend = []userpool.Record{
			&userpool.RecoveryCodeSpend{PoolID: u.PoolID, UserID: u.ID, Hash: h, At: s.now().UTC()},
			s.auditEvent(m, u.PoolID, u.ID, auditMFARecovery, nil), s.mfaEvent(api.EventUserMFARecoveryUsed, m, u, kind),
		}
	case userpool.FactorSMS, userpool.FactorEmail:
		purpose, target := purposeSMS, u.Phone
		if kind == userpool.FactorEmail {
			purpose, target = emailPurpose(SceneMFAVerify), userpool.EmailKey(u.Email)
		}
		if err := s.checkCode(ctx, pool.Settings, pool.ID, purpose, target, code, true); err != nil {
			var e *userpool.Error
			if errors.As(err, &e) && e.Code == userpool.CodeWrongCode {
				_ = s.wrongFactor(ctx, m, c, u, kind, e.Reason)
			}
			return nil, err
		}
	}
	m.mfa = &mfaPass{challenge: c, factor: kind}
	res, err := s.completeLoginVia(ctx, m, pool.Settings, u, false, c.Method, "", spend...)
	if errors.Is(err, userpool.ErrRecoveryCodeUsed) {
		return nil, s.wrongFactor(ctx, m, c, u, kind, "code_reused")
	}
	return res, err
}

// passTOTP checks code against u's TOTP factor (confirmed, or with
// enrolling the one being enrolled) and records its step, refusing a step
// used already.
func (s *Service) passTOTP(ctx context.Context, m Meta, c *userpool.MFAChallenge, u *userpool.User, code string, enrolling bool) error {
	f, secret, err := s.totpFactor(ctx, u, enrolling)
	if err != nil {
		return err
	}
	fail := func(reason string) error {
		if c == nil {
			e := userpool.Errorf(userpool.CodeMFAWrongCode, reason, "the code is wrong")
			if reason == "code_reused" {
				e.Message = "this code was used already: wait for the next one"
			}
			return e
		}
		return s.wrongFactor(ctx, m, c, u, userpool.FactorTOTP, reason)
	}
	step, ok := mfa.Match(secret, strings.TrimSpace(code), s.now())
	if !ok {
		return fail("wrong_code")
	}
	var recs []userpool.Record
	if enrolling {
		recs = append(recs, s.auditEvent(m, u.PoolID, u.ID, auditMFAEnrol, map[string]string{"factor": userpool.FactorTOTP}),
			s.mfaEvent(api.EventUserMFAEnrolled, m, u, userpool.FactorTOTP))
	}
	fresh, err := s.store.UseTOTPStep(ctx, u.PoolID, f.ID, step, s.now().UTC(), recs...)
	if err != nil {
		return err
	}
	if !fresh {
		return fail("code_reused")
	}
	return nil
}

// totpFactor returns u's TOTP factor (the unconfirmed one when enrolling)
// and its opened secret.
func (s *Service) totpFactor(ctx context.Context, u *userpool.User, enrolling bool) (*userpool.MFAFactor, string, error) {
	fs, err := s.store.ListMFAFactors(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, "", err
	}
	for _, f := range fs {
		if f.Kind != userpool.FactorTOTP || f.Confirmed == enrolling {
			continue
		}
		plain, err := s.cfg.MFASealer.Open(f.ID, f.Secret)
		if err != nil {
			return nil, "", userpool.Internal(err)
		}
		return f, string(plain), nil
	}
	if enrolling {
		return nil, "", userpool.Errorf(userpool.CodeMFANotEnrolled, "mfa_enrolment_not_started", "no TOTP enrolment is waiting: start one first")
	}
	return nil, "", errMFANotEnrolled
}

// mfaSubject is the user a factor call is about: the holder of the token
// tok, or, with an MFA token instead, the user who must enrol a factor to
// complete a login (only while they have none, so that a stolen password
// cannot add a factor next to the owner's).
func (s *Service) mfaSubject(ctx context.Context, m Meta, tok, mfaToken string) (*userpool.User, *userpool.MFAChallenge, *userpool.Pool, error) {
	if mfaToken == "" {
		_, u, err := s.Authenticate(ctx, m, tok)
		if err != nil {
			return nil, nil, nil, err
		}
		pool, err := s.pool(ctx, m)
		return u, nil, pool, err
	}
	c, u, kinds, err := s.pendingFactors(ctx, m, mfaToken)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(kinds) > 0 {
		return nil, nil, nil, errMFAEnrolClosed
	}
	pool, err := s.pool(ctx, m)
	return u, c, pool, err
}

// TOTPEnrolment is a TOTP factor waiting for its first code, with the
// recovery codes (shown this once) that work once it is confirmed.
type TOTPEnrolment struct {
	Secret, URI   string
	QRPNG         []byte
	RecoveryCodes []string
}

// EnrolTOTP starts a TOTP enrolment for the holder of tok (or of mfaToken,
// see mfaSubject): a new secret, replacing one not confirmed yet. The
// factor is active after ConfirmTOTP.
func (s *Service) EnrolTOTP(ctx context.Context, m Meta, tok, mfaToken string) (*TOTPEnrolment, error) {
	// A QR image and a write each: bounded like a login.
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	u, _, _, err := s.mfaSubject(ctx, m, tok, mfaToken)
	if err != nil {
		return nil, err
	}
	issuer, account := s.totpLabels(u)
	k, err := mfa.NewTOTPKey(issuer, account)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	f := &userpool.MFAFactor{ID: newID(), PoolID: u.PoolID, UserID: u.ID, Kind: userpool.FactorTOTP, CreatedAt: s.now().UTC()}
	f.Secret = s.cfg.MFASealer.Seal(f.ID, []byte(k.Secret))
	if err := s.store.PutMFAFactor(ctx, f); err != nil {
		return nil, err
	}
	codes, err := s.newRecoveryCodes(ctx, m, u)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: k.Secret, URI: k.URI, QRPNG: k.QRPNG, RecoveryCodes: codes}, nil
}

// ConfirmTOTP activates the TOTP factor being enrolled (and its recovery
// codes) with its first right code. With an MFA token (a login that had
// to enrol) the code also passes the challenge and the login completes:
// its result is returned (nil without an MFA token).
func (s *Service) ConfirmTOTP(ctx context.Context, m Meta, tok, mfaToken, code string) (*Result, error) {
	u, c, pool, err := s.mfaSubject(ctx, m, tok, mfaToken)
	if err != nil {
		return nil, err
	}
	if c != nil {
		// Counted like any second factor.
		if c, u, pool, err = s.challenge(ctx, m, mfaToken); err != nil {
			return nil, err
		}
		m.flow = flow{method: c.Method}
	}
	if err := s.passTOTP(ctx, m, c, u, code, true); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nil
	}
	m.mfa = &mfaPass{challenge: c, factor: userpool.FactorTOTP}
	return s.completeLoginVia(ctx, m, pool.Settings, u, false, c.Method, "")
}

func (s *Service) newRecoveryCodes(ctx context.Context, m Meta, u *userpool.User) ([]string, error) {
	codes := mfa.NewRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		n, _ := mfa.NormalizeRecoveryCode(c)
		hashes[i] = s.recoveryHash(u.PoolID, u.ID, n)
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, u.PoolID, u.ID, hashes, s.now().UTC(),
		s.auditEvent(m, u.PoolID, u.ID, auditMFARecodes, nil)); err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the recovery codes of the holder of
// tok (who must have a TOTP factor) by ten new ones.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, m Meta, tok string) ([]string, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.totpFactor(ctx, u, false); err != nil {
		return nil, err
	}
	return s.newRecoveryCodes(ctx, m, u)
}

// FactorInfo is what may be shown of a factor: never its secret.
type FactorInfo struct {
	// ID and Name are a passkey's (one FactorInfo per passkey); "" for
	// the other kinds.
	ID, Name   string
	Kind       string
	Confirmed  bool
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// MFAStatus is a user's second factors.
type MFAStatus struct {
	Factors           []FactorInfo
	RecoveryCodesLeft int
	// Required: an administrator requires MFA of this user.
	Required bool
}

// MFAStatusOf reads the factors of user userID of pool poolID.
func (s *Service) MFAStatusOf(ctx context.Context, poolID, userID string) (*MFAStatus, error) {
	fs, err := s.store.ListMFAFactors(ctx, poolID, userID)
	if err != nil {
		return nil, err
	}
	st := &MFAStatus{Factors: []FactorInfo{}}
	for _, f := range fs {
		st.Factors = append(st.Factors, FactorInfo{Kind: f.Kind, Confirmed: f.Confirmed, CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt})
	}
	pks, err := s.store.ListPasskeys(ctx, poolID, userID)
	if err != nil {
		return nil, err
	}
	for _, p := range pks {
		st.Factors = append(st.Factors, FactorInfo{ID: p.ID, Name: p.Name, Kind: userpool.FactorPasskey, Confirmed: true, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt})
	}
	if st.RecoveryCodesLeft, err = s.store.CountRecoveryCodes(ctx, poolID, userID); err != nil {
		return nil, err
	}
	if st.Required, err = s.store.MFARequiredFor(ctx, poolID, userID); err != nil {
		return nil, err
	}
	return st, nil
}

// ListFactors lists the factors of the holder of tok.
func (s *Service) ListFactors(ctx context.Context, m Meta, tok string) (*MFAStatus, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	return s.MFAStatusOf(ctx, u.PoolID, u.ID)
}

// EnableFactor enrols the SMS or email factor of the holder of tok, whose
// phone or address must be verified.
func (s *Service) EnableFactor(ctx context.Context, m Meta, tok, kind string) (*MFAStatus, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	switch {
	case kind == userpool.FactorSMS && (u.Phone == "" || !u.PhoneVerified):
		return nil, userpool.Errorf(userpool.CodeNotBound, "phone_not_verified", "the SMS factor needs a verified phone number")
	case kind == userpool.FactorEmail && (u.Email == "" || !u.EmailVerified):
		return nil, userpool.Errorf(userpool.CodeNotBound, "email_not_verified", "the email factor needs a verified email address")
	case kind != userpool.FactorSMS && kind != userpool.FactorEmail:
		return nil, invalid("invalid_factor", "kind must be sms or email (TOTP is enrolled with EnrolTOTP)")
	}
	f := &userpool.MFAFactor{ID: newID(), PoolID: u.PoolID, UserID: u.ID, Kind: kind, Confirmed: true, CreatedAt: s.now().UTC()}
	if err := s.store.PutMFAFactor(ctx, f, s.auditEvent(m, u.PoolID, u.ID, auditMFAEnrol, map[string]string{"factor": kind}),
		s.mfaEvent(api.EventUserMFAEnrolled, m, u, kind)); err != nil {
		return nil, err
	}
	return s.MFAStatusOf(ctx, u.PoolID, u.ID)
}

// RemoveFactor removes a factor of the holder of tok; removing TOTP
// removes the recovery codes with it.
func (s *Service) RemoveFactor(ctx context.Context, m Meta, tok, kind string) (*MFAStatus, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if kind != userpool.FactorTOTP && kind != userpool.FactorSMS && kind != userpool.FactorEmail {
		return nil, invalid("invalid_factor", "kind must be totp, sms or email")
	}
	if err := s.RemoveFactors(ctx, m, u, kind, "user"); err != nil {
		return nil, err
	}
	return s.MFAStatusOf(ctx, u.PoolID, u.ID)
}

// RemoveFactors deletes u's factors of kind ("" all, recovery codes
// included), reported by audit and user.mfa_removed; by says who.
func (s *Service) RemoveFactors(ctx context.Context, m Meta, u *userpool.User, kind, by string) error {
	detail := map[string]string{"by": by}
	if kind != "" {
		detail["factor"] = kind
		fs, err := s.store.ListMFAFactors(ctx, u.PoolID, u.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(fs, func(f *userpool.MFAFactor) bool { return f.Kind == kind }) {
			return errMFANotEnrolled
		}
	}
	_, err := s.store.DeleteMFAFactors(ctx, u.PoolID, u.ID, kind,
		s.auditEvent(m, u.PoolID, u.ID, auditMFARemove, detail), s.mfaEvent(api.EventUserMFARemoved, m, u, kind))
	if err != nil {
		return err
	}
	if kind == userpool.FactorTOTP {
		if err := s.store.ReplaceRecoveryCodes(ctx, u.PoolID, u.ID, nil, s.now().UTC()); err != nil {
			return err
		}
	}
	return nil
}

// IsMFAToken tells an MFA token from a user token (a JWT, with two dots),
// for transports where either comes as the bearer (the Authing wire).
func IsMFAToken(tok string) bool { return tok != "" && !strings.Contains(tok, ".") }

// MFAStatusByMFAToken reads the factors of the user of an MFA token that
// is still usable (unused, unexpired, not dead).
func (s *Service) MFAStatusByMFAToken(ctx context.Context, m Meta, mfaToken string) (*MFAStatus, error) {
	c, err := s.liveChallenge(ctx, m, mfaToken)
	if err != nil {
		return nil, err
	}
	return s.MFAStatusOf(ctx, c.PoolID, c.UserID)
}

// liveChallenge reads the challenge of mfaToken without counting an
// attempt, refusing one that is used, expired or dead.
func (s *Service) liveChallenge(ctx context.Context, m Meta, mfaToken string) (*userpool.MFAChallenge, error) {
	if mfaToken == "" || len(mfaToken) > maxMFATokenLen {
		return nil, errMFATokenInvalid
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetMFAChallenge(ctx, pool.ID, s.challengeID(mfaToken))
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errMFATokenInvalid
	}
	if err != nil {
		return nil, err
	}
	if !c.UsedAt.IsZero() || !s.now().Before(c.ExpiresAt) || c.Attempts >= MFAMaxAttempts {
		return nil, errMFATokenInvalid
	}
	return c, nil
}

// PhoneOrEmailBindable answers, for the holder of a live MFA token,
// whether phone or email (whichever is given) is free in the pool or
// already the user's own (Authing's /api/v2/applications/mfa/check).
func (s *Service) PhoneOrEmailBindable(ctx context.Context, m Meta, mfaToken, phone, email string) (bool, error) {
	c, err := s.liveChallenge(ctx, m, mfaToken)
	if err != nil {
		return false, err
	}
	var other *userpool.User
	switch {
	case phone != "":
		p, _, err := s.normalizePhone(phone)
		if err != nil {
			return false, err
		}
		other, err = s.store.GetUserByPhone(ctx, c.PoolID, p)
		if err != nil && !isNotFound(err) {
			return false, err
		}
	case email != "":
		spelled, _, err := spellingAndKey(email)
		if err != nil {
			return false, err
		}
		other, err = s.store.GetUserByEmail(ctx, c.PoolID, spelled)
		if err != nil && !isNotFound(err) {
			return false, err
		}
	default:
		return false, invalid("missing_field", "give a phone number or an email address")
	}
	return other == nil || other.ID == c.UserID, nil
}

// secondFactorFailed counts a wrong second factor against u's account
// (and the client's address) as loginGuard.fail counts a wrong password:
// the next password login meets the CAPTCHA demand, and the lockout when
// the pool has one. It returns the lockout's 2005 when this failure locks
// the account, or the store's error (failing closed).
func (s *Service) secondFactorFailed(ctx context.Context, m Meta, u *userpool.User) error {
	pool, err := s.pool(ctx, m)
	if err != nil {
		return err
	}
	g := &loginGuard{s: s, m: m, set: pool.Settings, poolID: pool.ID, method: "mfa", ip: ipKey(m.ClientIP),
		userID: u.ID, acct: userAcct(u)}
	if ferr := g.fail(ctx, errMFAWrongFactor, "mfa_wrong_factor"); !errors.Is(ferr, errMFAWrongFactor) {
		return ferr
	}
	return nil
}

// errMFAWrongFactor is what secondFactorFailed hands loginGuard.fail, to
// tell its own answer from a lockout or a store error.
var errMFAWrongFactor = userpool.Errorf(userpool.CodeMFAWrongCode, "wrong_code", "the second factor is wrong")

// MFAPending is what a page may know of a live MFA token: the first
// factor's method and the second factors the user can pass.
type MFAPending struct {
	Method  string
	Factors []string
}

// PendingMFA reads the challenge of a live MFA token without counting an
// attempt (the hosted sign-in page's second-factor step).
func (s *Service) PendingMFA(ctx context.Context, m Meta, mfaToken string) (*MFAPending, error) {
	c, _, kinds, err := s.pendingFactors(ctx, m, mfaToken)
	if err != nil {
		return nil, err
	}
	return &MFAPending{Method: c.Method, Factors: kinds}, nil
}

// pendingFactors reads a live MFA token's challenge (counting no attempt),
// its user and the factors the user can pass.
func (s *Service) pendingFactors(ctx context.Context, m Meta, mfaToken string) (*userpool.MFAChallenge, *userpool.User, []string, error) {
	c, err := s.liveChallenge(ctx, m, mfaToken)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := s.store.GetUser(ctx, c.PoolID, c.UserID)
	if isNotFound(err) {
		return nil, nil, nil, errMFATokenInvalid
	}
	if err != nil {
		return nil, nil, nil, err
	}
	kinds, err := s.usableFactors(ctx, u)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, u, kinds, nil
}

// SendMFACode sends the code of the SMS or email second factor of a live
// MFA token's user to their verified phone or address (the page cannot
// know them), through the ordinary send use cases and their limits.
func (s *Service) SendMFACode(ctx context.Context, m Meta, mfaToken, kind string) error {
	_, u, kinds, err := s.pendingFactors(ctx, m, mfaToken)
	if err != nil {
		return err
	}
	if (kind != userpool.FactorSMS && kind != userpool.FactorEmail) || !slices.Contains(kinds, kind) {
		return errMFANotEnrolled
	}
	if kind == userpool.FactorSMS {
		return s.SendSmsCode(ctx, m, u.Phone)
	}
	return s.SendEmail(ctx, m, u.Email, string(SceneMFAVerify))
}
