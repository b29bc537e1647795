package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// NamedAdminKey describes an administrator key made for one operator
// (never its secret).
type NamedAdminKey = api.NamedAdminKey

// CreatedNamedAdminKey is a new named key with its secret (Key), which
// the server shows only this once.
type CreatedNamedAdminKey = api.CreatedNamedAdminKey

// CreateAdminKey makes a named administrator key; a readOnly key may only
// read (every change is refused with code 2018). Only the administrator
// key may manage named keys.
func (c *ManagementClient) CreateAdminKey(ctx context.Context, name string, readOnly bool) (*CreatedNamedAdminKey, error) {
	var out CreatedNamedAdminKey
	if err := c.do(ctx, http.MethodPost, "/admin-keys", api.CreateNamedAdminKeyRequest{Name: name, ReadOnly: readOnly}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAdminKeys returns the named keys, revoked ones too, oldest first.
func (c *ManagementClient) ListAdminKeys(ctx context.Context) ([]NamedAdminKey, error) {
	var out api.NamedAdminKeyList
	if err := c.do(ctx, http.MethodGet, "/admin-keys", nil, &out); err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// RevokeAdminKey revokes the named key id: it stops working at once and
// its console sessions end.
func (c *ManagementClient) RevokeAdminKey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/admin-keys/"+url.PathEscape(id), nil, nil)
}
