package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// eventChoice is one event type's box in a subscription form.
type eventChoice struct {
	Type    string
	Checked bool
}

func eventChoices(chosen []string) []eventChoice {
	out := []eventChoice{{Type: "*", Checked: slices.Contains(chosen, "*")}}
	for _, e := range api.EventTypes {
		out = append(out, eventChoice{Type: e, Checked: slices.Contains(chosen, e)})
	}
	return out
}

// webhooksData is the webhooks page: the subscriptions, the create form
// (kept as typed when it is refused) and the recent deliveries.
type webhooksData struct {
	Webhooks   []*userpool.WebhookSubscription
	URL        string
	Events     []eventChoice
	Deliveries []*userpool.Delivery
	Status     string // the deliveries' filter
	Statuses   []string
}

func (s *Service) webhooksPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d webhooksData, msg string) error {
	var err error
	if d.Webhooks, err = s.d.Admin.ListWebhooks(r.Context(), c.meta); err != nil {
		return err
	}
	d.Status = r.URL.Query().Get("status")
	d.Statuses = []string{"", string(userpool.DeliveryPending), string(userpool.DeliveryDelivered), string(userpool.DeliveryFailed)}
	if d.Deliveries, err = s.d.Admin.ListDeliveries(r.Context(), c.meta, userpool.DeliveryFilter{Status: userpool.DeliveryStatus(d.Status), Limit: 50}); err != nil {
		return err
	}
	pg := Page{Title: "nav.webhooks", Section: "nav.webhooks", Pool: p, Data: d, Error: msg}
	if r.URL.Query().Get("done") == "webhook_deleted" && msg == "" {
		pg.Notice = T(c.lang, "done.webhook_deleted")
	}
	s.render(w, r, c, status, "webhooks", pg)
	return nil
}

// webhooks lists the subscriptions and the newest deliveries.
func (s *Service) webhooks(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.webhooksPage(w, r, c, p, http.StatusOK, webhooksData{Events: eventChoices(nil)}, "")
}

// webhookData is one subscription's page; Secret is set only in the
// answer that created or rotated it (shown once).
type webhookData struct {
	W          *userpool.WebhookSubscription
	Events     []eventChoice
	Secret     string
	Deliveries []*userpool.Delivery
}

func (s *Service) webhookPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, sub *userpool.WebhookSubscription, secret, notice, msg string, status int) error {
	ds, err := s.d.Admin.ListDeliveries(r.Context(), c.meta, userpool.DeliveryFilter{SubscriptionID: sub.ID, Limit: 50})
	if err != nil {
		return err
	}
	pg := Page{Title: "webhooks.webhook", Section: "nav.webhooks", Pool: p, Error: msg,
		Data: webhookData{W: sub, Events: eventChoices(sub.Events), Secret: secret, Deliveries: ds}}
	if notice != "" {
		pg.Notice = T(c.lang, "done."+notice)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, c, status, "webhook", pg)
	return nil
}

func (s *Service) webhook(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	sub, err := s.d.Admin.GetWebhook(r.Context(), c.meta, r.PathValue("webhookId"))
	if err != nil {
		return err
	}
	notice := ""
	if r.URL.Query().Get("done") == "webhook_saved" {
		notice = "webhook_saved"
	}
	return s.webhookPage(w, r, c, p, sub, "", notice, "", http.StatusOK)
}

// createWebhook subscribes a URL with a generated signing secret, shown
// in this answer once.
func (s *Service) createWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	sub, err := s.d.Admin.CreateWebhook(r.Context(), c.meta, userpool.WebhookSubscription{URL: f.Get("url"), Events: f["events"], Enabled: f.Get("enabled") == "1"})
	if err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.webhooksPage(w, r, c, p, http.StatusBadRequest, webhooksData{URL: f.Get("url"), Events: eventChoices(f["events"])}, formError(c.lang, err))
		}
		return err
	}
	return s.webhookPage(w, r, c, p, sub, sub.Secret, "webhook_created", "", http.StatusCreated)
}

// updateWebhook sets the URL, the event filter and whether it is enabled.
func (s *Service) updateWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	u, events, on := f.Get("url"), f["events"], f.Get("enabled") == "1"
	if events == nil {
		events = []string{}
	}
	id := r.PathValue("webhookId")
	if _, err := s.d.Admin.UpdateWebhook(r.Context(), c.meta, id, admin.WebhookUpdate{URL: &u, Events: &events, Enabled: &on}); err != nil {
		if statusOf(codeOf(err)) != http.StatusBadRequest {
			return err
		}
		sub, gerr := s.d.Admin.GetWebhook(r.Context(), c.meta, id)
		if gerr != nil {
			return gerr
		}
		return s.webhookPage(w, r, c, p, sub, "", "", formError(c.lang, err), http.StatusBadRequest)
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/webhooks/"+url.PathEscape(id)+"?done=webhook_saved")
	return nil
}

// rotateWebhookSecret generates a new signing secret, shown once.
func (s *Service) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	sub, err := s.d.Admin.UpdateWebhook(r.Context(), c.meta, r.PathValue("webhookId"), admin.WebhookUpdate{RotateSecret: true})
	if err != nil {
		return err
	}
	return s.webhookPage(w, r, c, p, sub, sub.Secret, "secret_rotated", "", http.StatusOK)
}

// deleteWebhook deletes the subscription with its deliveries.
func (s *Service) deleteWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.DeleteWebhook(r.Context(), c.meta, r.PathValue("webhookId")); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/webhooks?done=webhook_deleted")
	return nil
}

// deliveryData is one delivery with its attempts and body.
type deliveryData struct {
	D        *userpool.Delivery
	Attempts []*userpool.DeliveryAttempt
	Body     string // the payload, indented
}

// delivery shows a delivery: its state, every attempt and the body sent.
func (s *Service) delivery(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	d, attempts, err := s.d.Admin.GetDelivery(r.Context(), c.meta, r.PathValue("deliveryId"))
	if err != nil {
		return err
	}
	body := string(d.Payload)
	var buf bytes.Buffer
	if json.Indent(&buf, d.Payload, "", "  ") == nil {
		body = buf.String()
	}
	pg := Page{Title: "webhooks.delivery", Section: "nav.webhooks", Pool: p, Data: deliveryData{D: d, Attempts: attempts, Body: body}}
	if r.URL.Query().Get("done") == "redelivered" {
		pg.Notice = T(c.lang, "done.redelivered")
	}
	s.render(w, r, c, http.StatusOK, "delivery", pg)
	return nil
}

// redeliver makes the delivery pending again, due now.
func (s *Service) redeliver(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	id := r.PathValue("deliveryId")
	if _, err := s.d.Admin.Redeliver(r.Context(), c.meta, id); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/webhooks/deliveries/"+url.PathEscape(id)+"?done=redelivered")
	return nil
}
