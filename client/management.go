package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
)

// Types of the administration API, reachable from this package.
type (
	Pool               = api.Pool
	CreatePoolRequest  = api.CreatePoolRequest
	UpdatePoolRequest  = api.UpdatePoolRequest
	Field              = api.Field
	DefineFieldRequest = api.DefineFieldRequest
	UpdateFieldRequest = api.UpdateFieldRequest
	UserList           = api.UserList
	CreateUserRequest  = api.CreateUserRequest
	UpdateUserRequest  = api.UpdateUserRequest
	BlockedUser        = api.BlockedUser
	Session            = api.Session
	AuditEvent         = api.AuditEvent
)

// ManagementOptions configure a ManagementClient.
type ManagementOptions struct {
	// Host is the server's base URL, e.g. "http://127.0.0.1:8080".
	Host string
	// AdminKey is the administrator key (AUTHPOOL_ADMIN_KEY, or the key
	// the server printed at first start).
	AdminKey   string
	HTTPClient *http.Client
	// Timeout bounds each call when HTTPClient is nil (default 30 s).
	Timeout time.Duration
}

// ManagementClient calls the administration API with an administrator
// key: pools and their settings, user-defined fields, users, sessions and
// the audit log. Pool ids may be "default" for the default pool. It is
// safe for concurrent use.
type ManagementClient struct {
	opts ManagementOptions
	hc   *http.Client
}

// NewManagementClient returns a client for opts.
func NewManagementClient(opts ManagementOptions) *ManagementClient {
	hc := opts.HTTPClient
	if hc == nil {
		t := opts.Timeout
		if t == 0 {
			t = 30 * time.Second
		}
		hc = &http.Client{Timeout: t}
	}
	opts.Host = strings.TrimRight(opts.Host, "/")
	return &ManagementClient{opts: opts, hc: hc}
}

func (c *ManagementClient) do(ctx context.Context, method, path string, in, out any) error {
	req, err := newRequest(ctx, method, c.opts.Host+"/api/v1/admin"+path, in)
	if err != nil {
		return err
	}
	if c.opts.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.AdminKey)
	}
	return send(c.hc, req, out)
}

// poolPath is the path of a pool's resources.
func poolPath(poolID string, parts ...string) string {
	p := "/pools/" + url.PathEscape(poolID)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// ListPools returns every pool, oldest first.
func (c *ManagementClient) ListPools(ctx context.Context) ([]Pool, error) {
	var out api.PoolList
	if err := c.do(ctx, http.MethodGet, "/pools", nil, &out); err != nil {
		return nil, err
	}
	return out.Pools, nil
}

// GetPool returns a pool with its settings.
func (c *ManagementClient) GetPool(ctx context.Context, poolID string) (*Pool, error) {
	var p Pool
	if err := c.do(ctx, http.MethodGet, poolPath(poolID), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreatePool creates a pool (code 1409 when the id is taken).
func (c *ManagementClient) CreatePool(ctx context.Context, in CreatePoolRequest) (*Pool, error) {
	var p Pool
	if err := c.do(ctx, http.MethodPost, "/pools", in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdatePool renames a pool and changes the settings in.Settings names,
// e.g. {"verifyOldEmail": false, "tokenTTL": "24h"}. Every replica applies
// the change to its next request.
func (c *ManagementClient) UpdatePool(ctx context.Context, poolID string, in UpdatePoolRequest) (*Pool, error) {
	var p Pool
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID), in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DefineField defines a user-defined field (code 2403 when the key is
// taken).
func (c *ManagementClient) DefineField(ctx context.Context, poolID string, in DefineFieldRequest) (*Field, error) {
	var f Field
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "fields"), in, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// ListFields returns the pool's field definitions ordered by key.
func (c *ManagementClient) ListFields(ctx context.Context, poolID string) ([]Field, error) {
	var out api.FieldList
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "fields"), nil, &out); err != nil {
		return nil, err
	}
	return out.Fields, nil
}

// GetField returns one definition (code 2401 when the key is not defined).
func (c *ManagementClient) GetField(ctx context.Context, poolID, key string) (*Field, error) {
	var f Field
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "fields", key), nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// UpdateField changes a definition's label, description or type; a type
// change while users have values is refused with code 2404.
func (c *ManagementClient) UpdateField(ctx context.Context, poolID, key string, in UpdateFieldRequest) (*Field, error) {
	var f Field
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "fields", key), in, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteField deletes a definition and every user's value of it.
func (c *ManagementClient) DeleteField(ctx context.Context, poolID, key string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "fields", key), nil, nil)
}
