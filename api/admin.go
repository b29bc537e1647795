package api

import "time"

// Codes of the administration API (authpool's own 1400 block).
const (
	CodeAdminUnauthorized = 1401 // admin_key_required, admin_key_invalid
	CodePoolExists        = 1409 // pool_exists
	// CodeKeyRotationPending (key_rotation_pending, HTTP 409): a new
	// signing key is already waiting for its lead time to pass.
	CodeKeyRotationPending = 1410
)

// Pool is a user pool. Settings maps each setting's name (as in
// docs/API.md, e.g. "verifyOldEmail", "tokenTTL") to its value: a boolean,
// an integer, or a duration as Go duration text ("15m0s").
type Pool struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	IsDefault bool           `json:"isDefault"`
	Settings  map[string]any `json:"settings"`
	CreatedAt time.Time      `json:"createdAt"`
}

// PoolList answers GET /api/v1/admin/pools.
type PoolList struct {
	Pools []Pool `json:"pools"`
}

// CreatePoolRequest creates a pool. ID "" gets a random id; Settings
// changes the built-in defaults (durations as text such as "10m").
type CreatePoolRequest struct {
	ID       string         `json:"id,omitempty"`
	Name     string         `json:"name"`
	Settings map[string]any `json:"settings,omitempty"`
}

// UpdatePoolRequest renames a pool and changes the settings it names;
// absent settings keep their values.
type UpdatePoolRequest struct {
	Name     *string        `json:"name,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
}

// Field is a user-defined field definition.
type Field struct {
	Key         string    `json:"key"`
	DataType    string    `json:"dataType"`
	Label       string    `json:"label"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// UserEditable: end users may set and remove their own value.
	UserEditable bool `json:"userEditable"`
}

// FieldList answers GET /api/v1/admin/pools/{poolId}/fields.
type FieldList struct {
	Fields []Field `json:"fields"`
}

// DefineFieldRequest defines a field; Label defaults to Key.
type DefineFieldRequest struct {
	Key         string `json:"key"`
	DataType    string `json:"dataType"`
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
	// UserEditable lets end users set and remove their own value
	// (PUT/DELETE /api/v1/users/me/udv/{key}, the account page); false
	// by default.
	UserEditable bool `json:"userEditable,omitempty"`
}

// UpdateFieldRequest changes a definition; absent parts stay. DataType
// can change only while no user has a value for the field.
type UpdateFieldRequest struct {
	Label       *string `json:"label,omitempty"`
	Description *string `json:"description,omitempty"`
	DataType    *string `json:"dataType,omitempty"`
	// UserEditable changes whether end users may set their own value.
	UserEditable *bool `json:"userEditable,omitempty"`
}

// UserList is one page of users, newest first. Total counts every match.
type UserList struct {
	Users  []User `json:"users"`
	Total  int    `json:"total"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
}

// CreateUserRequest creates a user as an administrator: at least one of
// Email, Username and Phone; Password is optional (without it the user
// cannot log in by password) and follows the pool's policy. PasswordHash,
// instead of Password, brings a hash from another system (bcrypt, argon2,
// scrypt, Firebase scrypt, PBKDF2, Django, Keycloak, legacy digests; see
// docs/MIGRATION.md): it is checked for format and cost limits, verified
// at login, and replaced by the pool's own hash at the first successful
// login.
type CreateUserRequest struct {
	Email         string         `json:"email,omitempty"`
	Username      string         `json:"username,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	Password      string         `json:"password,omitempty"`
	PasswordHash  string         `json:"passwordHash,omitempty"`
	Profile       *Profile       `json:"profile,omitempty"`
	EmailVerified bool           `json:"emailVerified,omitempty"`
	PhoneVerified bool           `json:"phoneVerified,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
}

// UpdateUserRequest sets the verified flags; absent flags stay.
type UpdateUserRequest struct {
	EmailVerified *bool `json:"emailVerified,omitempty"`
	PhoneVerified *bool `json:"phoneVerified,omitempty"`
}

// BlockedUser answers a block: the user, and how many of their sessions
// it ended.
type BlockedUser struct {
	User
	SessionsRevoked int `json:"sessionsRevoked"`
}

// Session is one alive login of a user.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	ClientIP  string    `json:"clientIp,omitempty"`
	UserAgent string    `json:"userAgent,omitempty"`
}

// SessionList answers GET .../users/{userId}/sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// RevokedSessions answers DELETE .../users/{userId}/sessions.
type RevokedSessions struct {
	Revoked int `json:"revoked"`
}

// AuditEvent is one line of a pool's audit log.
type AuditEvent struct {
	ID        string            `json:"id"`
	UserID    string            `json:"userId,omitempty"`
	Event     string            `json:"event"`
	ClientIP  string            `json:"clientIp,omitempty"`
	UserAgent string            `json:"userAgent,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

// AuditList answers GET .../audit, newest first.
type AuditList struct {
	Events []AuditEvent `json:"events"`
}

// SigningKey describes a token signing key; its private half is never
// shown. State is next (published, not signing yet), current (signs new
// tokens), previous (signs no more, published until its tokens expire)
// or retired (no longer published).
type SigningKey struct {
	Kid       string    `json:"kid"`
	Algorithm string    `json:"algorithm"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"createdAt"`
	SignsFrom time.Time `json:"signsFrom"`
	// RetiresAt is when a previous key leaves the JWKS, or when a retired
	// one left it; absent for next and current keys.
	RetiresAt *time.Time `json:"retiresAt,omitempty"`
}

// SigningKeyList answers GET /api/v1/admin/keys, oldest key first.
type SigningKeyList struct {
	Keys []SigningKey `json:"keys"`
}
