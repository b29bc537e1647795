package e2e

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// defineAllTypes defines one field of each data type in the default pool.
func defineAllTypes(t *testing.T, mc *client.ManagementClient) {
	t.Helper()
	for _, f := range []client.DefineFieldRequest{
		{Key: "city", DataType: "STRING", Label: "City", UserEditable: true},
		{Key: "age", DataType: "NUMBER", Label: "Age", UserEditable: true},
		{Key: "vip", DataType: "BOOLEAN", Label: "VIP", UserEditable: true},
		{Key: "birthday", DataType: "DATETIME", Label: "Birthday", UserEditable: true},
		{Key: "prefs", DataType: "OBJECT", Label: "Preferences", Description: "UI preferences", UserEditable: true},
	} {
		if _, err := mc.DefineField(context.Background(), "default", f); err != nil {
			t.Fatalf("DefineField %s: %v", f.Key, err)
		}
	}
}

// udvMap turns a list into key -> value, failing on duplicate keys.
func udvMap(t *testing.T, list []client.UserDefinedData) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, d := range list {
		if _, dup := m[d.Key]; dup {
			t.Fatalf("key %s listed twice", d.Key)
		}
		m[d.Key] = d.Value
	}
	return m
}

func TestUserDefinedData(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		in := start(t, cfg, nil)
		mc := in.admin()
		defineAllTypes(t, mc)

		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "udv@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		if list := must[[]client.UserDefinedData](t)(c.ListUdv(ctx)); len(list) != 0 {
			t.Fatalf("new user has data: %+v", list)
		}

		birthday := time.Date(1990, 7, 14, 8, 30, 0, 0, time.FixedZone("CEST", 2*3600))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "city", "Paris"))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "age", 15))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "vip", true))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "birthday", birthday))
		list := must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "prefs", map[string]any{"theme": "dark", "size": 2}))

		// SetUdv answers the whole list, ordered by key, with Go values of
		// the right kind.
		keys := []string{}
		for _, d := range list {
			keys = append(keys, d.Key+":"+d.DataType+":"+d.Label)
		}
		want := []string{"age:NUMBER:Age", "birthday:DATETIME:Birthday", "city:STRING:City", "prefs:OBJECT:Preferences", "vip:BOOLEAN:VIP"}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("list %v, want %v", keys, want)
		}
		checkValues := func(what string, got map[string]any) {
			t.Helper()
			if v, ok := got["city"].(string); !ok || v != "Paris" {
				t.Errorf("%s city = %#v", what, got["city"])
			}
			if v, ok := got["age"].(float64); !ok || v != 15 {
				t.Errorf("%s age = %#v", what, got["age"])
			}
			if v, ok := got["vip"].(bool); !ok || !v {
				t.Errorf("%s vip = %#v", what, got["vip"])
			}
			if v, ok := got["birthday"].(time.Time); !ok || !v.Equal(birthday) {
				t.Errorf("%s birthday = %#v", what, got["birthday"])
			}
			if v, ok := got["prefs"].(map[string]any); !ok || v["theme"] != "dark" || v["size"] != 2.0 {
				t.Errorf("%s prefs = %#v", what, got["prefs"])
			}
		}
		checkValues("SetUdv", udvMap(t, list))
		checkValues("ListUdv", udvMap(t, must[[]client.UserDefinedData](t)(c.ListUdv(ctx))))

		// DATETIME also takes epoch milliseconds; NUMBER takes fractions.
		ms := int64(1714557600123)
		got := udvMap(t, must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "birthday", ms)))
		if v, ok := got["birthday"].(time.Time); !ok || !v.Equal(time.UnixMilli(ms)) {
			t.Fatalf("birthday from epoch ms = %#v", got["birthday"])
		}
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "birthday", birthday))

		// Every mismatch and unknown key is refused with its code, names
		// the key and the expected type, and changes nothing.
		before := must[[]client.UserDefinedData](t)(c.ListUdv(ctx))
		for _, tc := range []struct {
			key   string
			value any
			typ   string
		}{
			{"city", 15, "STRING"},
			{"city", true, "STRING"},
			{"age", "abc", "NUMBER"},
			{"age", "15", "NUMBER"},
			{"vip", "true", "BOOLEAN"},
			{"vip", 1, "BOOLEAN"},
			{"birthday", "yesterday", "DATETIME"},
			{"birthday", 1.5, "DATETIME"},
			{"birthday", map[string]any{}, "DATETIME"},
			{"prefs", []int{1, 2}, "OBJECT"},
			{"prefs", "{}", "OBJECT"},
			{"prefs", nil, "OBJECT"},
		} {
			_, err := c.SetUdv(ctx, tc.key, tc.value)
			ce := wantCode(t, err, 2402)
			if ce.Data["key"] != tc.key || ce.Data["dataType"] != tc.typ || ce.HTTPStatus != 400 {
				t.Errorf("SetUdv(%s, %#v): %+v, want key and type %s named", tc.key, tc.value, ce, tc.typ)
			}
		}
		for _, key := range []string{"nope", "City", "a/b", ""} {
			_, err := c.SetUdv(ctx, key, "x")
			if key == "" {
				// No key, no route.
				wantCode(t, err, 1004)
				continue
			}
			ce := wantCode(t, err, 2401)
			if ce.Data["key"] != key {
				t.Errorf("SetUdv(%q): data %v does not name the key", key, ce.Data)
			}
			_, err = c.RemoveUdv(ctx, key)
			wantCode(t, err, 2401)
		}
		after := must[[]client.UserDefinedData](t)(c.ListUdv(ctx))
		if !reflect.DeepEqual(udvMap(t, before), udvMap(t, after)) {
			t.Fatalf("refused calls changed data:\n%+v\n%+v", before, after)
		}

		// Remove, twice (the second is no error).
		got = udvMap(t, must[[]client.UserDefinedData](t)(c.RemoveUdv(ctx, "vip")))
		if _, ok := got["vip"]; ok || len(got) != 4 {
			t.Fatalf("after RemoveUdv: %+v", got)
		}
		must[[]client.UserDefinedData](t)(c.RemoveUdv(ctx, "vip"))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "vip", true))

		// Values appear in CustomData on login and GetCurrentUser, and
		// survive a restart.
		li := must[*client.User](t)(in.client().LoginByEmail(ctx, "udv@example.com", "passw0rd!", nil))
		checkValues("login CustomData", li.CustomData)
		if li.CustomDataTypes["birthday"] != "DATETIME" {
			t.Errorf("CustomDataTypes = %v", li.CustomDataTypes)
		}
		checkValues("GetCurrentUser CustomData", must[*client.User](t)(c.GetCurrentUser(ctx)).CustomData)
		in.stop()
		in2 := start(t, cfg, nil)
		c2 := in2.client()
		li = must[*client.User](t)(c2.LoginByEmail(ctx, "udv@example.com", "passw0rd!", nil))
		checkValues("login after restart", li.CustomData)
		checkValues("ListUdv after restart", udvMap(t, must[[]client.UserDefinedData](t)(c2.ListUdv(ctx))))

		// Without a token there is nothing to read or write.
		anon := in2.client()
		_, err := anon.ListUdv(ctx)
		wantCode(t, err, 2020)
		_, err = anon.SetUdv(ctx, "age", 1)
		wantCode(t, err, 2020)
		_, err = anon.RemoveUdv(ctx, "age")
		wantCode(t, err, 2020)
	})
}

func TestUserDefinedDataIsolationAndDefinitions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		defineAllTypes(t, mc)

		a, b := in.client(), in.client()
		ua := must[*client.User](t)(a.RegisterByEmail(ctx, "a@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[*client.User](t)(b.RegisterByEmail(ctx, "b@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[[]client.UserDefinedData](t)(a.SetUdv(ctx, "age", 30))
		must[[]client.UserDefinedData](t)(a.SetUdv(ctx, "city", "Oslo"))

		// B sees and changes only B's own data.
		if list := must[[]client.UserDefinedData](t)(b.ListUdv(ctx)); len(list) != 0 {
			t.Fatalf("B sees data: %+v", list)
		}
		must[[]client.UserDefinedData](t)(b.SetUdv(ctx, "age", 40))
		must[[]client.UserDefinedData](t)(b.RemoveUdv(ctx, "city"))
		got := udvMap(t, must[[]client.UserDefinedData](t)(a.ListUdv(ctx)))
		if got["age"] != 30.0 || got["city"] != "Oslo" {
			t.Fatalf("A's data changed by B: %+v", got)
		}
		// The administrator sees A's data.
		au := must[*client.User](t)(mc.GetUser(ctx, "default", ua.ID))
		if au.CustomData["age"] != 30.0 || au.CustomData["city"] != "Oslo" {
			t.Fatalf("admin GetUser CustomData: %+v", au.CustomData)
		}

		// A type change is refused while values exist; label changes are not.
		_, err := mc.UpdateField(ctx, "default", "age", client.UpdateFieldRequest{DataType: ptr("STRING")})
		ce := wantCode(t, err, 2404)
		if ce.Data["key"] != "age" {
			t.Errorf("2404 does not name the key: %+v", ce)
		}
		f := must[*client.Field](t)(mc.UpdateField(ctx, "default", "age", client.UpdateFieldRequest{Label: ptr("Age in years")}))
		if f.Label != "Age in years" || f.DataType != "NUMBER" {
			t.Fatalf("UpdateField label: %+v", f)
		}
		for _, d := range must[[]client.UserDefinedData](t)(a.ListUdv(ctx)) {
			if d.Key == "age" && d.Label != "Age in years" {
				t.Fatalf("label not updated in values: %+v", d)
			}
		}
		must[[]client.UserDefinedData](t)(a.RemoveUdv(ctx, "age"))
		must[[]client.UserDefinedData](t)(b.RemoveUdv(ctx, "age"))
		f = must[*client.Field](t)(mc.UpdateField(ctx, "default", "age", client.UpdateFieldRequest{DataType: ptr("string")}))
		if f.DataType != "STRING" {
			t.Fatalf("type change without values: %+v", f)
		}
		must[[]client.UserDefinedData](t)(a.SetUdv(ctx, "age", "thirty"))

		// Deleting a definition deletes its values; the key is unknown after.
		must[*client.Field](t)(mc.GetField(ctx, "default", "city"))
		if err := mc.DeleteField(ctx, "default", "city"); err != nil {
			t.Fatal(err)
		}
		got = udvMap(t, must[[]client.UserDefinedData](t)(a.ListUdv(ctx)))
		if _, ok := got["city"]; ok {
			t.Fatalf("value of a deleted field remains: %+v", got)
		}
		_, err = a.SetUdv(ctx, "city", "Oslo")
		wantCode(t, err, 2401)
		_, err = mc.GetField(ctx, "default", "city")
		wantCode(t, err, 2401)
		wantCode(t, mc.DeleteField(ctx, "default", "city"), 2401)

		// Definitions are checked.
		for _, bad := range []client.DefineFieldRequest{
			{Key: "age", DataType: "NUMBER"},
			{Key: "bad key", DataType: "STRING"},
			{Key: "x", DataType: "INTEGER"},
			{Key: "", DataType: "STRING"},
		} {
			_, err := mc.DefineField(ctx, "default", bad)
			want := 1003
			if bad.Key == "age" {
				want = 2403
			}
			wantCode(t, err, want)
		}
		fields := must[[]client.Field](t)(mc.ListFields(ctx, "default"))
		if len(fields) != 4 || fields[0].Key != "age" || fields[2].Description != "UI preferences" {
			t.Fatalf("ListFields: %+v", fields)
		}
	})
}

func TestRegisterWithCustomData(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		defineAllTypes(t, in.admin())
		c := in.client()

		u := must[*client.User](t)(c.RegisterByEmail(ctx, "cd@example.com", "passw0rd!", nil, &client.RegisterOptions{
			CustomData: map[string]any{"age": 30, "birthday": "2000-01-02T03:04:05Z", "prefs": map[string]any{"a": []int{1}}},
		}))
		if u.CustomData["age"] != 30.0 || !u.CustomData["birthday"].(time.Time).Equal(time.Date(2000, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("registration answer CustomData: %#v", u.CustomData)
		}
		li := must[*client.User](t)(c.LoginByEmail(ctx, "cd@example.com", "passw0rd!", nil))
		if li.CustomData["age"] != 30.0 || li.CustomData["prefs"].(map[string]any)["a"].([]any)[0] != 1.0 {
			t.Fatalf("login CustomData: %#v", li.CustomData)
		}
		// ForceLogin and username registration carry it too.
		fu := must[*client.User](t)(c.RegisterByUsername(ctx, "cdu", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true, CustomData: map[string]any{"vip": true}}))
		if fu.CustomData["vip"] != true || fu.Token == "" {
			t.Fatalf("ForceLogin CustomData: %#v", fu.CustomData)
		}

		// Bad custom data refuses the registration and creates nobody.
		for _, tc := range []struct {
			data map[string]any
			code int
		}{
			{map[string]any{"age": "x"}, 2402},
			{map[string]any{"city": "Oslo", "unknown": 1}, 2401},
			{map[string]any{"vip": nil}, 2402},
		} {
			_, err := c.RegisterByEmail(ctx, "bad@example.com", "passw0rd!", nil, &client.RegisterOptions{CustomData: tc.data})
			wantCode(t, err, tc.code)
		}
		_, err := c.LoginByEmail(ctx, "bad@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)
	})
}

// TestCustomDataOnlyUserEditable (review finding): customData at
// registration is sent by the end user's client, so it may set only
// fields the pool marks user-editable, like SetUdv. A field only the
// application sets ("role") is refused with 2018 before anything is
// written, whichever way the user registers; an editable one is stored.
// An administrator's CreateUser still sets any field.
func TestCustomDataOnlyUserEditable(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "role", DataType: "STRING", Label: "Role"}))
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "city", DataType: "STRING", Label: "City", UserEditable: true}))
		forged := &client.RegisterOptions{ForceLogin: true, CustomData: map[string]any{"city": "Lyon", "role": "admin"}}
		users := func() int {
			return must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{})).Total
		}

		_, err := in.client().RegisterByEmail(ctx, "mallory@example.com", "passw0rd!", nil, forged)
		ce := wantCode(t, err, 2018)
		if !strings.Contains(ce.Message, `"role"`) {
			t.Fatalf("the refusal does not name the field: %q", ce.Message)
		}
		_, err = in.client().RegisterByUsername(ctx, "mallory", "passw0rd!", nil, forged)
		wantCode(t, err, 2018)
		_, err = in.client().RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "passw0rd!", nil, forged)
		wantCode(t, err, 2018)
		if n := users(); n != 0 {
			t.Fatalf("%d users created by refused registrations", n)
		}

		// The editable field alone is the user's to set.
		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, "mallory@example.com", "passw0rd!", nil,
			&client.RegisterOptions{ForceLogin: true, CustomData: map[string]any{"city": "Lyon"}}))
		if len(u.CustomData) != 1 || u.CustomData["city"] != "Lyon" {
			t.Fatalf("values of the registration: %v", u.CustomData)
		}
		// The administrator sets any field.
		a := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Email: "staff@example.com", Password: "passw0rd!", CustomData: map[string]any{"role": "admin"}}))
		if a.CustomData["role"] != "admin" {
			t.Fatalf("the administrator's value: %v", a.CustomData)
		}
	})
}
