package admin

import (
	"context"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// SigningKeys is the token signing key set (a *token.Manager): listed
// without private material, and rotated.
type SigningKeys interface {
	Keys(ctx context.Context) ([]userpool.SigningKeyInfo, error)
	Rotate(ctx context.Context) (userpool.SigningKeyInfo, error)
}

// UseSigningKeys gives the service the signing key set it lists and
// rotates; without it those calls fail.
func (a *Service) UseSigningKeys(k SigningKeys) { a.keys = k }

// ListSigningKeys describes every stored signing key, oldest first.
func (a *Service) ListSigningKeys(ctx context.Context) ([]userpool.SigningKeyInfo, error) {
	if a.keys == nil {
		return nil, userpool.Internal(errNoSigningKeys)
	}
	return a.keys.Keys(ctx)
}

// RotateSigningKey stores a new signing key, published at once and
// signing after the lead time, and records it in the default pool's audit
// log (keys belong to no pool). While a rotated-in key still waits, it
// fails with code 1410.
func (a *Service) RotateSigningKey(ctx context.Context, m auth.Meta) (userpool.SigningKeyInfo, error) {
	if a.keys == nil {
		return userpool.SigningKeyInfo{}, userpool.Internal(errNoSigningKeys)
	}
	k, err := a.keys.Rotate(ctx)
	if err != nil {
		return k, err
	}
	if p, err := a.auth.Pool(ctx, "default"); err == nil {
		a.audit(ctx, m, p.ID, "", "admin.signing_key.rotate", map[string]string{
			"kid": k.ID, "signsFrom": k.SignsFrom.UTC().Format(time.RFC3339),
		})
	}
	return k, nil
}
