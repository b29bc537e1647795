package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// WebAuthn is the relying party of passkeys (docs/MFA.md "Passkeys").
// Both are derived from the public URL when unset: its host is the
// relying party id and its origin the one allowed origin. A loopback
// public URL (development: http://127.0.0.1:8080) is served as
// "localhost" (http://localhost:8080), since browsers refuse an IP
// address as a relying party id; another IP address leaves passkeys off
// until WebAuthnRPID is set.
type WebAuthn struct {
	// WebAuthnRPID is the relying party id: the site's domain, or a
	// registrable suffix of it ("example.com" serves auth.example.com).
	WebAuthnRPID string `json:"webauthnRpId"`
	// WebAuthnOrigins are the origins passkey ceremonies may come from
	// (https://auth.example.com); each must be the id's domain or under it.
	WebAuthnOrigins []string `json:"webauthnOrigins"`
}

func (c *WebAuthn) load(env func(string) (string, bool)) {
	if v, ok := env("AUTHPOOL_WEBAUTHN_RP_ID"); ok {
		c.WebAuthnRPID = v
	}
	if v, ok := env("AUTHPOOL_WEBAUTHN_ORIGINS"); ok {
		c.WebAuthnOrigins = splitList(v)
	}
}

// RelyingParty returns the passkeys' relying party id and origins, from
// the settings or derived from the public URL; ok is false when passkeys
// are off (an IP address that is not loopback and no id set).
func (c Config) RelyingParty() (id string, origins []string, ok bool) {
	id, origins = c.WebAuthnRPID, c.WebAuthnOrigins
	base, err := url.Parse(c.PublicBase())
	if err != nil {
		return "", nil, false
	}
	host := base.Hostname()
	if ip, perr := netip.ParseAddr(host); perr == nil {
		if !ip.IsLoopback() {
			return id, origins, id != "" && len(origins) > 0
		}
		host = "localhost"
		port := base.Port()
		base.Host = host
		if port != "" {
			base.Host = net.JoinHostPort(host, port)
		}
	}
	if id == "" {
		id = host
	}
	if len(origins) == 0 {
		origins = []string{base.Scheme + "://" + strings.ToLower(base.Host)}
	}
	return id, origins, true
}

// validateWebAuthn reports invalid relying party settings.
func (c Config) validateWebAuthn() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	id := c.WebAuthnRPID
	if id != "" {
		if _, err := netip.ParseAddr(id); err == nil || id != strings.ToLower(id) || strings.ContainsAny(id, ":/?#@ *") || strings.Trim(id, ".") != id {
			bad("webauthnRpId (AUTHPOOL_WEBAUTHN_RP_ID) %q must be a domain name in lower case, such as example.com (no scheme, port or IP address)", id)
			return errs
		}
	}
	for _, o := range c.WebAuthnOrigins {
		if !validOrigin(o) {
			bad("webauthnOrigins (AUTHPOOL_WEBAUTHN_ORIGINS): %q is not an origin such as https://auth.example.com", o)
			continue
		}
		if id == "" {
			continue
		}
		u, _ := url.Parse(o)
		if h := u.Hostname(); h != id && !strings.HasSuffix(h, "."+id) {
			bad("webauthnOrigins (AUTHPOOL_WEBAUTHN_ORIGINS): %q is not on %q or a subdomain of it (webauthnRpId)", o, id)
		}
	}
	if id != "" && len(c.WebAuthnOrigins) == 0 {
		if _, origins, _ := (Config{Codes: c.Codes, Addr: c.Addr}).RelyingParty(); len(origins) == 1 {
			u, _ := url.Parse(origins[0])
			if h := u.Hostname(); h != id && !strings.HasSuffix(h, "."+id) {
				bad("webauthnRpId (AUTHPOOL_WEBAUTHN_RP_ID) %q does not cover the public URL's host %q: set webauthnOrigins (AUTHPOOL_WEBAUTHN_ORIGINS) too", id, h)
			}
		}
	}
	return errs
}
