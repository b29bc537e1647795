package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// newField defines a field of the pool.
func newField(t *testing.T, s userpool.Store, poolID, key string, dt userpool.DataType) *userpool.Field {
	t.Helper()
	f := &userpool.Field{PoolID: poolID, Key: key, DataType: dt, Label: "Label " + key, Description: "about " + key, CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateField "+key, s.CreateField(ctx(t), f))
	return f
}

func testFields(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	age := newField(t, s, p.ID, "age", userpool.TypeNumber)
	bio := newField(t, s, p.ID, "bio", userpool.TypeString)
	// The user-editable flag is stored and read back as given.
	nick := &userpool.Field{PoolID: p.ID, Key: "nick", DataType: userpool.TypeString, Label: "Nick", UserEditable: true, CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateField user-editable", s.CreateField(ctx(t), nick))
	newField(t, s, other.ID, "age", userpool.TypeString) // same key, other pool

	got, err := s.GetField(ctx(t), p.ID, "age")
	checkNoErr(t, "GetField", err)
	checkEqual(t, "field", age, got)
	_, err = s.GetField(ctx(t), p.ID, "missing")
	checkErr(t, "GetField missing", err, userpool.ErrFieldNotFound)
	_, err = s.GetField(ctx(t), "p3", "age")
	checkErr(t, "GetField other pool", err, userpool.ErrFieldNotFound)

	dup := &userpool.Field{PoolID: p.ID, Key: "age", DataType: userpool.TypeString, Label: "dup", CreatedAt: t0}
	checkErr(t, "CreateField duplicate", s.CreateField(ctx(t), dup), userpool.ErrFieldExists)
	got, _ = s.GetField(ctx(t), p.ID, "age")
	checkEqual(t, "field after refused duplicate", age, got)
	checkErr(t, "CreateField unknown pool", s.CreateField(ctx(t), &userpool.Field{PoolID: "nope", Key: "x", DataType: userpool.TypeString, CreatedAt: t0}), userpool.ErrPoolNotFound)

	list, err := s.ListFields(ctx(t), p.ID)
	checkNoErr(t, "ListFields", err)
	checkEqual(t, "ListFields", []*userpool.Field{age, bio, nick}, list)
	if got, _ := s.GetField(ctx(t), p.ID, "nick"); got == nil || !got.UserEditable {
		t.Fatalf("user-editable field read back as %+v", got)
	}
	list, err = s.ListFields(ctx(t), "p3")
	checkNoErr(t, "ListFields empty pool", err)
	if len(list) != 0 {
		t.Fatalf("ListFields of a pool without fields: %d", len(list))
	}

	// Label, description and (without values) type can change.
	up, err := s.UpdateField(ctx(t), p.ID, "bio", func(f *userpool.Field) error {
		f.Label, f.Description, f.DataType = "Biography", "", userpool.TypeObject
		f.UpdatedAt = t0.Add(time.Minute)
		return nil
	})
	checkNoErr(t, "UpdateField", err)
	got, _ = s.GetField(ctx(t), p.ID, "bio")
	checkEqual(t, "field after update", up, got)
	if got.Label != "Biography" || got.DataType != userpool.TypeObject || got.Description != "" || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("update not stored: %+v", got)
	}
	// The flag changes both ways through UpdateField.
	for _, want := range []bool{true, false} {
		_, err = s.UpdateField(ctx(t), p.ID, "nick", func(f *userpool.Field) error { f.UserEditable = !want; return nil })
		checkNoErr(t, "UpdateField user-editable", err)
		if got, _ := s.GetField(ctx(t), p.ID, "nick"); got.UserEditable != !want {
			t.Fatalf("UserEditable after update to %v: %v", want, got.UserEditable)
		}
	}
	errBoom := errors.New("boom")
	_, err = s.UpdateField(ctx(t), p.ID, "bio", func(f *userpool.Field) error { f.Label = "no"; return errBoom })
	if err != errBoom {
		t.Fatalf("UpdateField fn error: got %v", err)
	}
	got2, _ := s.GetField(ctx(t), p.ID, "bio")
	checkEqual(t, "field after aborted update", got, got2)
	_, err = s.UpdateField(ctx(t), p.ID, "missing", func(*userpool.Field) error { return nil })
	checkErr(t, "UpdateField missing", err, userpool.ErrFieldNotFound)

	// With a value stored, the type is frozen; the label is not.
	u := newUser(t, s, p.ID, "u1", "f@example.com", "", "")
	checkNoErr(t, "SetUserValues", s.SetUserValues(ctx(t), p.ID, u.ID, []*userpool.UserValue{{Key: "age", DataType: userpool.TypeNumber, Value: "15", UpdatedAt: t0}}))
	_, err = s.UpdateField(ctx(t), p.ID, "age", func(f *userpool.Field) error { f.DataType = userpool.TypeString; f.Label = "changed"; return nil })
	checkErr(t, "UpdateField type with values", err, userpool.ErrFieldInUse)
	got, _ = s.GetField(ctx(t), p.ID, "age")
	checkEqual(t, "field after refused type change", age, got)
	_, err = s.UpdateField(ctx(t), p.ID, "age", func(f *userpool.Field) error { f.Label = "Age in years"; return nil })
	checkNoErr(t, "UpdateField label with values", err)

	// Deleting the definition deletes its values, and only its own.
	checkNoErr(t, "SetUserValues bio", s.SetUserValues(ctx(t), p.ID, u.ID, []*userpool.UserValue{{Key: "bio", DataType: userpool.TypeObject, Value: `{"a":1}`, UpdatedAt: t0}}))
	checkNoErr(t, "DeleteField", s.DeleteField(ctx(t), p.ID, "age"))
	checkErr(t, "DeleteField again", s.DeleteField(ctx(t), p.ID, "age"), userpool.ErrFieldNotFound)
	_, err = s.GetField(ctx(t), p.ID, "age")
	checkErr(t, "GetField deleted", err, userpool.ErrFieldNotFound)
	vals, err := s.ListUserValues(ctx(t), p.ID, u.ID)
	checkNoErr(t, "ListUserValues", err)
	if len(vals) != 1 || vals[0].Key != "bio" {
		t.Fatalf("values after DeleteField: %+v", vals)
	}
	if _, err := s.GetField(ctx(t), other.ID, "age"); err != nil {
		t.Fatalf("DeleteField removed the other pool's field: %v", err)
	}
	// A field defined again under the deleted key starts without values.
	newField(t, s, p.ID, "age", userpool.TypeBoolean)
	vals, _ = s.ListUserValues(ctx(t), p.ID, u.ID)
	if len(vals) != 1 {
		t.Fatalf("re-created field has old values: %+v", vals)
	}
}

func testUserValues(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newField(t, s, p.ID, "age", userpool.TypeNumber)
	newField(t, s, p.ID, "admin", userpool.TypeBoolean)
	newField(t, s, p.ID, "zone", userpool.TypeString)
	u := newUser(t, s, p.ID, "u1", "v@example.com", "", "")
	other := newUser(t, s, p.ID, "u2", "w@example.com", "", "")

	vals, err := s.ListUserValues(ctx(t), p.ID, u.ID)
	checkNoErr(t, "ListUserValues empty", err)
	if len(vals) != 0 {
		t.Fatalf("new user has values: %+v", vals)
	}
	checkNoErr(t, "SetUserValues empty batch", s.SetUserValues(ctx(t), p.ID, u.ID, nil))
	checkNoErr(t, "SetUserValues", s.SetUserValues(ctx(t), p.ID, u.ID, []*userpool.UserValue{
		{Key: "zone", DataType: userpool.TypeString, Value: `"UTC"`, UpdatedAt: t0},
		{Key: "age", DataType: userpool.TypeNumber, Value: "15", UpdatedAt: t0},
	}))
	checkNoErr(t, "SetUserValues other user", s.SetUserValues(ctx(t), p.ID, other.ID, []*userpool.UserValue{
		{Key: "age", DataType: userpool.TypeNumber, Value: "99", UpdatedAt: t0},
	}))
	want := []*userpool.UserValue{
		{PoolID: p.ID, UserID: u.ID, Key: "age", DataType: userpool.TypeNumber, Label: "Label age", Value: "15", UpdatedAt: t0},
		{PoolID: p.ID, UserID: u.ID, Key: "zone", DataType: userpool.TypeString, Label: "Label zone", Value: `"UTC"`, UpdatedAt: t0},
	}
	vals, err = s.ListUserValues(ctx(t), p.ID, u.ID)
	checkNoErr(t, "ListUserValues", err)
	checkEqual(t, "values", want, vals)

	// Upsert replaces.
	checkNoErr(t, "SetUserValues replace", s.SetUserValues(ctx(t), p.ID, u.ID, []*userpool.UserValue{
		{Key: "age", DataType: userpool.TypeNumber, Value: "16", UpdatedAt: t0.Add(time.Minute)},
	}))
	want[0].Value, want[0].UpdatedAt = "16", t0.Add(time.Minute)
	vals, _ = s.ListUserValues(ctx(t), p.ID, u.ID)
	checkEqual(t, "values after replace", want, vals)

	// A failing batch writes nothing.
	failing := []struct {
		name string
		user string
		vals []*userpool.UserValue
		want error
	}{
		{"unknown key", u.ID, []*userpool.UserValue{
			{Key: "admin", DataType: userpool.TypeBoolean, Value: "true"},
			{Key: "nope", DataType: userpool.TypeString, Value: `"x"`},
		}, userpool.ErrFieldNotFound},
		{"type changed", u.ID, []*userpool.UserValue{
			{Key: "admin", DataType: userpool.TypeBoolean, Value: "true"},
			{Key: "zone", DataType: userpool.TypeNumber, Value: "1"},
		}, userpool.ErrFieldTypeChanged},
		{"missing user", "nobody", []*userpool.UserValue{{Key: "age", DataType: userpool.TypeNumber, Value: "1"}}, userpool.ErrUserNotFound},
	}
	for _, tc := range failing {
		checkErr(t, "SetUserValues "+tc.name, s.SetUserValues(ctx(t), p.ID, tc.user, tc.vals), tc.want)
		vals, _ = s.ListUserValues(ctx(t), p.ID, u.ID)
		checkEqual(t, "values after failed batch ("+tc.name+")", want, vals)
	}

	checkNoErr(t, "DeleteUserValue", s.DeleteUserValue(ctx(t), p.ID, u.ID, "zone"))
	checkNoErr(t, "DeleteUserValue missing", s.DeleteUserValue(ctx(t), p.ID, u.ID, "zone"))
	vals, _ = s.ListUserValues(ctx(t), p.ID, u.ID)
	checkEqual(t, "values after delete", want[:1], vals)

	// Deleting the user deletes its values; the other user keeps theirs.
	checkNoErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, u.ID))
	vals, _ = s.ListUserValues(ctx(t), p.ID, u.ID)
	if len(vals) != 0 {
		t.Fatalf("deleted user still has values: %+v", vals)
	}
	vals, _ = s.ListUserValues(ctx(t), p.ID, other.ID)
	if len(vals) != 1 || vals[0].Value != "99" {
		t.Fatalf("other user's values: %+v", vals)
	}
	// The type of a field whose only values went with their user is free again.
	checkNoErr(t, "DeleteUser other", s.DeleteUser(ctx(t), p.ID, other.ID))
	_, err = s.UpdateField(ctx(t), p.ID, "age", func(f *userpool.Field) error { f.DataType = userpool.TypeString; return nil })
	checkNoErr(t, "UpdateField type after values gone", err)
}

// testRaceValueVsTypeChange races value writes checked against the old
// type with a type change: the change and the values must never both win.
func testRaceValueVsTypeChange(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newField(t, s, p.ID, "score", userpool.TypeNumber)
	const n = 12
	for i := range n {
		newUser(t, s, p.ID, fmt.Sprintf("u%d", i), fmt.Sprintf("r%d@example.com", i), "", "")
	}
	var changeErr error
	errs := together(n+1, func(i int) error {
		if i == n {
			_, changeErr = s.UpdateField(ctx(t), p.ID, "score", func(f *userpool.Field) error { f.DataType = userpool.TypeString; return nil })
			return nil
		}
		return s.SetUserValues(ctx(t), p.ID, fmt.Sprintf("u%d", i), []*userpool.UserValue{{Key: "score", DataType: userpool.TypeNumber, Value: "1"}})
	})
	stored := 0
	for i := range n {
		vals, err := s.ListUserValues(ctx(t), p.ID, fmt.Sprintf("u%d", i))
		checkNoErr(t, "ListUserValues", err)
		stored += len(vals)
		if errs[i] != nil {
			checkErr(t, "SetUserValues", errs[i], userpool.ErrFieldTypeChanged)
		}
	}
	f, err := s.GetField(ctx(t), p.ID, "score")
	checkNoErr(t, "GetField", err)
	switch {
	case changeErr == nil:
		if f.DataType != userpool.TypeString || stored != 0 {
			t.Fatalf("type changed to %s with %d NUMBER values stored", f.DataType, stored)
		}
	default:
		checkErr(t, "UpdateField", changeErr, userpool.ErrFieldInUse)
		if f.DataType != userpool.TypeNumber || stored == 0 {
			t.Fatalf("type change refused, yet type %s and %d values", f.DataType, stored)
		}
	}
}

// testValueChangeRecords: a ValueChange rides as a record with a user
// change (or alone through WriteRecords): values set and removed in the
// change's transaction; a value that cannot be stored aborts the change
// and every other record, and a failing change stores none of its values.
func testValueChangeRecords(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newSubscription(t, s, p.ID, "all", true, "*")
	newField(t, s, p.ID, "plan", userpool.TypeString)
	newField(t, s, p.ID, "seats", userpool.TypeNumber)
	u := newUser(t, s, p.ID, "u1", "vc@example.com", "", "")
	values := func() map[string]string {
		vals, err := s.ListUserValues(ctx(t), p.ID, u.ID)
		checkNoErr(t, "ListUserValues", err)
		m := map[string]string{}
		for _, v := range vals {
			m[v.Key] = v.Value
		}
		return m
	}
	deliveries := func() int {
		ds, err := s.ListDeliveries(ctx(t), userpool.DeliveryFilter{PoolID: p.ID})
		checkNoErr(t, "ListDeliveries", err)
		return len(ds)
	}

	// With a user change: the profile, the values and the event together.
	_, err := s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.Nickname = "vc"; return nil },
		&userpool.ValueChange{PoolID: p.ID, UserID: u.ID, Set: []*userpool.UserValue{
			{Key: "plan", DataType: userpool.TypeString, Value: `"free"`, UpdatedAt: t0},
			{Key: "seats", DataType: userpool.TypeNumber, Value: "3", UpdatedAt: t0},
		}}, event(p.ID, "user.udv_changed"))
	checkNoErr(t, "UpdateUser with a ValueChange", err)
	if got := values(); got["plan"] != `"free"` || got["seats"] != "3" || len(got) != 2 {
		t.Fatalf("values after UpdateUser: %v", got)
	}
	if n := deliveries(); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}

	// Alone: a set and a removal (of a value that exists and one that
	// does not) in one transaction.
	checkNoErr(t, "WriteRecords ValueChange", s.WriteRecords(ctx(t), &userpool.ValueChange{PoolID: p.ID, UserID: u.ID,
		Set:    []*userpool.UserValue{{Key: "plan", DataType: userpool.TypeString, Value: `"pro"`, UpdatedAt: t0}},
		Remove: []string{"seats", "never-set"},
	}, event(p.ID, "user.udv_changed")))
	if got := values(); got["plan"] != `"pro"` || len(got) != 1 {
		t.Fatalf("values after WriteRecords: %v", got)
	}

	// A value whose type changed aborts the user change and the event; a
	// removal in the same change is not applied either.
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(x *userpool.User) error { x.Nickname = "changed"; return nil },
		&userpool.ValueChange{PoolID: p.ID, UserID: u.ID, Remove: []string{"plan"},
			Set: []*userpool.UserValue{{Key: "seats", DataType: userpool.TypeString, Value: `"many"`}}},
		event(p.ID, "user.udv_changed"))
	checkErr(t, "UpdateUser with a mistyped value", err, userpool.ErrFieldTypeChanged)
	if got, _ := s.GetUser(ctx(t), p.ID, u.ID); got.Nickname != "vc" {
		t.Errorf("the user change was stored although its values were not: %q", got.Nickname)
	}
	checkErr(t, "WriteRecords unknown key", s.WriteRecords(ctx(t), event(p.ID, "user.udv_changed"),
		&userpool.ValueChange{PoolID: p.ID, UserID: u.ID, Set: []*userpool.UserValue{{Key: "nope", DataType: userpool.TypeString, Value: `"x"`}}}),
		userpool.ErrFieldNotFound)
	checkErr(t, "WriteRecords missing user", s.WriteRecords(ctx(t),
		&userpool.ValueChange{PoolID: p.ID, UserID: "nobody", Set: []*userpool.UserValue{{Key: "plan", DataType: userpool.TypeString, Value: `"x"`}}}),
		userpool.ErrUserNotFound)
	if got := values(); got["plan"] != `"pro"` || len(got) != 1 {
		t.Fatalf("values after failed changes: %v", got)
	}
	if n := deliveries(); n != 2 {
		t.Fatalf("failed changes stored events: %d deliveries, want 2", n)
	}
	// A failing user change stores none of its values.
	_, err = s.UpdateUser(ctx(t), p.ID, u.ID, func(*userpool.User) error { return userpool.ErrNotFound },
		&userpool.ValueChange{PoolID: p.ID, UserID: u.ID, Remove: []string{"plan"}})
	checkErr(t, "UpdateUser fn error", err, userpool.ErrNotFound)
	if got := values(); got["plan"] != `"pro"` {
		t.Fatalf("a failed UpdateUser removed a value: %v", got)
	}

	// With a new user (a registration with its values): the user, its
	// values and its event together, or none of them.
	nu := &userpool.User{ID: "u2", PoolID: p.ID, Email: "new@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkErr(t, "CreateUser with a mistyped value", s.CreateUser(ctx(t), nu, event(p.ID, "user.registered"),
		&userpool.ValueChange{PoolID: p.ID, UserID: nu.ID, Set: []*userpool.UserValue{{Key: "seats", DataType: userpool.TypeString, Value: `"many"`}}}),
		userpool.ErrFieldTypeChanged)
	_, err = s.GetUser(ctx(t), p.ID, nu.ID)
	checkErr(t, "user of the aborted CreateUser", err, userpool.ErrUserNotFound)
	checkNoErr(t, "CreateUser with values", s.CreateUser(ctx(t), nu, event(p.ID, "user.registered"),
		&userpool.ValueChange{PoolID: p.ID, UserID: nu.ID, Set: []*userpool.UserValue{{Key: "seats", DataType: userpool.TypeNumber, Value: "5", UpdatedAt: t0}}}))
	if vals, _ := s.ListUserValues(ctx(t), p.ID, nu.ID); len(vals) != 1 || vals[0].Value != "5" {
		t.Fatalf("values of the new user: %+v", vals)
	}
	if n := deliveries(); n != 3 {
		t.Fatalf("%d deliveries, want 3 (the aborted registration's event is not among them)", n)
	}
}

// testCountFieldValues: the count is of one key in one pool, follows
// sets and removals, and is 0 for an undefined key and after DeleteField.
func testCountFieldValues(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	q := newPool(t, s, "p2")
	newField(t, s, p.ID, "age", userpool.TypeNumber)
	newField(t, s, p.ID, "zone", userpool.TypeString)
	newField(t, s, q.ID, "age", userpool.TypeNumber)
	count := func(pool, key string, want int64) {
		t.Helper()
		n, err := s.CountFieldValues(ctx(t), pool, key)
		checkNoErr(t, "CountFieldValues", err)
		if n != want {
			t.Fatalf("CountFieldValues(%s, %s) = %d, want %d", pool, key, n, want)
		}
	}
	count(p.ID, "age", 0)
	for i, id := range []string{"u1", "u2", "u3"} {
		newUser(t, s, p.ID, id, id+"@example.com", "", "")
		checkNoErr(t, "SetUserValues", s.SetUserValues(ctx(t), p.ID, id, []*userpool.UserValue{
			{Key: "age", DataType: userpool.TypeNumber, Value: fmt.Sprint(20 + i), UpdatedAt: t0},
		}))
	}
	checkNoErr(t, "SetUserValues zone", s.SetUserValues(ctx(t), p.ID, "u1", []*userpool.UserValue{
		{Key: "zone", DataType: userpool.TypeString, Value: `"UTC"`, UpdatedAt: t0},
	}))
	newUser(t, s, q.ID, "v1", "v1@example.com", "", "")
	checkNoErr(t, "SetUserValues other pool", s.SetUserValues(ctx(t), q.ID, "v1", []*userpool.UserValue{
		{Key: "age", DataType: userpool.TypeNumber, Value: "5", UpdatedAt: t0},
	}))
	count(p.ID, "age", 3)
	count(p.ID, "zone", 1)
	count(q.ID, "age", 1)
	count(p.ID, "nosuchkey", 0)
	checkNoErr(t, "DeleteUserValue", s.DeleteUserValue(ctx(t), p.ID, "u2", "age"))
	count(p.ID, "age", 2)
	checkNoErr(t, "DeleteField", s.DeleteField(ctx(t), p.ID, "age"))
	count(p.ID, "age", 0)
	count(q.ID, "age", 1)
}
