package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// Types of the connector administration.
type (
	Connector              = api.Connector
	CreateConnectorRequest = api.CreateConnectorRequest
	UpdateConnectorRequest = api.UpdateConnectorRequest
)

// Connector types.
const (
	ConnectorOIDC   = api.ConnectorOIDC
	ConnectorOAuth2 = api.ConnectorOAuth2
	ConnectorApple  = api.ConnectorApple  // TeamID, KeyID; ClientSecret: the .p8 key (PEM)
	ConnectorWeChat = api.ConnectorWeChat // ClientID: the AppID; ClientSecret: the AppSecret
)

// ListConnectors returns the pool's connectors (upstream identity
// providers) in id order, without secrets.
func (c *ManagementClient) ListConnectors(ctx context.Context, poolID string) ([]Connector, error) {
	var out api.ConnectorList
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "connectors"), nil, &out); err != nil {
		return nil, err
	}
	return out.Connectors, nil
}

// GetConnector returns one connector (HasSecret says whether a client
// secret is stored; it is never shown).
func (c *ManagementClient) GetConnector(ctx context.Context, poolID, id string) (*Connector, error) {
	var out Connector
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "connectors", id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateConnector creates a connector; CallbackURL in the answer is the
// URL to register at the upstream.
func (c *ManagementClient) CreateConnector(ctx context.Context, poolID string, in CreateConnectorRequest) (*Connector, error) {
	var out Connector
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "connectors"), in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateConnector changes what in names; the type never changes.
func (c *ManagementClient) UpdateConnector(ctx context.Context, poolID, id string, in UpdateConnectorRequest) (*Connector, error) {
	var out Connector
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "connectors", id), in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteConnector deletes a connector; the identities it linked stay.
func (c *ManagementClient) DeleteConnector(ctx context.Context, poolID, id string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "connectors", id), nil, nil)
}
