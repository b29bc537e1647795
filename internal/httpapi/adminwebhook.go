package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// fromWebhook shows a subscription; its secret only when showSecret (the
// answer of the call that set or generated it).
func fromWebhook(w *userpool.WebhookSubscription, showSecret bool) api.WebhookSubscription {
	out := api.WebhookSubscription{ID: w.ID, URL: w.URL, Events: w.Events, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if showSecret {
		out.Secret = w.Secret
	}
	return out
}

func fromDelivery(d *userpool.Delivery) api.Delivery {
	out := api.Delivery{
		ID: d.ID, EventID: d.EventID, SubscriptionID: d.SubscriptionID, Type: d.Type, Status: string(d.Status),
		Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt,
	}
	if d.Status == userpool.DeliveryPending {
		out.NextAttemptAt = d.NextAttemptAt
	}
	return out
}

func (s *Server) adminListWebhooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Admin.ListWebhooks(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	out := api.WebhookList{Webhooks: make([]api.WebhookSubscription, len(list))}
	for i, x := range list {
		out.Webhooks[i] = fromWebhook(x, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in api.CreateWebhookRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("url", in.URL); err != nil {
		return err
	}
	sub, err := s.Admin.CreateWebhook(r.Context(), s.adminMeta(r), userpool.WebhookSubscription{
		URL: in.URL, Events: in.Events, Secret: in.Secret, Enabled: in.Enabled == nil || *in.Enabled,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromWebhook(sub, true))
	return nil
}

func (s *Server) adminGetWebhook(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.Admin.GetWebhook(r.Context(), s.adminMeta(r), r.PathValue("webhookId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromWebhook(sub, false))
	return nil
}

func (s *Server) adminUpdateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateWebhookRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sub, err := s.Admin.UpdateWebhook(r.Context(), s.adminMeta(r), r.PathValue("webhookId"), admin.WebhookUpdate{
		URL: in.URL, Events: in.Events, Secret: in.Secret, RotateSecret: in.RotateSecret, Enabled: in.Enabled,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromWebhook(sub, in.Secret != nil || in.RotateSecret))
	return nil
}

func (s *Server) adminDeleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeleteWebhook(r.Context(), s.adminMeta(r), r.PathValue("webhookId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminListDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit")
	if err != nil {
		return err
	}
	list, err := s.Admin.ListDeliveries(r.Context(), s.adminMeta(r), userpool.DeliveryFilter{
		SubscriptionID: q.Get("webhookId"), EventID: q.Get("eventId"), Status: userpool.DeliveryStatus(q.Get("status")), Limit: limit,
	})
	if err != nil {
		return err
	}
	out := api.DeliveryList{Deliveries: make([]api.Delivery, len(list))}
	for i, d := range list {
		out.Deliveries[i] = fromDelivery(d)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminGetDelivery(w http.ResponseWriter, r *http.Request) error {
	d, attempts, err := s.Admin.GetDelivery(r.Context(), s.adminMeta(r), r.PathValue("deliveryId"))
	if err != nil {
		return err
	}
	out := api.DeliveryDetail{Delivery: fromDelivery(d), Event: json.RawMessage(d.Payload), History: make([]api.DeliveryAttempt, len(attempts))}
	for i, a := range attempts {
		out.History[i] = api.DeliveryAttempt{
			Number: a.Number, Worker: a.Worker, StatusCode: a.StatusCode, Error: a.Error,
			DurationMs: a.Duration.Milliseconds(), CreatedAt: a.CreatedAt,
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminRedeliver(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Admin.Redeliver(r.Context(), s.adminMeta(r), r.PathValue("deliveryId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromDelivery(d))
	return nil
}
