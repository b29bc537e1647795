package e2e

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestUserRegisteredCarriesValues: user.registered shows the user-defined
// values the registration stored (docs/API.md): those given as customData
// and those a pre-register pipeline set, with their types. A
// post-register pipeline's value is a change after the registration,
// reported as user.udv_changed with every value. An administrator's
// CreateUser with customData reports its values the same way.
func TestUserRegisteredCarriesValues(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		mc := in.admin()
		// plan and seats come from the user's registration (customData:
		// user-editable fields only); source and score from pipelines.
		for key, dt := range map[string]string{"plan": "STRING", "seats": "NUMBER", "source": "STRING", "score": "NUMBER"} {
			must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: key, DataType: dt, UserEditable: key == "plan" || key == "seats"}))
		}
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, "user.registered", "user.udv_changed")
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				user.customData.source = "pre-" + context.params.channel
				callback(null, user, context)
			}`)
		addPipeline(t, in, client.StagePostRegister, 0, `
			async function pipe(user, context, callback) {
				user.customData.score = user.customData.seats * 10
				callback(null, user, context)
			}`)

		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, "values@example.com", "passw0rd!", nil, &client.RegisterOptions{
			CustomData: map[string]any{"plan": "pro", "seats": 3},
			Context:    map[string]any{"channel": "ads"},
		}))
		all := map[string]any{"plan": "pro", "seats": 3.0, "source": "pre-ads", "score": 30.0}
		if !maps.Equal(u.CustomData, all) {
			t.Fatalf("registration answer: %v", u.CustomData)
		}

		got := rcv.waitEvents(t, 2)
		slices.SortFunc(got, func(a, b received) int { return len(a.Event.Data.User.CustomData) - len(b.Event.Data.User.CustomData) })
		reg, udv := got[0].Event, got[1].Event
		if reg.Type != "user.registered" || udv.Type != "user.udv_changed" {
			t.Fatalf("events %s, %s", reg.Type, udv.Type)
		}
		wantReg := map[string]any{"plan": "pro", "seats": 3.0, "source": "pre-ads"}
		wantTypes := map[string]string{"plan": "STRING", "seats": "NUMBER", "source": "STRING"}
		if ru := reg.Data.User; ru.ID != u.ID || !maps.Equal(ru.CustomData, wantReg) || !maps.Equal(ru.CustomDataTypes, wantTypes) {
			t.Errorf("user.registered: user %s, customData %v, types %v", ru.ID, ru.CustomData, ru.CustomDataTypes)
		}
		if d := udv.Data; !slices.Equal(d.Keys, []string{"score"}) || !maps.Equal(d.User.CustomData, all) || d.User.CustomDataTypes["score"] != "NUMBER" {
			t.Errorf("user.udv_changed: keys %v, customData %v", d.Keys, d.User.CustomData)
		}

		// An administrator's CreateUser: the values given are part of it.
		au := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{
			Username: "made-by-admin", CustomData: map[string]any{"plan": "team", "seats": 12},
		}))
		ev := rcv.waitEvents(t, 1)[0].Event
		want := map[string]any{"plan": "team", "seats": 12.0}
		if ev.Type != "user.registered" || ev.Data.User.ID != au.ID || !maps.Equal(ev.Data.User.CustomData, want) {
			t.Errorf("admin CreateUser event: %s %+v", ev.Type, ev.Data.User)
		}
	})
}
