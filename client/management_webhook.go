package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/authpool/authpool/api"
)

// ListWebhooks returns the pool's webhook subscriptions, oldest first
// (without their secrets).
func (c *ManagementClient) ListWebhooks(ctx context.Context, poolID string) ([]WebhookSubscription, error) {
	var out api.WebhookList
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "webhooks"), nil, &out); err != nil {
		return nil, err
	}
	return out.Webhooks, nil
}

// GetWebhook returns one subscription (without its secret).
func (c *ManagementClient) GetWebhook(ctx context.Context, poolID, webhookID string) (*WebhookSubscription, error) {
	var w WebhookSubscription
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "webhooks", webhookID), nil, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// CreateWebhook subscribes a URL to event types; the answer carries the
// signing secret (generated when in.Secret is empty), the only time it is
// shown.
func (c *ManagementClient) CreateWebhook(ctx context.Context, poolID string, in CreateWebhookRequest) (*WebhookSubscription, error) {
	var w WebhookSubscription
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "webhooks"), in, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// UpdateWebhook changes what in names; with in.Secret or in.RotateSecret
// the answer carries the new secret.
func (c *ManagementClient) UpdateWebhook(ctx context.Context, poolID, webhookID string, in UpdateWebhookRequest) (*WebhookSubscription, error) {
	var w WebhookSubscription
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "webhooks", webhookID), in, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// DeleteWebhook deletes a subscription with its deliveries.
func (c *ManagementClient) DeleteWebhook(ctx context.Context, poolID, webhookID string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "webhooks", webhookID), nil, nil)
}

// DeliveryQuery filters ListDeliveries; zero fields do not filter.
type DeliveryQuery struct {
	WebhookID string
	EventID   string // the webhook-id, "msg_..."
	Status    string // pending, delivered or failed
	// Limit is 100 when 0, at most 1000.
	Limit int
}

// ListDeliveries returns the pool's webhook deliveries matching q, newest
// first.
func (c *ManagementClient) ListDeliveries(ctx context.Context, poolID string, q DeliveryQuery) ([]Delivery, error) {
	v := url.Values{}
	for k, x := range map[string]string{"webhookId": q.WebhookID, "eventId": q.EventID, "status": q.Status} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := poolPath(poolID, "deliveries")
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out api.DeliveryList
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Deliveries, nil
}

// GetDelivery returns a delivery with the event it carries and every
// attempt, oldest first.
func (c *ManagementClient) GetDelivery(ctx context.Context, poolID, deliveryID string) (*DeliveryDetail, error) {
	var d DeliveryDetail
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "deliveries", deliveryID), nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Redeliver sends a delivery again: pending at once, with a fresh round
// of attempts and the same webhook-id.
func (c *ManagementClient) Redeliver(ctx context.Context, poolID, deliveryID string) (*Delivery, error) {
	var d Delivery
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "deliveries", deliveryID, "redeliver"), nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
