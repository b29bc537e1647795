package userpool

import (
	"context"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Connectors are a pool's upstream identity providers (issue 15,
// docs/SOCIAL.md): users sign in with an account they hold there. The
// protocol is internal/connector's; the flow and the linking policy are
// auth/social.go's; this file holds what every layer shares.

// Connector types.
const (
	// ConnectorOIDC is any OpenID provider found by its issuer's discovery
	// document; its ID token is verified (issuer, audience, JWKS
	// signature, expiry, nonce).
	ConnectorOIDC = "oidc"
	// ConnectorOAuth2 is a plain OAuth 2.0 provider: authorize, token and
	// userinfo URLs and a claim mapping from the userinfo answer.
	ConnectorOAuth2 = "oauth2"
	// The presets: fixed endpoints and each provider's own answers
	// (internal/connector/preset.go).
	ConnectorGitHub    = "github"
	ConnectorGoogle    = "google"
	ConnectorMicrosoft = "microsoft"
	ConnectorApple     = "apple"
	ConnectorWeChat    = "wechat"
)

// ConnectorTypes lists the connector types in the order documented.
var ConnectorTypes = []string{ConnectorOIDC, ConnectorOAuth2, ConnectorGitHub, ConnectorGoogle, ConnectorMicrosoft, ConnectorApple, ConnectorWeChat}

// Claim names a claim mapping may set (Connector.ClaimMap keys): where the
// upstream's userinfo answer keeps each part of the profile.
const (
	ClaimSubject       = "subject"
	ClaimEmail         = "email"
	ClaimEmailVerified = "emailVerified"
	ClaimName          = "name"
	ClaimUsername      = "username"
	ClaimPicture       = "picture"
)

var claimKeys = []string{ClaimSubject, ClaimEmail, ClaimEmailVerified, ClaimName, ClaimUsername, ClaimPicture}

// Bounds of what an administrator sets on a connector.
const (
	MaxConnectorsPerPool   = 50
	MaxConnectorURLLen     = 2048
	MaxConnectorLabelLen   = 64
	MaxConnectorClientID   = 256
	MaxConnectorSecretLen  = 8192 // an Apple .p8 key in PEM is about 250 bytes
	MaxConnectorScopes     = 20
	MaxConnectorScopeLen   = 128
	MaxConnectorClaimLen   = 64
	MaxConnectorExtraLen   = 128 // Apple's team and key ids, Microsoft's tenant
	MaxIdentityDataBytes   = 16 << 10
	MaxIdentitiesPerUser   = 20
	MaxUpstreamSubjectLen  = 255
	MaxUpstreamAnswerBytes = 1 << 20
)

// Connector is one upstream identity provider of a pool. ID is the
// administrator's name for it (the {connector} of the sign-in URL and the
// Provider of the identities it makes). The client secret is kept only
// sealed (SealedSecret, AES-GCM under a server key, the connector's pool
// and id as associated data) and never shown again.
type Connector struct {
	PoolID  string
	ID      string
	Type    string
	Label   string
	Icon    string
	Enabled bool

	ClientID     string
	SealedSecret []byte
	// HasSecret says a secret is stored (SealedSecret is not always read).
	HasSecret bool

	// Issuer (oidc, and microsoft's tenant issuer) is found by discovery.
	Issuer string
	// AuthURL, TokenURL and UserInfoURL are oauth2's endpoints; a preset
	// fills its own and they may be set to point it at a stand-in.
	AuthURL, TokenURL, UserInfoURL string
	// Scopes are asked for; oidc always asks "openid".
	Scopes []string
	// ClaimMap maps claim names (ClaimSubject, ...) to the upstream's keys
	// in its userinfo answer, dotted for nested objects ("data.id").
	ClaimMap map[string]string
	// Tenant is Microsoft's (its issuer names it). TeamID and KeyID are
	// Apple's: its client secret is a JWT signed with the .p8 key (the
	// connector's sealed secret) that KeyID names, issued by TeamID.
	TeamID, KeyID, Tenant string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConnectorStore keeps a pool's connectors, the short-lived states of their
// sign-ins and the identities they link.
type ConnectorStore interface {
	// CreateConnector inserts c; an id the pool already uses is
	// ErrConnectorExists, an unknown pool ErrPoolNotFound.
	CreateConnector(ctx context.Context, c *Connector, recs ...Record) error
	// GetConnector returns the pool's connector, or ErrConnectorNotFound.
	GetConnector(ctx context.Context, poolID, id string) (*Connector, error)
	// ListConnectors returns the pool's connectors in id order.
	ListConnectors(ctx context.Context, poolID string) ([]*Connector, error)
	// UpdateConnector reads the connector, calls fn and writes it back in
	// one transaction; fn must not change PoolID, ID or Type.
	UpdateConnector(ctx context.Context, poolID, id string, fn func(*Connector) error, recs ...Record) (*Connector, error)
	// DeleteConnector deletes it (the identities it made stay: they name
	// it and sign in again if a connector of that id comes back), or
	// ErrConnectorNotFound.
	DeleteConnector(ctx context.Context, poolID, id string, recs ...Record) error

	// PutSocialState stores a state; an id already stored is an error.
	PutSocialState(ctx context.Context, s *SocialState) error
	// TakeSocialState deletes the pool's state of that id and kind and
	// returns it, in one atomic step: of several concurrent takes exactly
	// one gets it. Missing, taken or expired at now: ErrNotFound.
	TakeSocialState(ctx context.Context, poolID string, id []byte, kind string, now time.Time) (*SocialState, error)

	// GetUserByIdentity returns the user holding the identity, or
	// ErrUserNotFound.
	GetUserByIdentity(ctx context.Context, poolID, provider, subject string) (*User, error)
	// ListIdentities returns the user's identities by provider and subject.
	ListIdentities(ctx context.Context, poolID, userID string) ([]*Identity, error)
	// DeleteIdentity deletes the user's identity in one transaction with
	// recs, after allow (given the user, locked against concurrent
	// changes, and how many other identities it holds) accepts. A missing
	// identity is ErrNotFound; allow's error is returned as is.
	DeleteIdentity(ctx context.Context, poolID, userID, provider, subject string, allow func(u *User, others int) error, recs ...Record) error
}

// SocialState is a short-lived secret of a social sign-in, stored under a
// keyed hash of its value (the value itself only the browser or the app
// holds): the authorization in flight ("authorize", with the PKCE verifier
// and nonce), a finished login waiting for the app's exchange ("result")
// or a link waiting for the signed-in user's confirmation ("link"). Data
// is sealed by the use case.
type SocialState struct {
	ID        []byte
	PoolID    string
	Kind      string
	Data      []byte
	ExpiresAt time.Time
}

// Kinds of social states.
const (
	StateAuthorize = "authorize"
	StateResult    = "result"
	StateLink      = "link"
	// StateMFALink is an identity a social sign-in would link, waiting
	// for the second factor of the MFA challenge it rode with.
	StateMFALink = "mfa-link"
)

// IdentityLink is a Record: it links an upstream identity to UserID in the
// transaction of the change it rides with (the user's creation, or the
// login's update), or refreshes the profile data of one the user already
// holds. The identity held by another user aborts the transaction with
// ErrIdentityTaken, which is how two first sign-ins racing with one
// upstream identity end with one user.
type IdentityLink struct {
	PoolID   string
	UserID   string
	Identity Identity
}

func (*IdentityLink) record() {}

// Codes of social sign-in (api/social.go).
const (
	// CodeSocialState: the sign-in's state is unknown, expired, already
	// used or not this browser's.
	CodeSocialState Code = 2801
	// CodeSocialUpstream: the upstream refused, could not be reached, or
	// answered something that does not verify (an ID token signed by
	// another key, for another audience, with another nonce).
	CodeSocialUpstream Code = 2802
	// CodeSocialLinkRequired: an account with the upstream's email exists
	// and may not be linked automatically: sign in to it and confirm the
	// link with the link token.
	CodeSocialLinkRequired Code = 2803
	// CodeIdentityTaken: the upstream identity belongs to another user.
	CodeIdentityTaken Code = 2804
	// CodeConnectorExists: the pool already has a connector of that id.
	CodeConnectorExists Code = 2805
	// CodeConnectorDisabled: the connector does not exist or is disabled.
	CodeConnectorDisabled Code = 2806
)

// Sentinels of connectors and identities.
var (
	ErrConnectorNotFound = &Error{Code: CodeNotFound, Reason: "connector_not_found", Message: "no such connector"}
	ErrConnectorExists   = &Error{Code: CodeConnectorExists, Reason: "connector_exists", Message: "the pool already has a connector with this id"}
	ErrIdentityTaken     = &Error{Code: CodeIdentityTaken, Reason: "identity_taken", Message: "this upstream account is already linked to another user"}
)

var connectorIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func connectorInvalid(format string, args ...any) error {
	return Errorf(CodeInvalidArgument, "invalid_connector", format, args...)
}

// ValidConnectorID says whether id may name a connector (path segment,
// identity provider).
func ValidConnectorID(id string) bool { return connectorIDPattern.MatchString(id) }

// ValidateConnector checks everything an administrator sets on c and
// fills the defaults (label, scopes). Endpoints must be https, or http to
// a loopback host (a provider on the same machine: development, tests);
// see docs/SOCIAL.md.
func ValidateConnector(c *Connector) error {
	if !ValidConnectorID(c.ID) {
		return connectorInvalid("id must be 1-40 characters of a-z, 0-9, '-' and '_', starting with a letter or digit")
	}
	if !slices.Contains(ConnectorTypes, c.Type) {
		return connectorInvalid("type must be one of %s", strings.Join(ConnectorTypes, ", "))
	}
	c.Label = strings.TrimSpace(c.Label)
	if c.Label == "" {
		c.Label = c.ID
	}
	if !printable(c.Label, MaxConnectorLabelLen) {
		return connectorInvalid("label must be at most %d printable characters", MaxConnectorLabelLen)
	}
	if c.Icon != "" {
		if err := checkEndpoint("icon", c.Icon); err != nil {
			return err
		}
	}
	if c.ClientID == "" || !printable(c.ClientID, MaxConnectorClientID) || strings.ContainsAny(c.ClientID, " ") {
		return connectorInvalid("clientId is required: at most %d printable characters without spaces", MaxConnectorClientID)
	}
	for _, x := range []struct{ name, v string }{{"teamId", c.TeamID}, {"keyId", c.KeyID}, {"tenant", c.Tenant}} {
		if x.v != "" && (!printable(x.v, MaxConnectorExtraLen) || strings.ContainsAny(x.v, " /?#")) {
			return connectorInvalid("%s must be at most %d printable characters without spaces, '/', '?' or '#'", x.name, MaxConnectorExtraLen)
		}
	}
	for _, e := range []struct{ name, v string }{{"issuer", c.Issuer}, {"authUrl", c.AuthURL}, {"tokenUrl", c.TokenURL}, {"userInfoUrl", c.UserInfoURL}} {
		if e.v != "" {
			if err := checkEndpoint(e.name, e.v); err != nil {
				return err
			}
		}
	}
	switch c.Type {
	case ConnectorOIDC:
		if c.Issuer == "" {
			return connectorInvalid("an oidc connector needs its issuer")
		}
	case ConnectorOAuth2:
		if c.AuthURL == "" || c.TokenURL == "" || c.UserInfoURL == "" {
			return connectorInvalid("an oauth2 connector needs authUrl, tokenUrl and userInfoUrl")
		}
		if c.ClaimMap[ClaimSubject] == "" {
			return connectorInvalid("an oauth2 connector needs claimMap.subject (the userinfo key of the user's stable id)")
		}
	case ConnectorMicrosoft:
		if c.Tenant == "" && c.Issuer == "" {
			return connectorInvalid("a microsoft connector needs its tenant (id or domain)")
		}
	case ConnectorApple:
		if c.TeamID == "" || c.KeyID == "" {
			return connectorInvalid("an apple connector needs teamId and keyId (and its .p8 key as clientSecret)")
		}
	}
	if len(c.Scopes) > MaxConnectorScopes {
		return connectorInvalid("at most %d scopes", MaxConnectorScopes)
	}
	seen := map[string]bool{}
	for _, sc := range c.Scopes {
		if sc == "" || !printable(sc, MaxConnectorScopeLen) || strings.ContainsAny(sc, " \"\\") {
			return connectorInvalid("a scope must be 1-%d printable characters without spaces, quotes or backslashes", MaxConnectorScopeLen)
		}
		if seen[sc] {
			return connectorInvalid("scope %q is listed twice", sc)
		}
		seen[sc] = true
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if len(c.ClaimMap) > len(claimKeys) {
		return connectorInvalid("claimMap has unknown keys: the keys are %s", strings.Join(claimKeys, ", "))
	}
	for k, v := range c.ClaimMap {
		if !slices.Contains(claimKeys, k) {
			return connectorInvalid("claimMap has unknown keys: the keys are %s", strings.Join(claimKeys, ", "))
		}
		if v == "" || !printable(v, MaxConnectorClaimLen) || strings.Contains(v, "..") || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") {
			return connectorInvalid("claimMap.%s must be a key of 1-%d printable characters (dots separate nested keys)", k, MaxConnectorClaimLen)
		}
	}
	return nil
}

// checkEndpoint: an absolute https URL (or http to a loopback host),
// without credentials or fragment, bounded.
func checkEndpoint(name, v string) error {
	if len(v) > MaxConnectorURLLen || !utf8.ValidString(v) || strings.ContainsAny(v, " \t\r\n") {
		return connectorInvalid("%s must be a URL of at most %d characters", name, MaxConnectorURLLen)
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return connectorInvalid("%s must be an absolute URL without credentials or fragment", name)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && LoopbackHost(u.Hostname()):
	default:
		return connectorInvalid("%s must be https (http only to a loopback host: 127.0.0.1, [::1], localhost)", name)
	}
	return nil
}

// LoopbackHost says whether host names this machine.
func LoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func printable(s string, max int) bool {
	if len(s) > max*4 || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
