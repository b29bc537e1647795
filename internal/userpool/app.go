package userpool

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AppType is the kind of OAuth client an application is. It decides how
// the client authenticates and which grants it may use, and cannot change
// after creation.
type AppType string

const (
	// AppWeb is a confidential client on a server: it holds a client
	// secret; authorization code flow (PKCE accepted).
	AppWeb AppType = "web"
	// AppSPA is a public client in a browser: no secret, PKCE required.
	AppSPA AppType = "spa"
	// AppNative is a public client on a device (mobile, desktop, CLI): no
	// secret, PKCE required; loopback and private-use redirect URIs.
	AppNative AppType = "native"
	// AppMachine is a confidential client acting for itself: client
	// credentials only, no user, no redirect URIs.
	AppMachine AppType = "machine"
)

// AppTypes lists every application type.
var AppTypes = []AppType{AppWeb, AppSPA, AppNative, AppMachine}

// Valid reports whether t is one of AppTypes.
func (t AppType) Valid() bool { return slices.Contains(AppTypes, t) }

// Confidential reports whether apps of type t authenticate with a client
// secret (web and machine); the others are public clients.
func (t AppType) Confidential() bool { return t == AppWeb || t == AppMachine }

// Standard OpenID Connect scopes an app may be allowed; any other allowed
// scope is a custom one (ValidCustomScope).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopePhone         = "phone"
	ScopeAddress       = "address"
	ScopeOfflineAccess = "offline_access"
)

// StandardScopes are the scopes with a meaning in OpenID Connect.
var StandardScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopePhone, ScopeAddress, ScopeOfflineAccess}

// Limits and defaults of an App.
const (
	MaxAppNameRunes    = 100
	MaxAppRedirectURIs = 20   // per list (redirect, post-logout)
	MaxAppURIBytes     = 1000 // per URI (two full lists fit in a 64 KiB body)
	MaxAppScopes       = 50
	MaxAppScopeBytes   = 64

	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour

	MinTokenTTL        = time.Minute
	MaxAccessTokenTTL  = 24 * time.Hour
	MaxIDTokenTTL      = 24 * time.Hour
	MinRefreshTokenTTL = time.Hour
	MaxRefreshTokenTTL = 365 * 24 * time.Hour
)

// App is an application of a pool: an OAuth 2.1 / OpenID Connect client.
// Its ID is the client_id, random and unguessable (128 bits or more).
type App struct {
	ID     string
	PoolID string
	Name   string
	Type   AppType
	// RedirectURIs and PostLogoutRedirectURIs are compared by exact
	// string match (MatchRedirectURI), as given at registration.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Scopes are the scopes the app may ask for, sorted, each once.
	Scopes []string
	// FirstParty apps are the pool owner's own: no consent page.
	FirstParty      bool
	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	// SecretHash is the SHA-256 of the client secret (web and machine
	// apps); nil for public clients. The secret itself is never stored.
	SecretHash []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AppStore keeps a pool's applications.
type AppStore interface {
	// CreateApp inserts a. An unknown pool gets ErrPoolNotFound; an ID
	// already used (in any pool) is an error and changes nothing.
	CreateApp(ctx context.Context, a *App, recs ...Record) error
	// GetApp returns the pool's app, or ErrNotFound (also when the app
	// belongs to another pool).
	GetApp(ctx context.Context, poolID, id string) (*App, error)
	// ListApps returns the pool's apps, oldest first.
	ListApps(ctx context.Context, poolID string) ([]*App, error)
	// UpdateApp reads the app, calls fn and writes it back in one
	// transaction; fn's error aborts the write and is returned as is. fn
	// must not change ID, PoolID or Type. The records are written after
	// fn returns, in the same transaction.
	UpdateApp(ctx context.Context, poolID, id string, fn func(*App) error, recs ...Record) (*App, error)
	// SetAppSecret replaces the app's secret hash in one write (the old
	// secret stops matching the moment it commits) and sets UpdatedAt.
	// ErrNotFound when the pool has no such app.
	SetAppSecret(ctx context.Context, poolID, id string, hash []byte, updatedAt time.Time, recs ...Record) (*App, error)
	// DeleteApp deletes the app, or returns ErrNotFound.
	DeleteApp(ctx context.Context, poolID, id string, recs ...Record) error
}

func appInvalid(reason, format string, args ...any) error {
	return Errorf(CodeInvalidArgument, reason, format, args...)
}

// NormalizeApp fills the defaults of a new or changed app (token
// lifetimes, the default scopes) and sorts its scopes, each once. It
// does not validate; call ValidateApp after.
func NormalizeApp(a *App) {
	if a.AccessTokenTTL == 0 {
		a.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if a.IDTokenTTL == 0 {
		a.IDTokenTTL = DefaultIDTokenTTL
	}
	if a.RefreshTokenTTL == 0 {
		a.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if a.Scopes == nil && a.Type != AppMachine {
		a.Scopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail}
	}
	a.Scopes = slices.Clone(a.Scopes)
	slices.Sort(a.Scopes)
	a.Scopes = slices.Compact(a.Scopes)
	if a.RedirectURIs == nil {
		a.RedirectURIs = []string{}
	}
	if a.PostLogoutRedirectURIs == nil {
		a.PostLogoutRedirectURIs = []string{}
	}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
}

// ValidateApp checks everything an administrator sets on an app (see
// docs/OIDC.md, "Applications"): the name, the type, each redirect and
// post-logout URI for the type (ValidateRedirectURI), the scopes and the
// token lifetimes. It returns the first problem as a 1003 error.
func ValidateApp(a *App) error {
	name := strings.TrimSpace(a.Name)
	switch {
	case name == "":
		return appInvalid("invalid_name", "name is required")
	case !utf8.ValidString(a.Name) || strings.ContainsFunc(a.Name, isControlOrFormat):
		// Format characters (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width
		// joiners) would let a name on a consent page read as another.
		return appInvalid("invalid_name", "name must be UTF-8 text without control or format characters")
	case utf8.RuneCountInString(a.Name) > MaxAppNameRunes:
		return appInvalid("invalid_name", "name must be at most %d characters", MaxAppNameRunes)
	case name != a.Name:
		return appInvalid("invalid_name", "name must not start or end with spaces")
	}
	if !a.Type.Valid() {
		return appInvalid("invalid_app_type", "type must be web, spa, native or machine")
	}
	for _, l := range []struct {
		field string
		uris  []string
	}{{"redirectUris", a.RedirectURIs}, {"postLogoutRedirectUris", a.PostLogoutRedirectURIs}} {
		if a.Type == AppMachine && len(l.uris) > 0 {
			return appInvalid("invalid_redirect_uri", "%s: a machine app signs no user in and takes no redirect URIs", l.field)
		}
		if len(l.uris) > MaxAppRedirectURIs {
			return appInvalid("invalid_redirect_uri", "%s: at most %d URIs", l.field, MaxAppRedirectURIs)
		}
		for i, u := range l.uris {
			if err := ValidateRedirectURI(a.Type, u); err != nil {
				return appInvalid("invalid_redirect_uri", "%s[%d]: %s", l.field, i, err.(*Error).Message)
			}
			if slices.Index(l.uris, u) != i {
				return appInvalid("invalid_redirect_uri", "%s[%d]: listed twice", l.field, i)
			}
		}
	}
	if len(a.Scopes) > MaxAppScopes {
		return appInvalid("invalid_scope", "at most %d scopes", MaxAppScopes)
	}
	for _, s := range a.Scopes {
		standard := slices.Contains(StandardScopes, s)
		if !standard && !ValidCustomScope(s) {
			return appInvalid("invalid_scope", "scope %q: a custom scope is 1 to %d letters, digits and _ . : - starting with a letter or digit", clip(s, 80), MaxAppScopeBytes)
		}
		if standard && a.Type == AppMachine {
			return appInvalid("invalid_scope", "scope %q: a machine app acts for itself, not for a user; give it custom scopes only", s)
		}
	}
	for _, l := range []struct {
		field    string
		v        time.Duration
		min, max time.Duration
	}{
		{"accessTokenTTL", a.AccessTokenTTL, MinTokenTTL, MaxAccessTokenTTL},
		{"idTokenTTL", a.IDTokenTTL, MinTokenTTL, MaxIDTokenTTL},
		{"refreshTokenTTL", a.RefreshTokenTTL, MinRefreshTokenTTL, MaxRefreshTokenTTL},
	} {
		if l.v < l.min || l.v > l.max || l.v%time.Second != 0 {
			return appInvalid("invalid_token_ttl", "%s must be whole seconds between %s and %s", l.field, fmtTTL(l.min), fmtTTL(l.max))
		}
	}
	if a.Type.Confidential() != (a.SecretHash != nil) {
		return appInvalid("invalid_secret", "web and machine apps have a client secret, spa and native apps none")
	}
	return nil
}

func isControlOrFormat(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// fmtTTL is d as Go duration text without trailing zero units ("1m",
// "24h", "8760h"), the form the wire takes.
func fmtTTL(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ValidCustomScope reports whether s can be a custom scope name: 1 to
// MaxAppScopeBytes ASCII letters, digits, '_', '.', ':' and '-', starting
// with a letter or digit (a subset of RFC 6749's scope-token).
func ValidCustomScope(s string) bool {
	if s == "" || len(s) > MaxAppScopeBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// loopbackHosts are the hosts of the http redirect URIs a native app may
// register (RFC 8252 §7.3; "localhost", which §8.3 advises against, is
// accepted as the issue asks, with the same port rule).
var loopbackHosts = []string{"127.0.0.1", "[::1]", "localhost"}

// forbiddenSchemes are never redirect targets, whatever the app type:
// they run code or read local data in the browser. (A custom scheme must
// also contain a dot, which none of these has; the list is a second
// guard.)
var forbiddenSchemes = []string{"javascript", "data", "vbscript", "file", "blob", "about", "filesystem", "view-source"}

// uriParts is a URI split without decoding or normalising anything, so
// that what is checked is exactly the text that will be compared.
type uriParts struct {
	scheme    string
	authority string // "" when the URI has no "//"
	hasAuth   bool
	rest      string // path, query
}

func splitURI(s string) (uriParts, bool) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return uriParts{}, false
	}
	p := uriParts{scheme: scheme}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		p.hasAuth = true
		end := strings.IndexAny(after, "/?")
		if end < 0 {
			end = len(after)
		}
		p.authority, p.rest = after[:end], after[end:]
	} else {
		p.rest = rest
	}
	return p, true
}

// validScheme is RFC 3986's scheme grammar, in lower case.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// uriChars reports whether s holds only the characters RFC 3986 allows
// in a URI (unreserved, reserved, and well-formed percent escapes). No
// spaces, controls, quotes, angle brackets, backslashes or non-ASCII.
func uriChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validHost accepts a lower-case DNS name (letters, digits, hyphens,
// dot-separated labels of 1 to 63 characters) or an IPv6 literal in
// brackets; IPv4 addresses are DNS-shaped and pass too. No wildcard, no
// userinfo, no empty label.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if strings.HasPrefix(h, "[") {
		inner, ok := strings.CutSuffix(h[1:], "]")
		if !ok || inner == "" {
			return false
		}
		for i := 0; i < len(inner); i++ {
			if c := inner[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == ':' || c == '.') {
				return false
			}
		}
		return true
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// splitHostPort splits an authority without userinfo into host and port
// ("" when absent); ok is false for a malformed port.
func splitHostPort(auth string) (host, port string, ok bool) {
	i := strings.LastIndexByte(auth, ':')
	if i < 0 || strings.HasSuffix(auth, "]") {
		return auth, "", true
	}
	host, port = auth[:i], auth[i+1:]
	if port == "" || len(port) > 5 {
		return "", "", false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '0' || strings.ContainsAny(port, "+-") {
		return "", "", false
	}
	return host, port, true
}

// ValidateRedirectURI checks a redirect or post-logout redirect URI an app
// of type t registers (docs/OIDC.md): at most MaxAppURIBytes of RFC 3986
// characters, absolute, no fragment, no userinfo, scheme and host in lower
// case. web and spa apps: https only. native apps: https, http on a
// loopback host (127.0.0.1, [::1], localhost; any port matches, RFC 8252
// §7.3), or a private-use scheme in reverse domain form such as
// com.example.app:/callback (RFC 8252 §7.1). machine apps take none.
func ValidateRedirectURI(t AppType, s string) error {
	bad := func(format string, args ...any) error { return appInvalid("invalid_redirect_uri", format, args...) }
	switch {
	case s == "":
		return bad("must not be empty")
	case len(s) > MaxAppURIBytes:
		return bad("must be at most %d bytes", MaxAppURIBytes)
	case !uriChars(s):
		return bad("must be an ASCII URI without spaces, quotes or control characters (percent-encode the rest)")
	case strings.Contains(s, "#"):
		return bad("must not contain a fragment (#)")
	}
	p, ok := splitURI(s)
	if !ok || p.scheme == "" {
		return bad("must be an absolute URI with a scheme")
	}
	if !validScheme(p.scheme) {
		return bad("the scheme must be lower-case letters, digits, '+', '-' or '.' starting with a letter")
	}
	if slices.Contains(forbiddenSchemes, p.scheme) {
		return bad("the %s: scheme is never a redirect target", p.scheme)
	}
	if t == AppMachine {
		return bad("a machine app takes no redirect URIs")
	}
	if p.scheme == "https" || p.scheme == "http" {
		if !p.hasAuth {
			return bad("an %s URI must have a host (%s://host/path)", p.scheme, p.scheme)
		}
		if strings.Contains(p.authority, "@") {
			return bad("must not contain user information (user@host)")
		}
		host, _, ok := splitHostPort(p.authority)
		if !ok {
			return bad("the port must be a number from 1 to 65535")
		}
		if !validHost(host) {
			return bad("the host must be a lower-case host name or IP address, without wildcards")
		}
		if p.scheme == "http" {
			if t != AppNative {
				return bad("must use https (http is allowed for native apps on a loopback host only)")
			}
			if !slices.Contains(loopbackHosts, host) {
				return bad("http is allowed only on a loopback host: 127.0.0.1, [::1] or localhost")
			}
		}
		return nil
	}
	if t != AppNative {
		return bad("must use https (custom schemes are for native apps)")
	}
	if !strings.Contains(p.scheme, ".") {
		return bad("a custom scheme must be a reverse domain name you control, such as com.example.app (RFC 8252 §7.1)")
	}
	if p.hasAuth && strings.Contains(p.authority, "@") {
		return bad("must not contain user information (user@host)")
	}
	if p.rest == "" && p.authority == "" {
		return bad("must have a path after the scheme, such as %s:/callback", p.scheme)
	}
	return nil
}

// MatchRedirectURI reports whether uri, as sent in an authorization
// request, is one of the app's registered redirect URIs: exact string
// comparison (no case folding, no decoding, no prefix or trailing-slash
// leniency), with one exception: for a native app, an http URI on a
// loopback host matches a registered loopback URI of the same host, path
// and query whatever the port of either (RFC 8252 §7.3).
func MatchRedirectURI(a *App, uri string) bool {
	if a == nil {
		return false
	}
	return matchURI(a, a.RedirectURIs, uri)
}

// MatchPostLogoutRedirectURI is MatchRedirectURI for the app's
// post-logout redirect URIs.
func MatchPostLogoutRedirectURI(a *App, uri string) bool {
	if a == nil {
		return false
	}
	return matchURI(a, a.PostLogoutRedirectURIs, uri)
}

func matchURI(a *App, registered []string, uri string) bool {
	if uri == "" || a.Type == AppMachine {
		return false
	}
	if slices.Contains(registered, uri) {
		return true
	}
	if a.Type != AppNative {
		return false
	}
	host, rest, ok := loopbackParts(uri)
	if !ok {
		return false
	}
	for _, r := range registered {
		if rh, rr, ok := loopbackParts(r); ok && rh == host && rr == rest {
			return true
		}
	}
	return false
}

// loopbackParts splits an http URI on a loopback host into its host and
// its path and query, dropping the port; ok is false for anything else
// (another scheme or host, userinfo, a fragment, a malformed port).
func loopbackParts(s string) (host, rest string, ok bool) {
	after, found := strings.CutPrefix(s, "http://")
	if !found || strings.Contains(s, "#") || !uriChars(s) {
		return "", "", false
	}
	end := strings.IndexAny(after, "/?")
	if end < 0 {
		end = len(after)
	}
	auth, rest := after[:end], after[end:]
	if strings.Contains(auth, "@") {
		return "", "", false
	}
	host, _, ok = splitHostPort(auth)
	if !ok || !slices.Contains(loopbackHosts, host) {
		return "", "", false
	}
	return host, rest, true
}
