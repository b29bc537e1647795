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
	// has no password (registered by phone code, for example), or a hash
	// imported from another system in a format password.Parse accepts,
	// until the user's next successful login replaces it.
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
// verifies with the same keys. Its state follows from its times (package
// token decides): published (JWKS) from CreatedAt, signing from SignsFrom
// until a later key starts signing, retired (unpublished, its private key
// erased) at RetiredAt.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // e.g. "RS256"
	PrivatePEM []byte // PKCS#8 PEM; empty once retired
	CreatedAt  time.Time
	// SignsFrom is when the key starts signing; stores set it to CreatedAt
	// when zero.
	SignsFrom time.Time
	// LastExpiry is at or after the expiry of every token the key signed
	// (zero while it signed none): it must stay published until then.
	LastExpiry time.Time
	// RetiredAt is when the key was retired; zero while it is published.
	RetiredAt time.Time
}

// SigningKeyState is where a signing key is in its lifecycle.
type SigningKeyState string

// The states of a signing key, in the order a key passes through them.
const (
	// KeyNext is published but not signing yet (its lead time runs).
	KeyNext SigningKeyState = "next"
	// KeyCurrent signs new tokens.
	KeyCurrent SigningKeyState = "current"
	// KeyPrevious signs no more but stays published until the tokens it
	// signed have expired.
	KeyPrevious SigningKeyState = "previous"
	// KeyRetired is no longer published and verifies nothing.
	KeyRetired SigningKeyState = "retired"
)

// SigningKeyInfo is what may be shown of a signing key: never its private
// half.
type SigningKeyInfo struct {
	ID        string
	Algorithm string
	State     SigningKeyState
	CreatedAt time.Time
	SignsFrom time.Time
	// RetiresAt is when the key leaves (or left) the JWKS: the planned time
	// for a previous key, the actual one for a retired key, zero for a next
	// or current key.
	RetiresAt time.Time
}

// TransportKey is a private key a transport keeps in the store, one per
// purpose, so that every replica uses the same one: for example the RSA key
// with which Authing-compatible clients encrypt passwords in transit.
type TransportKey struct {
	Purpose    string
	PrivatePEM []byte // PKCS#8 PEM
	CreatedAt  time.Time
}
