package api

import (
	"encoding/json"
	"time"
)

// Error codes of passkeys (docs/MFA.md "Passkeys").
const (
	// CodePasskeyInvalid (passkey_invalid, passkey_ceremony_invalid,
	// passkey_changed; HTTP 401): the authenticator's answer does not
	// verify, names an unknown passkey, or its ceremony is unknown, used
	// or expired (begin again). As a second factor it counts as a wrong
	// one (data.attemptsLeft).
	CodePasskeyInvalid = 6006
	// CodePasskeyCloned (passkey_cloned, HTTP 403): the passkey's
	// signature counter went back, so a copy of it exists; refused,
	// audited and announced (user.passkey_cloned).
	CodePasskeyCloned = 6007
)

// FactorPasskey is the second factor a registered passkey gives.
const FactorPasskey = "passkey"

// PasskeyOptions begins a WebAuthn ceremony: Options is what the browser
// passes to navigator.credentials.create or .get ({"publicKey": {...}},
// binary fields base64url-encoded). The ceremony lives 5 minutes and can
// be finished once.
type PasskeyOptions struct {
	Options json.RawMessage `json:"options"`
}

// PasskeyRegistrationRequest finishes a registration: Credential is the
// PublicKeyCredential the browser answered, as JSON (its toJSON() form).
type PasskeyRegistrationRequest struct {
	Name       string          `json:"name,omitempty"`
	Credential json.RawMessage `json:"credential"`
}

// PasskeyLoginRequest finishes a passwordless sign-in.
type PasskeyLoginRequest struct {
	Credential json.RawMessage `json:"credential"`
	// Context reaches the pool's pipelines as context.params.
	Context map[string]any `json:"context,omitempty"`
}

// PasskeyMFABeginRequest begins the passkey second factor of a login
// that answered 1635.
type PasskeyMFABeginRequest struct {
	MFAToken string `json:"mfaToken"`
}

// PasskeyMFARequest completes a login that answered 1635 with a passkey.
type PasskeyMFARequest struct {
	MFAToken   string          `json:"mfaToken"`
	Credential json.RawMessage `json:"credential"`
}

// PasskeyMFAEnrolmentRequest finishes registering a passkey with the MFA
// token of a login that answered 1635 with enrolmentRequired; the login
// completes. Name is the passkey's name ("" is "Passkey").
type PasskeyMFAEnrolmentRequest struct {
	MFAToken   string          `json:"mfaToken"`
	Name       string          `json:"name,omitempty"`
	Credential json.RawMessage `json:"credential"`
}

// RenamePasskeyRequest names a passkey.
type RenamePasskeyRequest struct {
	Name string `json:"name"`
}

// Passkey is what is shown of a passkey: never its key.
type Passkey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	SignCount  uint32    `json:"signCount"`
	// AAGUID names the authenticator model (all zeros when it does not
	// say), as a UUID.
	AAGUID         string   `json:"aaguid,omitempty"`
	Transports     []string `json:"transports,omitempty"`
	BackupEligible bool     `json:"backupEligible"`
	BackupState    bool     `json:"backupState"`
	UserVerified   bool     `json:"userVerified"`
}

// Passkeys lists a user's passkeys, oldest first.
type Passkeys struct {
	Passkeys []Passkey `json:"passkeys"`
}
