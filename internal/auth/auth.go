// Package auth holds authpool's use cases: register, log in, check and
// refresh tokens, log out, read and change the profile and the password.
// Policy decisions (what is valid, which code a failure gets, what a login
// does) live here; transports (internal/httpapi, later others) only decode,
// call and encode. The administration use cases (internal/admin) build on
// the same policy through the exported blocks of blocks.go.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/go-webauthn/webauthn/webauthn"
	"log/slog"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/connector"
	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/metrics"
	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// Config holds the process-wide knobs of the service; per-pool policy is
// in userpool.PoolSettings, read from the store.
type Config struct {
	Issuer string

	// Delivery of verification codes.
	Mailer    notify.Mailer
	SMS       notify.SMSSender
	Templates *notify.Templates
	// Sealer encrypts the queued messages (they hold the codes); every
	// replica must have the same key.
	Sealer *courier.Sealer
	// CodeSecret keys the HMAC under which codes are stored.
	CodeSecret []byte
	// PhoneRegion is the region (ISO 3166 code such as "CN") assumed for
	// phone numbers written without a "+" country code; "ZZ" assumes none.
	PhoneRegion string
	// VerifyEmailLink returns the link a VERIFY_EMAIL mail carries; the
	// transport that serves it builds it.
	VerifyEmailLink func(poolID, email, code string) string
	// CaptchaKey keys the HMAC under which CAPTCHA answers are stored.
	// Every replica must have the same key; server derives it.
	CaptchaKey []byte
	// Limits are the per-client-IP request limits, shared by replicas
	// through the store's counters.
	Limits Limits
	// NewCaptchaAnswer returns the digits of a new CAPTCHA's answer, such
	// as "493012"; nil means random. Tests set it to know the answer, the
	// way they inject the clock.
	NewCaptchaAnswer func() string
	// MFASealer encrypts TOTP secrets at rest and MFAKey keys the hashes
	// of MFA tokens, recovery codes and first-factor bindings; every
	// replica must have the same keys (server derives them).
	MFASealer *courier.Sealer
	MFAKey    []byte
	// MFAIssuer labels TOTP entries in authenticator apps ("authpool").
	MFAIssuer string
	// WebAuthn is the relying party of passkeys (its id and origins come
	// from the public URL or AUTHPOOL_WEBAUTHN_*); nil refuses passkeys.
	WebAuthn *webauthn.WebAuthn
	// Social sign-in (social.go): SocialSealer seals connector secrets
	// and the sign-ins' states, SocialKey keys the hashes the states are
	// stored under (every replica needs the same keys); Connectors speaks
	// to the upstreams (nil: social sign-in is off); SocialCallbackURL is
	// the callback every upstream sends the browser back to.
	SocialSealer      *courier.Sealer
	SocialKey         []byte
	Connectors        *connector.Registry
	SocialCallbackURL string
}

// Service runs the use cases over a Store.
type Service struct {
	store  userpool.Store
	tokens *token.Manager
	hasher *password.Hasher
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	pipes  Pipelines // nil: no pipelines run
	limits *limiter
	waker  Waker   // nil: the workers find queued codes by polling
	waits  waiters // attempts waiting for a place in an account's login budget

	pools sync.Map // pool id -> *userpool.Pool; pools are never deleted

	metrics *metrics.Metrics // nil: nothing recorded
}

// UseMetrics records logins and CAPTCHA demands in m. Call it before
// serving.
func (s *Service) UseMetrics(m *metrics.Metrics) { s.metrics = m }

// New builds a Service. now may be nil (time.Now).
func New(store userpool.Store, tokens *token.Manager, hasher *password.Hasher, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, tokens: tokens, hasher: hasher, cfg: cfg, now: now, log: log, limits: &limiter{store: store}}
}

// Meta describes who is calling: the pool the request addresses and where
// it comes from. Transports fill it; ClientIP is already the trusted value.
type Meta struct {
	PoolID    string
	ClientIP  string
	UserAgent string
	// AcceptLanguage picks the language of messages sent to users whose
	// profile has no locale.
	AcceptLanguage string
	// AppID is the application the request authenticated as with its app
	// secret ("" for ordinary, untrusted callers); recorded in the audit log.
	AppID string
	// CaptchaID is the CAPTCHA id a browser holds in a cookie; a password
	// login uses it when its options carry no CaptchaID.
	CaptchaID string
	// RequireMFA demands a second factor whatever the pool's policy (an
	// OpenID Connect request's acr_values asking for MFA): the login
	// answers 1635 (enrolment needed for a user without a factor).
	RequireMFA bool

	// flow is filled by the use case for pipelines and webhooks.
	flow flow
	// mfa is the challenge a second factor completed (nil: none), spent
	// in the login's write.
	mfa *mfaPass
	// passkey is the passkey a passwordless login was proven with (nil:
	// none); see passkey.go.
	passkey *passkeyPass
	// Context is what the client says about the request for the pool's
	// pipelines (Authing's "context" option: a JSON object, already
	// checked and bounded by the transport); nil when none was given. It
	// is carried, not interpreted: the pipelines of register and login
	// read it from the Meta they receive.
	Context map[string]any
}

// Result is a user with, when one was issued or presented, its token.
type Result struct {
	User         *userpool.User
	Token        string
	TokenIssued  time.Time
	TokenExpires time.Time
	NewlyCreated bool
	// Passkey is "hwk" or "swk" (RFC 8176) when a passkey proved this
	// login, first or second factor; "" otherwise.
	Passkey string
	// CustomData is the user's user-defined data.
	CustomData []UDV
}

// Pool resolves a pool id ("" means the default pool).
func (s *Service) Pool(ctx context.Context, id string) (*userpool.Pool, error) {
	if id == "" {
		id = "default"
	}
	if !plausibleID(id) {
		// Straight from a header: never worth a query (PostgreSQL would
		// refuse invalid UTF-8 with an error, not an empty answer).
		return nil, userpool.ErrPoolNotFound
	}
	if p, ok := s.pools.Load(id); ok {
		return p.(*userpool.Pool), nil
	}
	var p *userpool.Pool
	var err error
	if id == "default" {
		p, err = s.store.EnsureDefaultPool(ctx, &userpool.Pool{ID: newID(), Name: "default", IsDefault: true, Settings: userpool.DefaultPoolSettings(), CreatedAt: s.now().UTC()})
	} else {
		p, err = s.store.GetPool(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	s.pools.Store(id, p)
	s.pools.Store(p.ID, p)
	return p, nil
}

// pool resolves m.PoolID and reads the pool's current settings from the
// store (through internal/storecache when the server assembled it: at once
// after this replica's own change, within the change feed's bound after
// another replica's; docs/ARCHITECTURE.md "Caches and the change feed").
func (s *Service) pool(ctx context.Context, m Meta) (*userpool.Pool, error) {
	p, err := s.Pool(ctx, m.PoolID)
	if err != nil {
		return nil, err
	}
	return s.store.GetPool(ctx, p.ID)
}

// CurrentPool returns the addressed pool with its current settings, for
// transports whose wire format depends on a pool setting.
func (s *Service) CurrentPool(ctx context.Context, m Meta) (*userpool.Pool, error) {
	return s.pool(ctx, m)
}

// poolID resolves m.PoolID to a real pool id.
func (s *Service) poolID(ctx context.Context, m Meta) (string, error) {
	p, err := s.Pool(ctx, m.PoolID)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// newID returns a random 128-bit identifier in hex.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// EnsureDefaultPool creates the default pool on first start (with id, or a
// random id when id is "", and the initial settings) and returns it. An
// existing default pool keeps its stored settings.
func (s *Service) EnsureDefaultPool(ctx context.Context, id string, initial userpool.PoolSettings) (*userpool.Pool, error) {
	if id == "" {
		id = newID()
	}
	p, err := s.store.EnsureDefaultPool(ctx, &userpool.Pool{ID: id, Name: "default", IsDefault: true, Settings: initial, CreatedAt: s.now().UTC()})
	if err != nil {
		return nil, err
	}
	s.pools.Store("default", p)
	s.pools.Store(p.ID, p)
	return p, nil
}

// plausibleID reports whether id can name a pool: 1 to 128 bytes of valid
// UTF-8 without control characters.
func plausibleID(id string) bool {
	if len(id) == 0 || len(id) > 128 || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
