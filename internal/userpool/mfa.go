package userpool

import (
	"context"
	"time"
)

// MFA policies of a pool (PoolSettings.MFAPolicy).
const (
	// MFAOff asks no second factor (the default).
	MFAOff = "off"
	// MFAOptional asks a second factor of the users who enrolled one (and
	// of the users an administrator marked as requiring it).
	MFAOptional = "optional"
	// MFARequired asks a second factor of every user; one without any
	// must enrol one (TOTP, or a passkey) before a token is issued.
	MFARequired = "required"
)

// Kinds of second factor.
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
	FactorSMS      = "sms"
	FactorEmail    = "email"
)

// MFA error codes (api/errors.go holds the same numbers).
const (
	// CodeMFARequired answers a first-factor login of a user who must pass
	// a second factor: data.mfaToken, data.factors, data.enrolmentRequired.
	CodeMFARequired Code = 1635
	// CodeMFAWrongCode: a wrong TOTP or recovery code (data.attemptsLeft).
	CodeMFAWrongCode Code = 6001
	// CodeMFATokenInvalid: the MFA token is unknown, expired, used or
	// dead after too many wrong second factors.
	CodeMFATokenInvalid Code = 6002
	// CodeMFAAlreadyEnrolled: the factor is already enrolled.
	CodeMFAAlreadyEnrolled Code = 6003
	// CodeMFANotEnrolled: the factor is not enrolled (or cannot be used).
	CodeMFANotEnrolled Code = 6004
	// CodeMFAUnsupported: a factor authpool does not offer (face).
	CodeMFAUnsupported Code = 6005
)

// MFAFactor is one enrolled (or, for TOTP, being enrolled) second factor
// of a user. At most one factor of each kind per user. Recovery codes are
// kept apart (RecoveryCode).
type MFAFactor struct {
	ID     string
	PoolID string
	UserID string
	Kind   string // FactorTOTP, FactorSMS, FactorEmail
	// Secret is the TOTP secret sealed under the server's MFA key (the
	// factor's ID is the associated data); empty for other kinds.
	Secret []byte
	// Confirmed: a TOTP factor is usable only after its first right code.
	Confirmed bool
	// LastStep is the last TOTP time step accepted: a code of that step or
	// an earlier one is refused (no replay).
	LastStep   int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
}

// MFAChallenge is the state behind an MFA token: a first factor passed,
// the second awaited. Only a keyed hash of the token is stored (ID).
type MFAChallenge struct {
	ID     string
	PoolID string
	UserID string
	// Method is the first factor's login method (email, phone-code...).
	Method string
	// Credential is a keyed hash of the password hash the first factor was
	// checked against ("" when none): a password changed meanwhile makes
	// the token useless.
	Credential []byte
	// Attempts counts the second factors tried (right or wrong).
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until a login completed with it
}

// MFAChallengeSpend, written with a login, marks the challenge used; the
// write fails with an MFA token error (and the login with it) when the
// challenge was used already, so one challenge makes at most one session.
type MFAChallengeSpend struct {
	PoolID, ID string
	At         time.Time
}

func (*MFAChallengeSpend) record() {}

// RecoveryCodeSpend, written with a login, marks a recovery code used;
// the write fails with ErrRecoveryCodeUsed (and the login with it) when
// the code was used already, so that a login that loses a race keeps its
// code unspent, and a code completes at most one login.
type RecoveryCodeSpend struct {
	PoolID, UserID string
	Hash           []byte
	At             time.Time
}

func (*RecoveryCodeSpend) record() {}

// MFAStore keeps factors, recovery codes, challenges and the per-user
// "MFA required" flag. It is part of Store.
type MFAStore interface {
	// PutMFAFactor stores f, replacing an unconfirmed factor of the same
	// kind; a confirmed one of that kind gives ErrMFAAlreadyEnrolled.
	PutMFAFactor(ctx context.Context, f *MFAFactor, recs ...Record) error
	// ListMFAFactors returns the user's factors, oldest first.
	ListMFAFactors(ctx context.Context, poolID, userID string) ([]*MFAFactor, error)
	// UseTOTPStep accepts step for the TOTP factor id: only when step is
	// after the factor's LastStep does it record it (and mark the factor
	// confirmed and used at now, with recs) and say true; otherwise it
	// writes nothing and says false. Atomic across replicas.
	UseTOTPStep(ctx context.Context, poolID, id string, step int64, now time.Time, recs ...Record) (bool, error)
	// DeleteMFAFactors deletes the user's factors of kind ("" for every
	// kind, and then the recovery codes too) and says how many factors it
	// deleted.
	DeleteMFAFactors(ctx context.Context, poolID, userID, kind string, recs ...Record) (int, error)

	// ReplaceRecoveryCodes replaces the user's recovery codes by the given
	// keyed hashes.
	ReplaceRecoveryCodes(ctx context.Context, poolID, userID string, hashes [][]byte, now time.Time, recs ...Record) error
	// RecoveryCodeUnused says whether the user has an unused code with
	// hash; RecoveryCodeSpend (a Record) spends it.
	RecoveryCodeUnused(ctx context.Context, poolID, userID string, hash []byte) (bool, error)
	// CountRecoveryCodes says how many unused recovery codes the user has.
	CountRecoveryCodes(ctx context.Context, poolID, userID string) (int, error)

	// CreateMFAChallenge stores c.
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge, recs ...Record) error
	// TryMFAChallenge counts one attempt on the challenge and returns it,
	// only when it is unused, not expired at now and below max attempts;
	// otherwise ErrNotFound. Atomic: max concurrent tries never exceed it.
	TryMFAChallenge(ctx context.Context, poolID, id string, max int, now time.Time) (*MFAChallenge, error)
	// GetMFAChallenge returns the challenge whatever its state, or
	// ErrNotFound.
	GetMFAChallenge(ctx context.Context, poolID, id string) (*MFAChallenge, error)

	// MFARequiredFor says whether an administrator requires MFA of the user.
	MFARequiredFor(ctx context.Context, poolID, userID string) (bool, error)
	// SetMFARequired sets that flag.
	SetMFARequired(ctx context.Context, poolID, userID string, required bool, recs ...Record) error
}

// Errors of the MFA store and use cases.
var (
	ErrMFAAlreadyEnrolled = &Error{Code: CodeMFAAlreadyEnrolled, Reason: "mfa_already_enrolled", Message: "this second factor is already enrolled: remove it first"}
	ErrRecoveryCodeUsed   = &Error{Code: CodeMFAWrongCode, Reason: "code_reused", Message: "this recovery code was used already"}
	ErrMFATokenInvalid    = &Error{Code: CodeMFATokenInvalid, Reason: "mfa_token_invalid", Message: "the MFA token is invalid, expired or used: log in again"}
)
