package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// testConnectors: create, get, list, update and delete round trip every
// field; another pool's connector is invisible; a used id and an unknown
// pool are refused.
func testConnectors(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	c := &userpool.Connector{
		PoolID: p.ID, ID: "corp", Type: userpool.ConnectorOAuth2, Label: "Corp 登录", Icon: "https://corp.example/icon.png", Enabled: true,
		ClientID: "cid", SealedSecret: []byte{1, 2, 3}, AuthURL: "https://corp.example/auth", TokenURL: "https://corp.example/token",
		UserInfoURL: "https://corp.example/me", Scopes: []string{"profile", "email"}, ClaimMap: map[string]string{"subject": "data.id"},
		CreatedAt: t0, UpdatedAt: t0,
	}
	checkNoErr(t, "CreateConnector", s.CreateConnector(ctx(t), c))
	got, err := s.GetConnector(ctx(t), p.ID, "corp")
	checkNoErr(t, "GetConnector", err)
	want := *c
	want.HasSecret = true
	checkEqual(t, "connector round trip", &want, got)
	checkErr(t, "CreateConnector again", s.CreateConnector(ctx(t), &userpool.Connector{PoolID: p.ID, ID: "corp", Type: userpool.ConnectorOIDC, CreatedAt: t0}), userpool.ErrConnectorExists)
	checkErr(t, "CreateConnector unknown pool", s.CreateConnector(ctx(t), &userpool.Connector{PoolID: "nope", ID: "x", Type: userpool.ConnectorOIDC, CreatedAt: t0}), userpool.ErrPoolNotFound)
	checkNoErr(t, "CreateConnector other pool", s.CreateConnector(ctx(t), &userpool.Connector{PoolID: other.ID, ID: "corp", Type: userpool.ConnectorOIDC, Issuer: "https://o", CreatedAt: t0}))
	_, err = s.GetConnector(ctx(t), other.ID, "missing")
	checkErr(t, "GetConnector missing", err, userpool.ErrConnectorNotFound)

	up, err := s.UpdateConnector(ctx(t), p.ID, "corp", func(c *userpool.Connector) error {
		c.Enabled, c.SealedSecret, c.Scopes, c.Label = false, nil, nil, "Corp"
		c.UpdatedAt = t0.Add(time.Second)
		return nil
	})
	checkNoErr(t, "UpdateConnector", err)
	got, err = s.GetConnector(ctx(t), p.ID, "corp")
	checkNoErr(t, "GetConnector after update", err)
	if got.Enabled || got.HasSecret || got.SealedSecret != nil || got.Label != "Corp" || len(got.Scopes) != 0 || !got.UpdatedAt.Equal(t0.Add(time.Second)) || !up.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("after update: %+v", got)
	}
	_, err = s.UpdateConnector(ctx(t), p.ID, "corp", func(c *userpool.Connector) error { c.Type = userpool.ConnectorOIDC; return nil })
	if err == nil {
		t.Error("UpdateConnector let fn change the type")
	}
	list, err := s.ListConnectors(ctx(t), p.ID)
	checkNoErr(t, "ListConnectors", err)
	if len(list) != 1 || list[0].ID != "corp" || list[0].PoolID != p.ID {
		t.Errorf("ListConnectors = %+v", list)
	}
	checkNoErr(t, "DeleteConnector", s.DeleteConnector(ctx(t), p.ID, "corp"))
	checkErr(t, "DeleteConnector again", s.DeleteConnector(ctx(t), p.ID, "corp"), userpool.ErrConnectorNotFound)
	if _, err := s.GetConnector(ctx(t), other.ID, "corp"); err != nil {
		t.Errorf("the other pool's connector went with it: %v", err)
	}
}

// testSocialStates: a state is taken once, only by its pool and kind, not
// after it expired, and purged once expired.
func testSocialStates(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	put := func(id string, kind string, exp time.Time) {
		checkNoErr(t, "PutSocialState "+id, s.PutSocialState(ctx(t), &userpool.SocialState{ID: []byte(id), PoolID: p.ID, Kind: kind, Data: []byte("sealed " + id), ExpiresAt: exp}))
	}
	put("a", userpool.StateAuthorize, t0.Add(time.Minute))
	if err := s.PutSocialState(ctx(t), &userpool.SocialState{ID: []byte("a"), PoolID: p.ID, Kind: userpool.StateAuthorize, Data: []byte("x"), ExpiresAt: t0.Add(time.Minute)}); err == nil {
		t.Error("PutSocialState stored one id twice")
	}
	_, err := s.TakeSocialState(ctx(t), "other", []byte("a"), userpool.StateAuthorize, t0)
	checkErr(t, "take from another pool", err, userpool.ErrNotFound)
	_, err = s.TakeSocialState(ctx(t), p.ID, []byte("a"), userpool.StateResult, t0)
	checkErr(t, "take as another kind", err, userpool.ErrNotFound)
	st, err := s.TakeSocialState(ctx(t), p.ID, []byte("a"), userpool.StateAuthorize, t0)
	checkNoErr(t, "TakeSocialState", err)
	if !bytes.Equal(st.Data, []byte("sealed a")) || st.Kind != userpool.StateAuthorize || !st.ExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("taken: %+v", st)
	}
	_, err = s.TakeSocialState(ctx(t), p.ID, []byte("a"), userpool.StateAuthorize, t0)
	checkErr(t, "take twice", err, userpool.ErrNotFound)
	put("b", userpool.StateLink, t0.Add(time.Minute))
	_, err = s.TakeSocialState(ctx(t), p.ID, []byte("b"), userpool.StateLink, t0.Add(time.Minute))
	checkErr(t, "take at expiry", err, userpool.ErrNotFound)
	put("c", userpool.StateResult, t0.Add(time.Minute))
	n, err := s.PurgeExpired(ctx(t), t0.Add(2*time.Minute))
	checkNoErr(t, "PurgeExpired", err)
	if n < 1 {
		t.Errorf("PurgeExpired deleted %d rows, want the expired state", n)
	}
	_, err = s.TakeSocialState(ctx(t), p.ID, []byte("c"), userpool.StateResult, t0)
	checkErr(t, "take purged", err, userpool.ErrNotFound)
}

// testIdentities: an identity rides with the user's creation, refreshes
// its data on a later link by the same user, is refused to another user
// (and that user's creation rolls back), is found, listed and deleted
// only as allow decides.
func testIdentities(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	link := func(uid, sub, data string) *userpool.IdentityLink {
		return &userpool.IdentityLink{PoolID: p.ID, UserID: uid, Identity: userpool.Identity{Provider: "corp", Subject: sub, Data: data, CreatedAt: t0}}
	}
	u := &userpool.User{ID: "u1", PoolID: p.ID, Email: "a@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "CreateUser with identity", s.CreateUser(ctx(t), u, link("u1", "s1", `{"name":"A"}`)))
	got, err := s.GetUserByIdentity(ctx(t), p.ID, "corp", "s1")
	checkNoErr(t, "GetUserByIdentity", err)
	if got.ID != "u1" {
		t.Errorf("GetUserByIdentity = %s", got.ID)
	}
	_, err = s.GetUserByIdentity(ctx(t), p.ID, "corp", "s2")
	checkErr(t, "GetUserByIdentity unknown", err, userpool.ErrUserNotFound)
	_, err = s.GetUserByIdentity(ctx(t), "other", "corp", "s1")
	checkErr(t, "GetUserByIdentity other pool", err, userpool.ErrUserNotFound)

	u2 := &userpool.User{ID: "u2", PoolID: p.ID, Email: "b@example.com", CreatedAt: t0, UpdatedAt: t0}
	checkErr(t, "CreateUser with a taken identity", s.CreateUser(ctx(t), u2, link("u2", "s1", "{}")), userpool.ErrIdentityTaken)
	if _, err := s.GetUser(ctx(t), p.ID, "u2"); !errors.Is(err, userpool.ErrUserNotFound) {
		t.Errorf("the refused creation left its user: %v", err)
	}
	_, err = s.UpdateUser(ctx(t), p.ID, "u1", func(*userpool.User) error { return nil }, link("u1", "s1", `{"name":"A2"}`), link("u1", "s3", "{}"))
	checkNoErr(t, "UpdateUser relinking", err)
	ids, err := s.ListIdentities(ctx(t), p.ID, "u1")
	checkNoErr(t, "ListIdentities", err)
	if len(ids) != 2 || ids[0].Subject != "s1" || ids[0].Data != `{"name":"A2"}` || !ids[0].CreatedAt.Equal(t0) || ids[1].Subject != "s3" {
		t.Errorf("ListIdentities = %+v", ids)
	}
	refuse := errors.New("refused")
	checkErr(t, "DeleteIdentity refused", s.DeleteIdentity(ctx(t), p.ID, "u1", "corp", "s1", func(u *userpool.User, others int) error {
		if u.ID != "u1" || others != 1 {
			t.Errorf("allow got %s, %d others", u.ID, others)
		}
		return refuse
	}), refuse)
	allow := func(*userpool.User, int) error { return nil }
	checkErr(t, "DeleteIdentity of another user", s.DeleteIdentity(ctx(t), p.ID, "u2", "corp", "s1", allow), userpool.ErrUserNotFound)
	checkErr(t, "DeleteIdentity missing", s.DeleteIdentity(ctx(t), p.ID, "u1", "corp", "s9", allow), userpool.ErrNotFound)
	checkNoErr(t, "DeleteIdentity", s.DeleteIdentity(ctx(t), p.ID, "u1", "corp", "s1", allow))
	ids, _ = s.ListIdentities(ctx(t), p.ID, "u1")
	if len(ids) != 1 {
		t.Errorf("after delete: %+v", ids)
	}
	checkNoErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, "u1"))
	ids, _ = s.ListIdentities(ctx(t), p.ID, "u1")
	if len(ids) != 0 {
		t.Errorf("identities outlived their user: %+v", ids)
	}
}

// testRaceIdentity: concurrent creations of users carrying one identity
// leave exactly one user; concurrent takes of one state give it once;
// concurrent unlinks of a user's last two identities (allow refusing
// the last) leave one.
func testRaceIdentity(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			u := &userpool.User{ID: fmt.Sprintf("u%d", i), PoolID: p.ID, CreatedAt: t0, UpdatedAt: t0}
			errs[i] = s.CreateUser(ctx(t), u, &userpool.IdentityLink{PoolID: p.ID, UserID: u.ID, Identity: userpool.Identity{Provider: "corp", Subject: "same", CreatedAt: t0}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, userpool.ErrIdentityTaken):
			t.Errorf("a losing creation failed with %v, want ErrIdentityTaken", err)
		}
	}
	users, _, err := s.ListUsers(ctx(t), userpool.UserQuery{PoolID: p.ID, Limit: 100})
	checkNoErr(t, "ListUsers", err)
	if won != 1 || len(users) != 1 {
		t.Fatalf("%d creations won, %d users exist; want 1 and 1", won, len(users))
	}

	checkNoErr(t, "PutSocialState", s.PutSocialState(ctx(t), &userpool.SocialState{ID: []byte("st"), PoolID: p.ID, Kind: userpool.StateResult, Data: []byte("x"), ExpiresAt: t0.Add(time.Minute)}))
	took := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.TakeSocialState(ctx(t), p.ID, []byte("st"), userpool.StateResult, t0)
			took[i] = err == nil
		})
	}
	wg.Wait()
	if c := countTrue(took); c != 1 {
		t.Errorf("%d concurrent takes got the state, want 1", c)
	}

	uid := users[0].ID
	_, err = s.UpdateUser(ctx(t), p.ID, uid, func(*userpool.User) error { return nil },
		&userpool.IdentityLink{PoolID: p.ID, UserID: uid, Identity: userpool.Identity{Provider: "corp", Subject: "second", CreatedAt: t0}})
	checkNoErr(t, "link a second identity", err)
	gone := make([]bool, 2)
	for i, sub := range []string{"same", "second"} {
		wg.Go(func() {
			err := s.DeleteIdentity(ctx(t), p.ID, uid, "corp", sub, func(_ *userpool.User, others int) error {
				if others == 0 {
					return errors.New("last")
				}
				return nil
			})
			gone[i] = err == nil
		})
	}
	wg.Wait()
	if c := countTrue(gone); c != 1 {
		t.Errorf("%d of two concurrent unlinks of the last two identities succeeded, want 1", c)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
