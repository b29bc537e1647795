package admin

import (
	"context"
	"errors"
	"slices"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

var (
	errWebhookNotFound  = userpool.Errorf(userpool.CodeNotFound, "webhook_not_found", "no such webhook subscription in this user pool")
	errDeliveryNotFound = userpool.Errorf(userpool.CodeNotFound, "delivery_not_found", "no such webhook delivery in this user pool")
)

func notFound(err, named error) error {
	if errors.Is(err, userpool.ErrNotFound) {
		return named
	}
	return err
}

// WebhookUpdate changes a subscription; nil leaves a part as it is.
// RotateSecret generates a new signing secret.
type WebhookUpdate struct {
	URL          *string
	Events       *[]string
	Secret       *string
	RotateSecret bool
	Enabled      *bool
}

// eventSet sorts events and drops repeats, so that a subscription lists
// each type once.
func eventSet(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}

// ListWebhooks returns the pool's subscriptions, oldest first.
func (a *Service) ListWebhooks(ctx context.Context, m auth.Meta) ([]*userpool.WebhookSubscription, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.ListSubscriptions(ctx, id)
}

// GetWebhook returns one subscription.
func (a *Service) GetWebhook(ctx context.Context, m auth.Meta, subID string) (*userpool.WebhookSubscription, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	w, err := a.store.GetSubscription(ctx, id, subID)
	return w, notFound(err, errWebhookNotFound)
}

// CreateWebhook validates (pipeline.ValidateSubscription) and stores a
// subscription; without a secret one is generated.
func (a *Service) CreateWebhook(ctx context.Context, m auth.Meta, w userpool.WebhookSubscription) (*userpool.WebhookSubscription, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if w.Secret == "" {
		w.Secret = pipeline.NewSecret()
	}
	w.Events = eventSet(w.Events)
	now := a.now().UTC()
	w.ID, w.PoolID, w.CreatedAt, w.UpdatedAt = newID(), id, now, now
	if err := pipeline.ValidateSubscription(&w); err != nil {
		return nil, err
	}
	if err := a.store.CreateSubscription(ctx, &w); err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, "", "admin.webhook.create", map[string]string{"webhookId": w.ID})
	return &w, nil
}

// UpdateWebhook applies up and validates the result in one transaction.
func (a *Service) UpdateWebhook(ctx context.Context, m auth.Meta, subID string, up WebhookUpdate) (*userpool.WebhookSubscription, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if up.Secret != nil && up.RotateSecret {
		return nil, invalid("invalid_secret", "give secret or rotateSecret, not both")
	}
	w, err := a.store.UpdateSubscription(ctx, id, subID, func(w *userpool.WebhookSubscription) error {
		if up.URL != nil {
			w.URL = *up.URL
		}
		if up.Events != nil {
			w.Events = eventSet(*up.Events)
		}
		if up.Secret != nil {
			w.Secret = *up.Secret
		}
		if up.RotateSecret {
			w.Secret = pipeline.NewSecret()
		}
		if up.Enabled != nil {
			w.Enabled = *up.Enabled
		}
		w.UpdatedAt = a.now().UTC()
		return pipeline.ValidateSubscription(w)
	})
	if err != nil {
		return nil, notFound(err, errWebhookNotFound)
	}
	detail := map[string]string{"webhookId": w.ID}
	if up.Secret != nil || up.RotateSecret {
		detail["secret"] = "changed"
	}
	a.audit(ctx, m, id, "", "admin.webhook.update", detail)
	return w, nil
}

// DeleteWebhook deletes a subscription with its deliveries and attempts.
func (a *Service) DeleteWebhook(ctx context.Context, m auth.Meta, subID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	if err := a.store.DeleteSubscription(ctx, id, subID); err != nil {
		return notFound(err, errWebhookNotFound)
	}
	a.audit(ctx, m, id, "", "admin.webhook.delete", map[string]string{"webhookId": subID})
	return nil
}

// ListDeliveries returns the pool's deliveries matching f (PoolID is set
// from m), newest first.
func (a *Service) ListDeliveries(ctx context.Context, m auth.Meta, f userpool.DeliveryFilter) ([]*userpool.Delivery, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	switch f.Status {
	case "", userpool.DeliveryPending, userpool.DeliveryDelivered, userpool.DeliveryFailed:
	default:
		return nil, invalid("invalid_query", "status must be pending, delivered or failed")
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, invalid("invalid_paging", "limit must be between 0 (the default, 100) and 1000")
	}
	f.PoolID = id
	return a.store.ListDeliveries(ctx, f)
}

// GetDelivery returns a delivery with every attempt, oldest first.
func (a *Service) GetDelivery(ctx context.Context, m auth.Meta, deliveryID string) (*userpool.Delivery, []*userpool.DeliveryAttempt, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	d, err := a.store.GetDelivery(ctx, id, deliveryID)
	if err != nil {
		return nil, nil, notFound(err, errDeliveryNotFound)
	}
	attempts, err := a.store.ListDeliveryAttempts(ctx, id, deliveryID)
	if err != nil {
		return nil, nil, err
	}
	return d, attempts, nil
}

// Redeliver makes a delivery pending again, due now, with a fresh round
// of attempts (a delivered one is sent again; the webhook-id stays, so a
// receiver that de-duplicates sees it once).
func (a *Service) Redeliver(ctx context.Context, m auth.Meta, deliveryID string) (*userpool.Delivery, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	d, err := a.store.Redeliver(ctx, id, deliveryID, a.now().UTC())
	if err != nil {
		return nil, notFound(err, errDeliveryNotFound)
	}
	a.audit(ctx, m, id, "", "admin.delivery.redeliver", map[string]string{"deliveryId": deliveryID})
	return d, nil
}
