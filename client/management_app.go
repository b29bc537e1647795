package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// Types of the application administration, reachable from this package.
type (
	App              = api.App
	CreateAppRequest = api.CreateAppRequest
	UpdateAppRequest = api.UpdateAppRequest
)

// Application types.
const (
	AppTypeWeb     = api.AppTypeWeb
	AppTypeSPA     = api.AppTypeSPA
	AppTypeNative  = api.AppTypeNative
	AppTypeMachine = api.AppTypeMachine
)

// ListApps returns the pool's applications (OAuth clients), oldest first,
// without secrets.
func (c *ManagementClient) ListApps(ctx context.Context, poolID string) ([]App, error) {
	var out api.AppList
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "apps"), nil, &out); err != nil {
		return nil, err
	}
	return out.Apps, nil
}

// GetApp returns one application (without its secret).
func (c *ManagementClient) GetApp(ctx context.Context, poolID, appID string) (*App, error) {
	var a App
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "apps", appID), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateApp creates an application. For web and machine apps the answer
// carries the client secret in ClientSecret, the only time it is shown.
func (c *ManagementClient) CreateApp(ctx context.Context, poolID string, in CreateAppRequest) (*App, error) {
	var a App
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "apps"), in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateApp changes what in names; the type never changes.
func (c *ManagementClient) UpdateApp(ctx context.Context, poolID, appID string, in UpdateAppRequest) (*App, error) {
	var a App
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "apps", appID), in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteApp deletes an application; its client id and secret stop
// working at once.
func (c *ManagementClient) DeleteApp(ctx context.Context, poolID, appID string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "apps", appID), nil, nil)
}

// RotateAppSecret gives a web or machine app a new client secret, in the
// answer's ClientSecret (shown this once); the old one stops working at
// once.
func (c *ManagementClient) RotateAppSecret(ctx context.Context, poolID, appID string) (*App, error) {
	var a App
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "apps", appID, "secret"), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
