package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testListUsers(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	// Created a millisecond apart, so newest first is u4 ... u0.
	specs := []struct{ email, username, phone string }{
		{"ann@example.com", "ann", "+15550001"},
		{"bob@example.com", "", "+15550002"},
		{"", "Carla_x", ""},
		{"dan%@example.com", "dan", ""},
		{"eve@other.org", "", "+44770000"},
	}
	for i, sp := range specs {
		u := &userpool.User{
			ID: fmt.Sprintf("u%d", i), PoolID: p.ID, Email: sp.email, Phone: sp.phone,
			Profile:   userpool.Profile{Username: sp.username},
			CreatedAt: t0.Add(time.Duration(i) * time.Millisecond),
		}
		u.UpdatedAt = u.CreatedAt
		checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), u))
	}
	newUser(t, s, other.ID, "o1", "ann@example.com", "ann", "")

	ids := func(us []*userpool.User) string {
		var b bytes.Buffer
		for _, u := range us {
			b.WriteString(u.ID + " ")
		}
		return b.String()
	}
	tests := []struct {
		name  string
		q     userpool.UserQuery
		want  string
		total int
	}{
		{"all", userpool.UserQuery{PoolID: p.ID}, "u4 u3 u2 u1 u0 ", 5},
		{"first page", userpool.UserQuery{PoolID: p.ID, Limit: 2}, "u4 u3 ", 5},
		{"second page", userpool.UserQuery{PoolID: p.ID, Offset: 2, Limit: 2}, "u2 u1 ", 5},
		{"past the end", userpool.UserQuery{PoolID: p.ID, Offset: 10}, "", 5},
		{"email substring", userpool.UserQuery{PoolID: p.ID, Search: "@example.COM"}, "u3 u1 u0 ", 3},
		{"username any case", userpool.UserQuery{PoolID: p.ID, Search: "carla"}, "u2 ", 1},
		{"phone", userpool.UserQuery{PoolID: p.ID, Search: "+4477"}, "u4 ", 1},
		{"percent is literal", userpool.UserQuery{PoolID: p.ID, Search: "%"}, "u3 ", 1},
		{"underscore is literal", userpool.UserQuery{PoolID: p.ID, Search: "a_x"}, "u2 ", 1},
		{"no match", userpool.UserQuery{PoolID: p.ID, Search: "zzz"}, "", 0},
		{"other pool", userpool.UserQuery{PoolID: other.ID, Search: "ann"}, "o1 ", 1},
	}
	for _, tc := range tests {
		got, total, err := s.ListUsers(ctx(t), tc.q)
		checkNoErr(t, "ListUsers "+tc.name, err)
		if ids(got) != tc.want || total != tc.total {
			t.Errorf("ListUsers %s: %q total %d, want %q total %d", tc.name, ids(got), total, tc.want, tc.total)
		}
	}
	got, _, _ := s.ListUsers(ctx(t), userpool.UserQuery{PoolID: p.ID, Search: "ann"})
	want, _ := s.GetUser(ctx(t), p.ID, "u0")
	if len(got) != 1 {
		t.Fatalf("ListUsers ann: %d users", len(got))
	}
	checkEqual(t, "listed user", want, got[0])
	// The limit is capped.
	for i := range 105 {
		newUser(t, s, other.ID, fmt.Sprintf("bulk%d", i), "", "", "")
	}
	got, total, err := s.ListUsers(ctx(t), userpool.UserQuery{PoolID: other.ID, Limit: 1000})
	checkNoErr(t, "ListUsers capped", err)
	if len(got) != 100 || total != 106 {
		t.Fatalf("ListUsers with limit 1000: %d users of %d, want 100 of 106", len(got), total)
	}
}

func testListUserSessions(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "s@example.com", "", "")
	other := newUser(t, s, p.ID, "u2", "t@example.com", "", "")
	older := newSession(t, s, u, "older", t0.Add(time.Hour))
	newer := &userpool.Session{ID: "newer", PoolID: p.ID, UserID: u.ID, CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(2 * time.Hour), ClientIP: "192.0.2.9"}
	checkNoErr(t, "CreateSession", s.CreateSession(ctx(t), newer))
	newSession(t, s, u, "revoked", t0.Add(time.Hour))
	checkNoErr(t, "RevokeSession", s.RevokeSession(ctx(t), "revoked", t0))
	newSession(t, s, u, "expired", t0.Add(time.Minute))
	newSession(t, s, other, "others", t0.Add(time.Hour))

	got, err := s.ListUserSessions(ctx(t), p.ID, u.ID, t0.Add(10*time.Minute))
	checkNoErr(t, "ListUserSessions", err)
	checkEqual(t, "alive sessions", []*userpool.Session{newer, older}, got)
	got, err = s.ListUserSessions(ctx(t), p.ID, "nobody", t0)
	checkNoErr(t, "ListUserSessions unknown user", err)
	if len(got) != 0 {
		t.Fatalf("sessions of an unknown user: %+v", got)
	}
}

func testAdminKeys(t *testing.T, s userpool.Store) {
	keys, err := s.AdminKeys(ctx(t))
	checkNoErr(t, "AdminKeys", err)
	if len(keys) != 0 {
		t.Fatalf("new store has %d admin keys", len(keys))
	}
	k1 := &userpool.AdminKey{ID: "a1", Hash: bytes.Repeat([]byte{1}, 32), CreatedAt: t0}
	k2 := &userpool.AdminKey{ID: "a2", Hash: bytes.Repeat([]byte{2}, 32), CreatedAt: t0.Add(time.Millisecond)}
	keys, err = s.AddAdminKeyIfNone(ctx(t), k1)
	checkNoErr(t, "AddAdminKeyIfNone k1", err)
	checkEqual(t, "keys after k1", []*userpool.AdminKey{k1}, keys)
	keys, err = s.AddAdminKeyIfNone(ctx(t), k2)
	checkNoErr(t, "AddAdminKeyIfNone k2", err)
	checkEqual(t, "keys after offering k2", []*userpool.AdminKey{k1}, keys)
	keys, err = s.AdminKeys(ctx(t))
	checkNoErr(t, "AdminKeys", err)
	checkEqual(t, "stored keys", []*userpool.AdminKey{k1}, keys)

	// Replacing leaves only the new key, with its audit event.
	p := newPool(t, s, "keys")
	k3 := &userpool.AdminKey{ID: "a3", Hash: bytes.Repeat([]byte{3}, 32), CreatedAt: t0.Add(2 * time.Millisecond)}
	ev := &userpool.AuditEvent{PoolID: p.ID, Event: "admin.key.reset", CreatedAt: t0}
	checkNoErr(t, "ReplaceAdminKeys", s.ReplaceAdminKeys(ctx(t), k3, ev))
	keys, err = s.AdminKeys(ctx(t))
	checkNoErr(t, "AdminKeys", err)
	checkEqual(t, "keys after replacing", []*userpool.AdminKey{k3}, keys)
	audit, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID})
	checkNoErr(t, "ListAudit", err)
	if len(audit) != 1 || audit[0].Event != "admin.key.reset" {
		t.Fatalf("audit after replacing keys: %+v", audit)
	}
	// A failed record rolls the replacement back.
	k4 := &userpool.AdminKey{ID: "a4", Hash: bytes.Repeat([]byte{4}, 32), CreatedAt: t0}
	if err := s.ReplaceAdminKeys(ctx(t), k4, &userpool.AuditEvent{PoolID: "no-such-pool", Event: "admin.key.reset"}); err == nil {
		t.Fatal("ReplaceAdminKeys with an audit event of an unknown pool succeeded")
	}
	keys, err = s.AdminKeys(ctx(t))
	checkNoErr(t, "AdminKeys", err)
	checkEqual(t, "keys after a failed replacement", []*userpool.AdminKey{k3}, keys)
}

func testRaceAdminKey(t *testing.T, s userpool.Store) {
	const n = 8
	results := make([][]*userpool.AdminKey, n)
	errs := together(n, func(i int) error {
		var err error
		results[i], err = s.AddAdminKeyIfNone(ctx(t), &userpool.AdminKey{ID: fmt.Sprintf("k%d", i), Hash: []byte{byte(i)}, CreatedAt: t0})
		return err
	})
	for i, err := range errs {
		checkNoErr(t, "AddAdminKeyIfNone", err)
		if len(results[i]) != 1 || results[i][0].ID != results[0][0].ID {
			t.Fatalf("replica %d sees keys %+v, replica 0 %+v", i, results[i], results[0])
		}
	}
}
