package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// Types of passkeys (docs/MFA.md "Passkeys").
type (
	Passkey        = api.Passkey
	PasskeyOptions = api.PasskeyOptions
)

// The SDK carries WebAuthn's messages; it does no cryptography. A
// ceremony's options go to the authenticator (a browser's
// navigator.credentials, or a platform API), and its answer, the
// PublicKeyCredential as JSON, comes back to the matching finish call.

// BeginPasskeyRegistration begins registering a passkey for the
// logged-in user: the options for navigator.credentials.create.
func (c *AuthenticationClient) BeginPasskeyRegistration(ctx context.Context) (json.RawMessage, error) {
	var out api.PasskeyOptions
	if err := c.do(ctx, http.MethodPost, "/api/v1/users/me/passkeys/register/begin", nil, &out, true); err != nil {
		return nil, err
	}
	return out.Options, nil
}

// FinishPasskeyRegistration stores the passkey the authenticator created
// (credential: its PublicKeyCredential as JSON) under name ("" is
// "Passkey").
func (c *AuthenticationClient) FinishPasskeyRegistration(ctx context.Context, name string, credential json.RawMessage) (*Passkey, error) {
	var out Passkey
	if err := c.do(ctx, http.MethodPost, "/api/v1/users/me/passkeys/register/finish",
		api.PasskeyRegistrationRequest{Name: name, Credential: credential}, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListPasskeys lists the logged-in user's passkeys, oldest first.
func (c *AuthenticationClient) ListPasskeys(ctx context.Context) ([]Passkey, error) {
	return c.passkeys(ctx, http.MethodGet, "/api/v1/users/me/passkeys", nil)
}

// RenamePasskey names one of the logged-in user's passkeys; it returns
// the list.
func (c *AuthenticationClient) RenamePasskey(ctx context.Context, id, name string) ([]Passkey, error) {
	return c.passkeys(ctx, http.MethodPatch, "/api/v1/users/me/passkeys/"+url.PathEscape(id), api.RenamePasskeyRequest{Name: name})
}

// RemovePasskey removes one of the logged-in user's passkeys; it returns
// the list.
func (c *AuthenticationClient) RemovePasskey(ctx context.Context, id string) ([]Passkey, error) {
	return c.passkeys(ctx, http.MethodDelete, "/api/v1/users/me/passkeys/"+url.PathEscape(id), nil)
}

func (c *AuthenticationClient) passkeys(ctx context.Context, method, path string, in any) ([]Passkey, error) {
	var out api.Passkeys
	if err := c.do(ctx, method, path, in, &out, true); err != nil {
		return nil, err
	}
	return out.Passkeys, nil
}

// BeginPasskeyLogin begins a passwordless sign-in: the options for
// navigator.credentials.get (no identifier: the authenticator offers the
// passkeys it holds for this server).
func (c *AuthenticationClient) BeginPasskeyLogin(ctx context.Context) (json.RawMessage, error) {
	var out api.PasskeyOptions
	if err := c.do(ctx, http.MethodPost, "/api/v1/login/passkey/begin", nil, &out, false); err != nil {
		return nil, err
	}
	return out.Options, nil
}

// LoginByPasskey finishes a passwordless sign-in with the authenticator's
// answer; the client keeps the token. opts may be nil (its Context reaches
// the pipelines).
func (c *AuthenticationClient) LoginByPasskey(ctx context.Context, credential json.RawMessage, opts *LoginOptions) (*User, error) {
	in := api.PasskeyLoginRequest{Credential: credential}
	if opts != nil {
		in.Context = opts.Context
	}
	return c.userCall(ctx, http.MethodPost, "/api/v1/login/passkey/finish", in, false)
}

// BeginPasskeyMFA begins the passkey second factor of a login that
// answered 1635: the options for navigator.credentials.get, listing the
// user's passkeys.
func (c *AuthenticationClient) BeginPasskeyMFA(ctx context.Context, mfaToken string) (json.RawMessage, error) {
	var out api.PasskeyOptions
	if err := c.do(ctx, http.MethodPost, "/api/v1/mfa/passkey/begin", api.PasskeyMFABeginRequest{MFAToken: mfaToken}, &out, false); err != nil {
		return nil, err
	}
	return out.Options, nil
}

// VerifyPasskeyMFA completes a login that answered 1635 with the
// authenticator's answer; the client keeps the token.
func (c *AuthenticationClient) VerifyPasskeyMFA(ctx context.Context, mfaToken string, credential json.RawMessage) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/mfa/passkey/finish", api.PasskeyMFARequest{MFAToken: mfaToken, Credential: credential}, false)
}

// BeginPasskeyEnrolmentMFA begins registering a passkey with the MFA
// token of a login that answered 1635 with enrolmentRequired (instead of
// EnrolTOTP): the options for navigator.credentials.create.
func (c *AuthenticationClient) BeginPasskeyEnrolmentMFA(ctx context.Context, mfaToken string) (json.RawMessage, error) {
	var out api.PasskeyOptions
	if err := c.do(ctx, http.MethodPost, "/api/v1/mfa/passkey/enrol/begin", api.PasskeyMFABeginRequest{MFAToken: mfaToken}, &out, false); err != nil {
		return nil, err
	}
	return out.Options, nil
}

// FinishPasskeyEnrolmentMFA stores the passkey the authenticator created
// (credential: its PublicKeyCredential as JSON) under name ("" is
// "Passkey") and completes the login of mfaToken; the client keeps the
// token.
func (c *AuthenticationClient) FinishPasskeyEnrolmentMFA(ctx context.Context, mfaToken, name string, credential json.RawMessage) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/mfa/passkey/enrol/finish",
		api.PasskeyMFAEnrolmentRequest{MFAToken: mfaToken, Name: name, Credential: credential}, false)
}
