package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
)

// Who is calling. docs/SECURITY.md describes the trust model; in short:
//
//   - the client address is the connection's, unless the connection comes
//     from a trusted proxy (AUTHPOOL_TRUSTED_PROXIES), whose forwarding
//     header (X-Forwarded-For, or Forwarded per RFC 7239 when so
//     configured) is followed from the nearest hop back past every trusted
//     proxy to the first address that is not one;
//   - the clientIp option of a body replaces that address only when the
//     caller is trusted: it authenticated with an app secret
//     (AUTHPOOL_APP_SECRETS), or the address found above is itself inside
//     a trusted CIDR (a backend calling directly or through the proxies);
//   - an untrusted claim, and a wrong app secret, are ignored, never an
//     error: the request is then simply counted under its real address.

// Forwarding headers a trusted proxy may write (Deps.ForwardedHeader).
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// meta builds the caller description for a use case. claimedIP is the
// clientIp option of the body.
func (s *Server) meta(r *http.Request, claimedIP string) auth.Meta {
	app := s.appID(r)
	return auth.Meta{
		PoolID:    r.Header.Get(api.HeaderUserPoolID),
		ClientIP:  s.clientIP(r, claimedIP, app != ""),
		UserAgent: r.UserAgent(),
		AppID:     app,
		CaptchaID: CaptchaID(r),
		// Picks the language of messages to users whose profile has none.
		AcceptLanguage: r.Header.Get("Accept-Language"),
	}
}

// ClientIPFunc computes callers' addresses exactly as the native API does
// (trusted proxies, forwarding header, app secrets), for other transports
// mounted beside it.
func ClientIPFunc(d Deps) func(r *http.Request, claimed string) string {
	s := &Server{Deps: d}
	return func(r *http.Request, claimed string) string {
		return s.clientIP(r, claimed, s.appID(r) != "")
	}
}

// appID returns the app whose secret the request presents, or "" when it
// presents none or a wrong one. Only SHA-256 hashes of the secrets are
// held; the comparison is constant-time.
func (s *Server) appID(r *http.Request) string {
	secret := r.Header.Get(api.HeaderAppSecret)
	if secret == "" {
		return ""
	}
	id := r.Header.Get(api.HeaderAppID)
	got := sha256.Sum256([]byte(secret))
	if want, ok := s.AppSecrets[id]; ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
		return id
	}
	// Not an error (see above), but an operator wants to know: a backend
	// with a wrong secret has all its users counted under its own address.
	s.Log.LogAttrs(r.Context(), slog.LevelWarn, "app secret rejected; request treated as untrusted",
		slog.String("app_id", truncate(id, 64)), slog.String("request_id", requestID(r.Context())))
	return ""
}

// clientIP is the address counters and the audit log see; trustedApp says
// the request authenticated with an app secret.
func (s *Server) clientIP(r *http.Request, claimed string, trustedApp bool) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer, trustedPeer := s.peer(r, remote.Unmap())
	if trustedPeer || trustedApp {
		if a, err := netip.ParseAddr(strings.TrimSpace(claimed)); err == nil {
			return a.Unmap().WithZone("").String()
		}
	}
	return peer.String()
}

// peer follows the forwarding header back from remote past trusted
// proxies. It returns the first address that is not a trusted proxy (and
// false), or, when every hop is trusted, the farthest one (and true). A hop
// a trusted proxy could not name ("unknown", an obfuscated id, garbage)
// ends the walk at the last known address, untrusted: nobody may claim an
// address on behalf of an unknown client.
func (s *Server) peer(r *http.Request, remote netip.Addr) (netip.Addr, bool) {
	if !s.trusted(remote) {
		return remote, false
	}
	var hops []string
	if s.ForwardedHeader == HeaderForwarded {
		hops = forwardedFor(r.Header.Values(HeaderForwarded))
	} else {
		for _, v := range r.Header.Values(HeaderXForwardedFor) {
			hops = append(hops, strings.Split(v, ",")...)
		}
	}
	addr := remote
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseNode(hops[i])
		if !ok {
			return addr, false
		}
		if !s.trusted(a) {
			return a, false
		}
		addr = a
	}
	return addr, true
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the "for" parameter of every element of Forwarded
// header values (RFC 7239 section 4), nearest proxy last; "" for an
// element without one.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range splitOutsideQuotes(v, ',') {
			if strings.TrimSpace(elem) == "" {
				continue
			}
			node := ""
			for _, pair := range splitOutsideQuotes(elem, ';') {
				k, val, ok := strings.Cut(pair, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					node = unquote(strings.TrimSpace(val))
				}
			}
			out = append(out, node)
		}
	}
	return out
}

// splitOutsideQuotes splits s at sep, except inside quoted strings (which
// may hold sep and backslash escapes).
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseNode reads one hop: "192.0.2.1", "192.0.2.1:4711",
// "[2001:db8::1]", "[2001:db8::1]:4711" or a bare IPv6 address. Names
// ("unknown", "_hidden") and anything else are not addresses.
func parseNode(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if host, rest, ok := strings.Cut(strings.TrimPrefix(s, "["), "]"); ok && strings.HasPrefix(s, "[") {
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return netip.Addr{}, false
		}
		s = host
	} else if strings.Count(s, ":") == 1 {
		s, _, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// CaptchaID is the CAPTCHA id the image request left in the browser's
// cookie; other transports mounted beside the native API read it too.
func CaptchaID(r *http.Request) string {
	c, err := r.Cookie(api.CaptchaCookie)
	if err != nil || len(c.Value) > 64 {
		return ""
	}
	return c.Value
}
