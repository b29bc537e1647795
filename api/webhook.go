package api

import "time"

// Webhook event types. A subscription names the types it wants, or "*".
const (
	EventUserRegistered      = "user.registered"
	EventUserLogin           = "user.login"
	EventUserLoginFailed     = "user.login_failed"
	EventUserLogout          = "user.logout"
	EventUserUpdated         = "user.updated"
	EventUserPasswordChanged = "user.password_changed"
	EventUserPasswordReset   = "user.password_reset"
	EventUserPhoneChanged    = "user.phone_changed"
	EventUserEmailChanged    = "user.email_changed"
	EventUserEmailVerified   = "user.email_verified"
	EventUserBlocked         = "user.blocked"
	EventUserDeleted         = "user.deleted"
	EventUserUDVChanged      = "user.udv_changed"
)

// EventTypes lists every event type.
var EventTypes = []string{
	EventUserRegistered, EventUserLogin, EventUserLoginFailed, EventUserLogout,
	EventUserUpdated, EventUserPasswordChanged, EventUserPasswordReset,
	EventUserPhoneChanged, EventUserEmailChanged, EventUserEmailVerified,
	EventUserBlocked, EventUserDeleted, EventUserUDVChanged,
}

// Headers of a webhook delivery and of a request to an HTTP pipeline
// (Standard Webhooks, https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp" // unix seconds
	// HeaderWebhookSignature holds "v1,<base64 HMAC-SHA256 of id.timestamp.body>",
	// keyed by the base64-decoded part of the "whsec_..." secret.
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookEvent is the JSON body of every webhook delivery. The
// webhook-id header identifies the event: it is the same for every attempt
// (and every subscription), so a receiver de-duplicates on it.
type WebhookEvent struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData describes what happened.
type WebhookData struct {
	UserPoolID string `json:"userPoolId"`
	// User is the user as stored by the change (absent for a failed login).
	User *User `json:"user,omitempty"`
	// Where the request came from.
	ClientIP  string `json:"clientIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// Method is the registration or login method: email, username, phone...
	Method string `json:"method,omitempty"`
	// Identifier, Code and Reason describe a failed login: the account it
	// named and the error it got.
	Identifier string `json:"identifier,omitempty"`
	Code       int    `json:"code,omitempty"`
	Reason     string `json:"reason,omitempty"`
}
