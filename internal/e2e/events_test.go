package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// TestWebhookUserEvents: the events of the code, identifier, user-defined
// data and administration flows arrive, each once, showing the user as the
// change stored it: user.email_verified, user.password_reset,
// user.phone_changed, user.email_changed, user.udv_changed, user.updated,
// user.blocked and user.deleted. Calls that change nothing (a second
// verification, block or unblock, removing a value that is not there)
// report nothing.
func TestWebhookUserEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "score", DataType: "NUMBER", UserEditable: true}))
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"verifyOldEmail": false, "verifyOldPhone": false}}))
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "*")
		c := in.client()
		next := func() { in.Clock.Advance(61 * time.Second) } // past the per-address sending interval

		u := must[*client.User](t)(c.RegisterByEmail(ctx, "ev@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must0(t, c.VerifyEmail(ctx, "ev@example.com", mailCode(t, in, "ev@example.com", client.EmailSceneVerifyEmail)))
		next()
		// Verified already: no second user.email_verified.
		must0(t, c.VerifyEmail(ctx, "ev@example.com", mailCode(t, in, "ev@example.com", client.EmailSceneVerifyEmail)))
		next()
		must0(t, c.ResetPasswordByEmailCode(ctx, "ev@example.com", mailCode(t, in, "ev@example.com", client.EmailSceneResetPassword), "n3w-passw0rd!"))
		must[*client.User](t)(c.LoginByEmail(ctx, "ev@example.com", "n3w-passw0rd!", nil))
		must[*client.User](t)(c.BindPhone(ctx, cnPhone, sms(t, in, cnPhone)))
		must[*client.User](t)(c.UpdatePhone(ctx, cnPhone2, sms(t, in, cnPhone2), "", ""))
		must[*client.User](t)(c.UpdateEmail(ctx, "ev2@example.com", mailCode(t, in, "ev2@example.com", client.EmailSceneChangeEmail), "", ""))
		must[*client.User](t)(c.UnbindPhone(ctx))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "score", 7))
		must[[]client.UserDefinedData](t)(c.RemoveUdv(ctx, "score"))
		must[[]client.UserDefinedData](t)(c.RemoveUdv(ctx, "score")) // nothing to remove: no event
		f := false
		must[*client.User](t)(mc.UpdateUser(ctx, "default", u.ID, client.UpdateUserRequest{EmailVerified: &f}))
		must[*client.User](t)(mc.UpdateUser(ctx, "default", u.ID, client.UpdateUserRequest{EmailVerified: ptr(true)}))
		must[*client.User](t)(mc.UpdateUser(ctx, "default", u.ID, client.UpdateUserRequest{EmailVerified: ptr(true)})) // no change: no event
		must[*client.BlockedUser](t)(mc.BlockUser(ctx, "default", u.ID))
		if b := must[*client.BlockedUser](t)(mc.BlockUser(ctx, "default", u.ID)); !b.Blocked { // blocked already: no event
			t.Fatalf("second block: %+v", b)
		}
		must[*client.User](t)(mc.UnblockUser(ctx, "default", u.ID))
		if ub := must[*client.User](t)(mc.UnblockUser(ctx, "default", u.ID)); ub.Blocked { // not blocked: no event
			t.Fatalf("second unblock: %+v", ub)
		}
		must0(t, mc.DeleteUser(ctx, "default", u.ID))

		want := map[string]int{
			"user.registered": 1, "user.login": 2, "user.email_verified": 2, "user.password_reset": 1,
			"user.phone_changed": 3, "user.email_changed": 1, "user.udv_changed": 2, "user.updated": 2,
			"user.blocked": 1, "user.deleted": 1,
		}
		total := 0
		for _, n := range want {
			total += n
		}
		got := rcv.waitDistinct(t, total)
		byType := map[string][]client.WebhookEvent{}
		for _, g := range got {
			byType[g.Event.Type] = append(byType[g.Event.Type], g.Event)
			if d := g.Event.Data; d.User == nil || d.User.ID != u.ID || d.UserPoolID != u.UserPoolID {
				t.Errorf("%s: %+v", g.Event.Type, d)
			}
		}
		for typ, n := range want {
			if len(byType[typ]) != n {
				t.Errorf("%d %s events, want %d", len(byType[typ]), typ, n)
			}
		}
		for _, e := range byType["user.email_verified"] {
			if !e.Data.User.EmailVerified {
				t.Errorf("user.email_verified shows an unverified user: %+v", e.Data.User)
			}
		}
		if e := byType["user.password_reset"]; len(e) == 1 && (e[0].Data.User.Email != "ev@example.com" || e[0].Data.ClientIP != "127.0.0.1") {
			t.Errorf("user.password_reset: %+v", e[0].Data)
		}
		var phones []string
		for _, e := range byType["user.phone_changed"] {
			phones = append(phones, e.Data.User.Phone)
		}
		slices.Sort(phones)
		if !slices.Equal(phones, []string{"", cnPhone, cnPhone2}) {
			t.Errorf("user.phone_changed shows phones %q", phones)
		}
		if e := byType["user.email_changed"]; len(e) == 1 && (e[0].Data.User.Email != "ev2@example.com" || !e[0].Data.User.EmailVerified) {
			t.Errorf("user.email_changed: %+v", e[0].Data.User)
		}
		var udvSet, udvRemoved bool
		for _, e := range byType["user.udv_changed"] {
			if !slices.Equal(e.Data.Keys, []string{"score"}) {
				t.Errorf("user.udv_changed keys %v", e.Data.Keys)
			}
			switch {
			case e.Data.User.CustomData["score"] == 7.0 && e.Data.User.CustomDataTypes["score"] == "NUMBER":
				udvSet = true
			case len(e.Data.User.CustomData) == 0:
				udvRemoved = true
			}
		}
		if !udvSet || !udvRemoved {
			t.Errorf("user.udv_changed events: %+v", byType["user.udv_changed"])
		}
		if e := byType["user.blocked"]; len(e) == 1 && !e[0].Data.User.Blocked {
			t.Errorf("user.blocked shows %+v", e[0].Data.User)
		}
		if e := byType["user.deleted"]; len(e) == 1 && e[0].Data.User.Email != "ev2@example.com" {
			t.Errorf("user.deleted shows %+v", e[0].Data.User)
		}
		// Nothing else is on its way.
		waitFor(t, "every delivery finished", func() bool {
			ds, err := mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Status: string(userpool.DeliveryPending)})
			return err == nil && len(ds) == 0
		})
		if n := len(must[[]client.Delivery](t)(mc.ListDeliveries(ctx, "default", client.DeliveryQuery{Limit: 1000}))); n != total {
			t.Fatalf("%d deliveries, want %d", n, total)
		}
	})
}
