package admin

import (
	"context"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/connector"
	"github.com/authpool/authpool/internal/userpool"
)

// ConnectorUpdate changes a connector; nil leaves a part as it is. Secret
// set to "" removes the client secret; the type never changes.
type ConnectorUpdate struct {
	Label, Icon, ClientID, Secret       *string
	Issuer, AuthURL, TokenURL, UserInfo *string
	TeamID, KeyID, Tenant               *string
	Enabled                             *bool
	Scopes                              *[]string
	ClaimMap                            *map[string]string
}

func (a *Service) connectorAudit(m auth.Meta, poolID, event, id string) *userpool.AuditEvent {
	return &userpool.AuditEvent{
		PoolID: poolID, Event: event, ClientIP: m.ClientIP, UserAgent: truncate(m.UserAgent, 512),
		Detail: map[string]string{"connector": id}, CreatedAt: a.now().UTC(),
	}
}

// ListConnectors returns the pool's connectors in id order.
func (a *Service) ListConnectors(ctx context.Context, m auth.Meta) ([]*userpool.Connector, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.ListConnectors(ctx, id)
}

// GetConnector returns one connector of the pool.
func (a *Service) GetConnector(ctx context.Context, m auth.Meta, connectorID string) (*userpool.Connector, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.GetConnector(ctx, id, connectorID)
}

// CreateConnector validates and stores a connector; its client secret is
// sealed under the server's key and never shown again.
func (a *Service) CreateConnector(ctx context.Context, m auth.Meta, in userpool.Connector, secret string) (*userpool.Connector, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	now := a.now().UTC()
	c := in
	c.PoolID, c.CreatedAt, c.UpdatedAt, c.SealedSecret = id, now, now, nil
	if err := userpool.ValidateConnector(&c); err != nil {
		return nil, err
	}
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	if err := checkAppleKey(c.Type, &secret); err != nil {
		return nil, err
	}
	list, err := a.store.ListConnectors(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(list) >= userpool.MaxConnectorsPerPool {
		return nil, invalid("too_many_connectors", "a pool has at most %d connectors", userpool.MaxConnectorsPerPool)
	}
	if secret != "" {
		c.SealedSecret = a.auth.SealConnectorSecret(id, c.ID, secret)
	}
	if err := a.store.CreateConnector(ctx, &c, a.connectorAudit(m, id, "admin.connector.create", c.ID)); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkAppleKey: an apple connector's secret is its .p8 key, required.
func checkAppleKey(typ string, secret *string) error {
	if typ != userpool.ConnectorApple || secret == nil {
		return nil
	}
	if _, err := connector.ParseAppleKey(*secret); err != nil {
		return invalid("invalid_connector", "clientSecret of an apple connector must be its .p8 key (PEM): %s", err.Error())
	}
	return nil
}

func checkSecret(secret string) error {
	if len(secret) > userpool.MaxConnectorSecretLen || strings.ContainsRune(secret, 0) {
		return invalid("invalid_connector", "clientSecret must be at most %d bytes", userpool.MaxConnectorSecretLen)
	}
	return nil
}

// UpdateConnector applies up and validates the result in one transaction.
func (a *Service) UpdateConnector(ctx context.Context, m auth.Meta, connectorID string, up ConnectorUpdate) (*userpool.Connector, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if up.Secret != nil {
		if err := checkSecret(*up.Secret); err != nil {
			return nil, err
		}
	}
	ev := a.connectorAudit(m, id, "admin.connector.update", connectorID)
	return a.store.UpdateConnector(ctx, id, connectorID, func(c *userpool.Connector) error {
		var changed []string
		str := func(name string, v *string, dst *string) {
			if v != nil {
				*dst = *v
				changed = append(changed, name)
			}
		}
		str("label", up.Label, &c.Label)
		str("icon", up.Icon, &c.Icon)
		str("clientId", up.ClientID, &c.ClientID)
		str("issuer", up.Issuer, &c.Issuer)
		str("authUrl", up.AuthURL, &c.AuthURL)
		str("tokenUrl", up.TokenURL, &c.TokenURL)
		str("userInfoUrl", up.UserInfo, &c.UserInfoURL)
		str("teamId", up.TeamID, &c.TeamID)
		str("keyId", up.KeyID, &c.KeyID)
		str("tenant", up.Tenant, &c.Tenant)
		if up.Enabled != nil {
			c.Enabled = *up.Enabled
			changed = append(changed, "enabled")
		}
		if up.Scopes != nil {
			c.Scopes = *up.Scopes
			changed = append(changed, "scopes")
		}
		if up.ClaimMap != nil {
			c.ClaimMap = *up.ClaimMap
			changed = append(changed, "claimMap")
		}
		if err := checkAppleKey(c.Type, up.Secret); err != nil {
			return err
		}
		if up.Secret != nil {
			c.SealedSecret = nil
			if *up.Secret != "" {
				c.SealedSecret = a.auth.SealConnectorSecret(id, c.ID, *up.Secret)
			}
			changed = append(changed, "clientSecret")
		}
		ev.Detail["changed"] = strings.Join(changed, ",")
		c.UpdatedAt = a.now().UTC()
		return userpool.ValidateConnector(c)
	}, ev)
}

// DeleteConnector deletes a connector; the identities it linked stay with
// their users (they sign in again if a connector of that id returns).
func (a *Service) DeleteConnector(ctx context.Context, m auth.Meta, connectorID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	return a.store.DeleteConnector(ctx, id, connectorID, a.connectorAudit(m, id, "admin.connector.delete", connectorID))
}

// UserIdentities lists a user's upstream identities.
func (a *Service) UserIdentities(ctx context.Context, m auth.Meta, userID string) ([]*userpool.Identity, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.ListIdentities(ctx, id, userID)
}
