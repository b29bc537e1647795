package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// SigningKey describes a token signing key (never its private half).
type SigningKey = api.SigningKey

// The states of a signing key (SigningKey.State).
const (
	KeyNext     = "next"     // published, signs after its lead time
	KeyCurrent  = "current"  // signs new tokens
	KeyPrevious = "previous" // published until the tokens it signed expire
	KeyRetired  = "retired"  // no longer published
)

// ListSigningKeys returns the server's token signing keys, oldest first.
// Keys belong to no pool.
func (c *ManagementClient) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	var out api.SigningKeyList
	if err := c.do(ctx, http.MethodGet, "/keys", nil, &out); err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// RotateSigningKey adds a new signing key: it is published (JWKS) at once
// and signs once the server's lead time has passed; the current key signs
// until then. While a rotated-in key still waits it fails with code 1410.
func (c *ManagementClient) RotateSigningKey(ctx context.Context) (*SigningKey, error) {
	var k SigningKey
	if err := c.do(ctx, http.MethodPost, "/keys/rotate", nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}
