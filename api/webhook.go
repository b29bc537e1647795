package api

import (
	"encoding/json"
	"time"
)

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
	// EventMessageDeliveryFailed: a verification code could not be sent
	// (the request that asked for it was answered before sending).
	EventMessageDeliveryFailed = "message.delivery_failed"
	// Second factors (docs/MFA.md); data.factor names the factor.
	EventUserMFAEnrolled     = "user.mfa_enrolled"
	EventUserMFARemoved      = "user.mfa_removed"
	EventUserMFAVerified     = "user.mfa_verified"
	EventUserMFAFailed       = "user.mfa_failed"
	EventUserMFARecoveryUsed = "user.mfa_recovery_used"
	// EventUserPasskeyCloned: a passkey's signature counter went back (a
	// cloned authenticator); the sign-in was refused.
	EventUserPasskeyCloned = "user.passkey_cloned"
)

// EventTypes lists every event type.
var EventTypes = []string{
	EventUserRegistered, EventUserLogin, EventUserLoginFailed, EventUserLogout,
	EventUserUpdated, EventUserPasswordChanged, EventUserPasswordReset,
	EventUserPhoneChanged, EventUserEmailChanged, EventUserEmailVerified,
	EventUserBlocked, EventUserDeleted, EventUserUDVChanged,
	EventMessageDeliveryFailed,
	EventUserMFAEnrolled, EventUserMFARemoved, EventUserMFAVerified, EventUserMFAFailed, EventUserMFARecoveryUsed,
	EventUserPasskeyCloned,
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
	// AppID is the application the user signed in to (an OpenID Connect
	// client on the hosted sign-in page, or the app a request
	// authenticated as).
	AppID string `json:"appId,omitempty"`
	// Identifier, Code and Reason describe a failed login: the account it
	// named and the error it got.
	Identifier string `json:"identifier,omitempty"`
	Code       int    `json:"code,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Keys are the user-defined keys set or removed (user.udv_changed);
	// User.CustomData then shows the user's values after the change.
	Keys []string `json:"keys,omitempty"`
	// Channel ("email" or "sms"), Scene (the email scene, or "sms"), Target
	// (the address or phone number, masked) and Attempts describe a
	// message that could not be sent (message.delivery_failed); Reason then
	// says why: send_failed, expired (before it could be sent) or
	// unreadable (its payload does not open under this server's key).
	// Factor is the second factor of a user.mfa_* event (totp,
	// recovery, sms, email; "" for every factor when an administrator
	// reset them).
	Factor   string `json:"factor,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Scene    string `json:"scene,omitempty"`
	Target   string `json:"target,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// WebhookSubscription is a subscription as the administration API shows
// it. Secret appears only in the answer of the call that set or generated
// it (creation, or an update with secret or rotateSecret); lists and gets
// never carry it.
type WebhookSubscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// WebhookList answers GET .../webhooks, oldest first.
type WebhookList struct {
	Webhooks []WebhookSubscription `json:"webhooks"`
}

// CreateWebhookRequest subscribes URL to Events (event types, or "*").
// Secret ("whsec_" and base64 of at least 16 bytes) is generated when
// empty; Enabled defaults to true.
type CreateWebhookRequest struct {
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Secret  string   `json:"secret,omitempty"`
	Enabled *bool    `json:"enabled,omitempty"`
}

// UpdateWebhookRequest changes what it names; absent fields stay.
// RotateSecret generates a new secret (shown in this answer only).
type UpdateWebhookRequest struct {
	URL          *string   `json:"url,omitempty"`
	Events       *[]string `json:"events,omitempty"`
	Secret       *string   `json:"secret,omitempty"`
	RotateSecret bool      `json:"rotateSecret,omitempty"`
	Enabled      *bool     `json:"enabled,omitempty"`
}

// Delivery is one event on its way to one subscription. Status is
// pending, delivered or failed; Attempts counts the attempts of the
// current round (a redelivery starts a new one).
type Delivery struct {
	ID             string    `json:"id"`
	EventID        string    `json:"eventId"`
	SubscriptionID string    `json:"subscriptionId"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	NextAttemptAt  time.Time `json:"nextAttemptAt,omitzero"`
	LastError      string    `json:"lastError,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	FinishedAt     time.Time `json:"finishedAt,omitzero"`
}

// DeliveryList answers GET .../deliveries, newest first.
type DeliveryList struct {
	Deliveries []Delivery `json:"deliveries"`
}

// DeliveryAttempt is one try to deliver: the HTTP status the receiver
// answered (0 when none came), the error ("" on success), how long it
// took and which worker made it.
type DeliveryAttempt struct {
	Number     int       `json:"number"`
	Worker     string    `json:"worker"`
	StatusCode int       `json:"statusCode,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMs int64     `json:"durationMs"`
	CreatedAt  time.Time `json:"createdAt"`
}

// DeliveryDetail answers GET .../deliveries/{deliveryId}: the delivery,
// the event it carries (the body receivers get) and its history: every
// attempt, oldest first, earlier rounds included.
type DeliveryDetail struct {
	Delivery
	Event   json.RawMessage   `json:"event"`
	History []DeliveryAttempt `json:"history"`
}
