package userpool

import (
	"context"
	"time"
)

// FactorPasskey is the kind of second factor a registered passkey gives.
const FactorPasskey = "passkey"

// Passkey error codes (api/mfa.go holds the same numbers).
const (
	// CodePasskeyInvalid: the passkey's answer does not verify (signature,
	// origin, relying party, user verification), names an unknown
	// credential, or its ceremony is unknown, used or expired.
	CodePasskeyInvalid Code = 6006
	// CodePasskeyCloned: the authenticator's signature counter went back:
	// two copies of the credential exist. The sign-in is refused.
	CodePasskeyCloned Code = 6007
)

// Purposes of a WebAuthn ceremony.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
	CeremonyMFA      = "mfa"
)

// Passkey is a user's WebAuthn credential.
type Passkey struct {
	ID     string
	PoolID string
	UserID string
	// CredentialID is the authenticator's id of the credential (unique in
	// the pool); PublicKey its COSE key.
	CredentialID      []byte
	PublicKey         []byte
	AttestationType   string
	AttestationFormat string
	AAGUID            []byte
	// SignCount is the last signature counter accepted.
	SignCount      uint32
	Transports     []string
	UserPresent    bool
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	Name           string
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero when never used
}

// WebAuthnCeremony is the server side of a registration or sign-in begun:
// the library's session data (with the challenge), bound to the pool, the
// purpose, the user ("" for a passwordless sign-in) and, for the second
// factor, the MFA challenge's id (Binding).
type WebAuthnCeremony struct {
	ID        string // keyed hash of the challenge
	PoolID    string
	Purpose   string
	UserID    string
	Binding   string
	Session   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasskeyUse, written with a login, records a passkey's use: its counter
// moves from Prev to SignCount (compare-and-swap: the write fails with
// ErrPasskeyChanged, and the login with it, when another use moved it
// first or the passkey was removed), with its backup state and time.
type PasskeyUse struct {
	PoolID, ID      string
	Prev, SignCount uint32
	BackupState     bool
	UserVerified    bool
	At              time.Time
}

func (*PasskeyUse) record() {}

// PasskeyStore keeps passkeys and WebAuthn ceremonies. It is part of Store.
type PasskeyStore interface {
	// CreatePasskey stores p; a credential id the pool has already gives
	// ErrPasskeyExists, a user holding MaxPasskeys already
	// ErrTooManyPasskeys (counted under the user's row lock: concurrent
	// registrations cannot pass the limit together).
	CreatePasskey(ctx context.Context, p *Passkey, recs ...Record) error
	// ListPasskeys returns the user's passkeys, oldest first.
	ListPasskeys(ctx context.Context, poolID, userID string) ([]*Passkey, error)
	// GetPasskeyByCredential returns the passkey with that credential id,
	// or ErrNotFound.
	GetPasskeyByCredential(ctx context.Context, poolID string, credentialID []byte) (*Passkey, error)
	// RenamePasskey names the user's passkey id; ErrNotFound when the
	// user has none with that id.
	RenamePasskey(ctx context.Context, poolID, userID, id, name string, recs ...Record) error
	// DeletePasskey deletes the user's passkey id; ErrNotFound when the
	// user has none with that id.
	DeletePasskey(ctx context.Context, poolID, userID, id string, recs ...Record) error

	// CreateWebAuthnCeremony stores c.
	CreateWebAuthnCeremony(ctx context.Context, c *WebAuthnCeremony) error
	// TakeWebAuthnCeremony deletes the ceremony id of the pool and returns
	// it (whatever its expiry: the caller judges), or ErrNotFound. Atomic:
	// of concurrent takes of one ceremony, one gets it.
	TakeWebAuthnCeremony(ctx context.Context, poolID, id string) (*WebAuthnCeremony, error)
}

// MaxPasskeys is how many passkeys one user may hold.
const MaxPasskeys = 20

// Errors of the passkey store.
var (
	ErrTooManyPasskeys = &Error{Code: CodeInvalidArgument, Reason: "too_many_passkeys", Message: "this account has the most passkeys it may have: remove one first"}
	ErrPasskeyExists   = &Error{Code: CodeMFAAlreadyEnrolled, Reason: "passkey_exists", Message: "this passkey is registered already"}
	ErrPasskeyChanged  = &Error{Code: CodePasskeyInvalid, Reason: "passkey_changed", Message: "the passkey was used or removed meanwhile: try again"}
)
