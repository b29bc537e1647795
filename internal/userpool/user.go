package userpool

import "time"

// Profile holds the descriptive fields of a user. None of them is used to
// log in except Username, which is unique per pool when set.
type Profile struct {
	Username          string
	Nickname          string
	Photo             string
	Company           string
	Browser           string
	Device            string
	LastIP            string
	Name              string
	GivenName         string
	FamilyName        string
	MiddleName        string
	Profile           string
	PreferredUsername string
	Website           string
	Gender            string
	Birthdate         string
	Zoneinfo          string
	Locale            string
	Address           string
	StreetAddress     string
	Locality          string
	Region            string
	PostalCode        string
	City              string
	Province          string
	Country           string
}

// User is an end user of one pool. Email, Username and Phone are unique per
// pool when non-empty (email case-insensitively); the store enforces it.
type User struct {
	ID            string
	PoolID        string
	Email         string
	EmailVerified bool
	Phone         string
	PhoneVerified bool
	// PasswordHash is a PHC string ("$argon2id$..."), or "" when the user
	// has no password (registered by phone code, for example).
	PasswordHash string
	Profile
	LoginsCount int
	LastLogin   time.Time
	SignedUp    time.Time
	Blocked     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// HasPassword reports whether the user can log in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// Session is one login of one user. Tokens carry the session id; a token is
// valid only while its session is neither revoked nor expired, which is what
// makes logout effective at once on every replica.
type Session struct {
	ID        string
	PoolID    string
	UserID    string
	CreatedAt time.Time
	// ExpiresAt bounds the session's life; a refresh moves it forward.
	ExpiresAt time.Time
	RevokedAt time.Time // zero while alive
	ClientIP  string
	UserAgent string
}

// Alive reports whether the session can still back a token at now.
func (s *Session) Alive(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// Pool is a user pool. Every stored row belongs to exactly one.
type Pool struct {
	ID        string
	Name      string
	IsDefault bool
	Settings  PoolSettings
	CreatedAt time.Time
}

// SigningKey is a token signing key, stored so that every replica signs and
// verifies with the same keys.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // e.g. "RS256"
	PrivatePEM []byte // PKCS#8 PEM
	CreatedAt  time.Time
}

// TransportKey is a private key a transport keeps in the store, one per
// purpose, so that every replica uses the same one: for example the RSA key
// with which Authing-compatible clients encrypt passwords in transit.
type TransportKey struct {
	Purpose    string
	PrivatePEM []byte // PKCS#8 PEM
	CreatedAt  time.Time
}
