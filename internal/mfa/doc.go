// Package mfa holds the second factors' mechanics that need no store:
// TOTP (RFC 6238, through github.com/pquerna/otp) and recovery codes. The
// policy, storage and flows are internal/auth's (mfa.go there).
package mfa
