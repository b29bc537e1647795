package storetest

import (
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// testDeleteUserOIDC: deleting a user deletes the OpenID provider's rows
// of that user (consents, grants, browser sessions), which have no
// foreign key to users, and leaves another user's alone.
func testDeleteUserOIDC(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "u1@example.com", "", "")
	newUser(t, s, p.ID, "u2", "u2@example.com", "", "")
	for _, u := range []string{"u1", "u2"} {
		checkNoErr(t, "PutOIDCConsent "+u, s.PutOIDCConsent(ctx(t), &userpool.OIDCConsent{PoolID: p.ID, UserID: u, ClientID: "c1", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}))
		checkNoErr(t, "CreateOIDCGrant "+u, s.CreateOIDCGrant(ctx(t), &userpool.OIDCGrant{ID: "g-" + u, PoolID: p.ID, ClientID: "c1", UserID: u, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		checkNoErr(t, "CreateOIDCBrowserSession "+u, s.CreateOIDCBrowserSession(ctx(t), &userpool.OIDCBrowserSession{SessionID: "s-" + u, PoolID: p.ID, UserID: u, AMR: []string{"pwd"}, AuthTime: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	checkNoErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, "u1"))
	checkErr(t, "DeleteUser again", s.DeleteUser(ctx(t), p.ID, "u1"), userpool.ErrUserNotFound)

	if list, err := s.ListOIDCConsents(ctx(t), p.ID, "u1"); err != nil || len(list) != 0 {
		t.Fatalf("consents of the deleted user: %v %v", list, err)
	}
	_, err := s.GetOIDCGrant(ctx(t), p.ID, "g-u1")
	checkErr(t, "grant of the deleted user", err, userpool.ErrNotFound)
	_, err = s.GetOIDCBrowserSession(ctx(t), "s-u1")
	checkErr(t, "browser session of the deleted user", err, userpool.ErrNotFound)

	if list, err := s.ListOIDCConsents(ctx(t), p.ID, "u2"); err != nil || len(list) != 1 {
		t.Fatalf("consents of the other user: %v %v", list, err)
	}
	_, err = s.GetOIDCGrant(ctx(t), p.ID, "g-u2")
	checkNoErr(t, "grant of the other user", err)
	_, err = s.GetOIDCBrowserSession(ctx(t), "s-u2")
	checkNoErr(t, "browser session of the other user", err)
}
