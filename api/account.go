package api

import "time"

// SessionInfo is one alive session of the caller
// (GET /api/v1/users/me/sessions): when and from where it began, as
// recorded at its login (client address and User-Agent), and whether it
// is the one of the presented token.
type SessionInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	ClientIP  string    `json:"clientIp"`
	UserAgent string    `json:"userAgent"`
	Current   bool      `json:"current"`
}

// SessionsRevoked answers DELETE /api/v1/users/me/sessions: how many of
// the caller's other sessions ended.
type SessionsRevoked struct {
	Revoked int `json:"revoked"`
}

// DeleteAccountRequest is the body of DELETE /api/v1/users/me: the
// account's password (omitted for an account without one, which needs a
// sign-in of the last 5 minutes instead).
type DeleteAccountRequest struct {
	Password string `json:"password,omitempty"`
}
