package auth

import (
	"context"
	"net/netip"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// Limit allows Max requests per client IP in each fixed Window; a zero Max
// or Window turns the limit off.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are the per-client-IP limits of the routes an attacker can use to
// spend the server's work without an account.
type Limits struct {
	Register   Limit
	Login      Limit
	Captcha    Limit
	TokenCheck Limit
	// GraphQL counts the documents of the Authing transport's /graphql/v2
	// that it must parse and run (LimitGraphQL).
	GraphQL Limit
}

// Rate-limit classes; they name the counters ("rl:<class>:<ip>").
const (
	classRegister   = "register"
	classLogin      = "login"
	classCaptcha    = "captcha"
	classTokenCheck = "token_check"
	classGraphQL    = "graphql"
)

func (s *Service) limitFor(class string) Limit {
	switch class {
	case classRegister:
		return s.cfg.Limits.Register
	case classLogin:
		return s.cfg.Limits.Login
	case classCaptcha:
		return s.cfg.Limits.Captcha
	case classTokenCheck:
		return s.cfg.Limits.TokenCheck
	case classGraphQL:
		return s.cfg.Limits.GraphQL
	}
	return Limit{}
}

// rateLimit counts one request of class from m.ClientIP and refuses it with
// code 1005 and a retry time once the window's allowance is spent. It runs
// first in every limited use case, before the pool is resolved and before
// any password is hashed. Hits are counted in the store's shared counters,
// batched while far from the limit (limiter.go), so a flood costs a map
// update per request, not a database write.
// The limits protect the server, so they are per IP across all pools.
func (s *Service) rateLimit(ctx context.Context, m Meta, class string) error {
	l := s.limitFor(class)
	if l.Max <= 0 || l.Window <= 0 || m.ClientIP == "" {
		return nil
	}
	now := s.now()
	n, end, err := s.limits.hit(ctx, "rl:"+class+":"+ipKey(m.ClientIP), int64(l.Max), l.Window, now)
	if err != nil {
		return err
	}
	if n <= int64(l.Max) {
		return nil
	}
	wait := end.Sub(now)
	return &userpool.RetryError{
		Err: &userpool.Error{
			Code: userpool.CodeRateLimited, Reason: "rate_limited",
			Message: "too many requests from this address: try again later",
			Data:    map[string]any{"retryAfter": int64((wait + time.Second - 1) / time.Second)},
		},
		After: wait,
	}
}

// LimitGraphQL counts one GraphQL document from m.ClientIP and refuses it
// (1005 with a retry time) past Limits.GraphQL. Parsing, validating and
// running a document, introspection above all, is work that no use case's
// own limit counts, and a caller needs no account for it.
func (s *Service) LimitGraphQL(ctx context.Context, m Meta) error {
	return s.rateLimit(ctx, m, classGraphQL)
}

// ipKey is the part of a counter key that names a client address. IPv6
// addresses count by their /64, the block one subscriber usually holds:
// per-address counters would let the owner of a /64 use 2^64 fresh ones.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return truncate(ip, 64)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64) // cannot fail for an IPv6 address
		return p.String()
	}
	return a.String()
}
