package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// TestWebhookAdmin manages a subscription through the ManagementClient:
// the generated secret is shown once and signs the deliveries (a rotated
// one the next ones), deliveries are listed with their filters and their
// attempts, a failed delivery is redelivered, a disabled subscription gets
// nothing new, bad input is refused with codes and changes nothing.
func TestWebhookAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := webhookConfig(dbURL)
		cfg.WebhookMaxAttempts = 1 // a failure is final at once; redelivery revives it
		in := start(t, cfg, nil)
		mc := in.admin()
		c := in.client()
		var up atomic.Bool
		up.Store(true)
		rcv := newReceiver(t, func(int, string) int {
			if up.Load() {
				return http.StatusOK
			}
			return http.StatusServiceUnavailable
		})
		rcv.mu.Lock()
		rcv.clock = in.Clock
		rcv.mu.Unlock()

		sub := must[*client.WebhookSubscription](t)(mc.CreateWebhook(ctx, "default", client.CreateWebhookRequest{
			URL: rcv.srv.URL, Events: []string{"user.registered", "user.login", "user.registered"},
		}))
		if !strings.HasPrefix(sub.Secret, "whsec_") || !sub.Enabled || !slices.Equal(sub.Events, []string{"user.login", "user.registered"}) {
			t.Fatalf("created: %+v", sub)
		}
		rcv.useSecret(sub.Secret)
		if got := must[*client.WebhookSubscription](t)(mc.GetWebhook(ctx, "default", sub.ID)); got.Secret != "" || got.URL != rcv.srv.URL {
			t.Fatalf("get shows %+v", got)
		}
		if list := must[[]client.WebhookSubscription](t)(mc.ListWebhooks(ctx, "default")); len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list: %+v", list)
		}

		// Delivered, signed with the generated secret; listed and detailed.
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "wa@example.com", "passw0rd!", nil, nil))
		first := rcv.waitEvents(t, 1)[0]
		if first.Event.Type != "user.registered" || first.Event.Data.User.ID != u.ID {
			t.Fatalf("first event: %+v", first)
		}
		delivered := func(eventID string) func() bool {
			return func() bool {
				ds, err := mc.ListDeliveries(ctx, "default", client.DeliveryQuery{EventID: eventID, Status: "delivered"})
				return err == nil && len(ds) == 1
			}
		}
		waitFor(t, "the first delivery recorded", delivered(first.ID))
		ds := must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{WebhookID: sub.ID}))
		if len(ds) != 1 || ds[0].EventID != first.ID || ds[0].ID != first.ID+":"+sub.ID || ds[0].Attempts != 1 || ds[0].Type != "user.registered" || ds[0].FinishedAt.IsZero() {
			t.Fatalf("deliveries: %+v", ds)
		}
		if n := len(must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Status: "failed"}))); n != 0 {
			t.Fatalf("%d failed deliveries", n)
		}
		detail := must[*client.DeliveryDetail](t)(mc.GetDelivery(ctx, "default", ds[0].ID))
		var body api.WebhookEvent
		if err := json.Unmarshal(detail.Event, &body); err != nil || body.Type != "user.registered" || body.Data.User.Email != "wa@example.com" {
			t.Fatalf("delivery's event: %v %s", err, detail.Event)
		}
		if len(detail.History) != 1 || detail.History[0].StatusCode != 200 || detail.History[0].Error != "" ||
			detail.History[0].Worker != in.Srv.WebhookWorker() || detail.History[0].Number != 1 {
			t.Fatalf("history: %+v", detail.History)
		}

		// A rotated secret is shown once and signs what follows.
		rot := must[*client.WebhookSubscription](t)(mc.UpdateWebhook(ctx, "default", sub.ID, client.UpdateWebhookRequest{RotateSecret: true}))
		if !strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == sub.Secret {
			t.Fatalf("rotated: %+v", rot)
		}
		rcv.useSecret(rot.Secret)
		must[*client.User](t)(c.LoginByEmail(ctx, "wa@example.com", "passw0rd!", nil))
		if g := rcv.waitEvents(t, 1)[0]; g.Event.Type != "user.login" {
			t.Fatalf("after rotation: %+v", g)
		}

		// A failed delivery, redelivered.
		up.Store(false)
		must[*client.User](t)(c.RegisterByEmail(ctx, "fail@example.com", "passw0rd!", nil, nil))
		failedEvent := rcv.next(t)
		waitFor(t, "the failure recorded", func() bool {
			ds, err := mc.ListDeliveries(ctx, "default", client.DeliveryQuery{EventID: failedEvent.ID, Status: "failed"})
			return err == nil && len(ds) == 1
		})
		failed := must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Status: "failed"}))
		if len(failed) != 1 || failed[0].LastError != "HTTP 503" || failed[0].EventID != failedEvent.ID {
			t.Fatalf("failed deliveries: %+v", failed)
		}
		up.Store(true)
		rd := must[*client.Delivery](t)(mc.Redeliver(ctx, "default", failed[0].ID))
		if rd.Status != "pending" || rd.Attempts != 0 || rd.LastError != "" {
			t.Fatalf("redelivered: %+v", rd)
		}
		if g := rcv.waitEvents(t, 1)[0]; g.ID != failedEvent.ID {
			t.Fatalf("redelivery carried %s, want %s", g.ID, failedEvent.ID)
		}
		waitFor(t, "the redelivery recorded", delivered(failedEvent.ID))
		hist := must[*client.DeliveryDetail](t)(mc.GetDelivery(ctx, "default", failed[0].ID)).History
		if len(hist) != 2 || hist[0].StatusCode != 503 || hist[0].Error != "HTTP 503" || hist[1].StatusCode != 200 || hist[1].Number != 1 {
			t.Fatalf("history across rounds: %+v", hist)
		}

		// Disabled: new events are not queued for it.
		off := must[*client.WebhookSubscription](t)(mc.UpdateWebhook(ctx, "default", sub.ID, client.UpdateWebhookRequest{Enabled: new(bool)}))
		if off.Enabled || off.Secret != "" {
			t.Fatalf("disabled: %+v", off)
		}
		before := len(must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{WebhookID: sub.ID})))
		must[*client.User](t)(c.RegisterByEmail(ctx, "quiet@example.com", "passw0rd!", nil, nil))
		if n := len(must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{WebhookID: sub.ID}))); n != before {
			t.Fatalf("a disabled subscription got %d new deliveries", n-before)
		}

		// Refused input: coded, nothing changes.
		for name, req := range map[string]client.CreateWebhookRequest{
			"bad url":       {URL: "not a url", Events: []string{"*"}},
			"no events":     {URL: "https://example.com/in"},
			"unknown event": {URL: "https://example.com/in", Events: []string{"user.exploded"}},
			"bad secret":    {URL: "https://example.com/in", Events: []string{"*"}, Secret: "whsec_c2hvcnQ="},
		} {
			_, err := mc.CreateWebhook(ctx, "default", req)
			if ce := wantCode(t, err, 1003); ce.HTTPStatus != 400 {
				t.Errorf("%s: %+v", name, ce)
			}
		}
		for name, req := range map[string]client.UpdateWebhookRequest{
			"secret and rotation": {Secret: ptr(rot.Secret), RotateSecret: true},
			"no events":           {Events: &[]string{}},
			"bad url":             {URL: ptr("ftp://example.com")},
		} {
			_, err := mc.UpdateWebhook(ctx, "default", sub.ID, req)
			wantCode(t, err, 1003)
			if got := must[*client.WebhookSubscription](t)(mc.GetWebhook(ctx, "default", sub.ID)); got.URL != rcv.srv.URL || len(got.Events) != 2 {
				t.Fatalf("refused update %q changed the subscription: %+v", name, got)
			}
		}
		for _, call := range []func() error{
			func() error { _, err := mc.GetWebhook(ctx, "default", "nope"); return err },
			func() error {
				_, err := mc.UpdateWebhook(ctx, "default", "nope", client.UpdateWebhookRequest{})
				return err
			},
			func() error { return mc.DeleteWebhook(ctx, "default", "nope") },
		} {
			if ce := wantCode(t, call(), 1004); ce.Reason != "webhook_not_found" {
				t.Errorf("unknown subscription: %+v", ce)
			}
		}
		for _, call := range []func() error{
			func() error { _, err := mc.GetDelivery(ctx, "default", "msg_0:nope"); return err },
			func() error { _, err := mc.Redeliver(ctx, "default", "msg_0:nope"); return err },
		} {
			if ce := wantCode(t, call(), 1004); ce.Reason != "delivery_not_found" {
				t.Errorf("unknown delivery: %+v", ce)
			}
		}
		_, err := mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Status: "lost"})
		wantCode(t, err, 1003)
		_, err = mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Limit: 5000})
		wantCode(t, err, 1003)
		if n := len(must[[]client.WebhookSubscription](t)(mc.ListWebhooks(ctx, "default"))); n != 1 {
			t.Fatalf("%d subscriptions after refused input", n)
		}

		// Deleted with its deliveries.
		must0(t, mc.DeleteWebhook(ctx, "default", sub.ID))
		if n := len(must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{WebhookID: sub.ID}))); n != 0 {
			t.Fatalf("%d deliveries of a deleted subscription", n)
		}

		// The audit trail, without secrets.
		events, _ := in.Srv.Store().ListAudit(ctx, userpool.AuditFilter{PoolID: in.Srv.DefaultPoolID(), Limit: 1000})
		kinds := map[string]int{}
		for _, e := range events {
			kinds[e.Event]++
			for _, v := range e.Detail {
				if strings.Contains(v, "whsec_") {
					t.Errorf("audit %s holds a secret: %v", e.Event, e.Detail)
				}
			}
		}
		if kinds["admin.webhook.create"] != 1 || kinds["admin.webhook.update"] != 2 || kinds["admin.webhook.delete"] != 1 || kinds["admin.delivery.redeliver"] != 1 {
			t.Fatalf("audit: %v", kinds)
		}
	})
}
