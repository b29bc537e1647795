package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// testOIDCAuthRequests: a request round trips, is invisible from another
// pool and after its expiry; a code is claimed once, a second claim
// returns the request with ErrCodeUsed, an expired or unknown code
// ErrNotFound.
func testOIDCAuthRequests(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	r := &userpool.OIDCAuthRequest{ID: "r1", PoolID: p.ID, ClientID: "c1", Data: []byte(`{"a":1}`), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	checkNoErr(t, "CreateOIDCAuthRequest", s.CreateOIDCAuthRequest(ctx(t), r))
	got, err := s.GetOIDCAuthRequest(ctx(t), p.ID, "r1", t0)
	checkNoErr(t, "GetOIDCAuthRequest", err)
	checkEqual(t, "auth request round trip", r, got)
	_, err = s.GetOIDCAuthRequest(ctx(t), other.ID, "r1", t0)
	checkErr(t, "GetOIDCAuthRequest of another pool", err, userpool.ErrNotFound)
	_, err = s.GetOIDCAuthRequest(ctx(t), p.ID, "r1", t0.Add(10*time.Minute))
	checkErr(t, "GetOIDCAuthRequest expired", err, userpool.ErrNotFound)

	hash := []byte("code-hash-1")
	got, err = s.UpdateOIDCAuthRequest(ctx(t), p.ID, "r1", func(r *userpool.OIDCAuthRequest) error {
		r.Data, r.CodeHash, r.ExpiresAt = []byte(`{"a":2}`), hash, t0.Add(time.Minute)
		return nil
	})
	checkNoErr(t, "UpdateOIDCAuthRequest", err)
	if string(got.Data) != `{"a":2}` {
		t.Errorf("update: data %s", got.Data)
	}
	byCode, err := s.GetOIDCAuthRequestByCode(ctx(t), p.ID, hash)
	checkNoErr(t, "GetOIDCAuthRequestByCode", err)
	if byCode.ID != "r1" || !byCode.CodeUsedAt.IsZero() {
		t.Errorf("by code: %+v", byCode)
	}
	_, err = s.GetOIDCAuthRequestByCode(ctx(t), other.ID, hash)
	checkErr(t, "GetOIDCAuthRequestByCode of another pool", err, userpool.ErrNotFound)
	_, err = s.ClaimOIDCCode(ctx(t), other.ID, hash, t0)
	checkErr(t, "ClaimOIDCCode in another pool", err, userpool.ErrNotFound)
	_, err = s.ClaimOIDCCode(ctx(t), p.ID, []byte("nope"), t0)
	checkErr(t, "ClaimOIDCCode unknown", err, userpool.ErrNotFound)
	got, err = s.ClaimOIDCCode(ctx(t), p.ID, hash, t0.Add(time.Second))
	checkNoErr(t, "ClaimOIDCCode", err)
	if got.ID != "r1" || got.CodeUsedAt.IsZero() {
		t.Errorf("claim returned %+v", got)
	}
	_, err = s.UpdateOIDCAuthRequest(ctx(t), p.ID, "r1", func(r *userpool.OIDCAuthRequest) error { r.GrantID = "g1"; return nil })
	checkNoErr(t, "set grant id", err)
	got, err = s.ClaimOIDCCode(ctx(t), p.ID, hash, t0.Add(2*time.Second))
	checkErr(t, "ClaimOIDCCode again", err, userpool.ErrCodeUsed)
	if got == nil || got.GrantID != "g1" {
		t.Errorf("a second claim must return the request with its grant, got %+v", got)
	}

	r2 := &userpool.OIDCAuthRequest{ID: "r2", PoolID: p.ID, ClientID: "c1", Data: []byte(`{}`), CodeHash: []byte("code-hash-2"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	checkNoErr(t, "CreateOIDCAuthRequest r2", s.CreateOIDCAuthRequest(ctx(t), r2))
	_, err = s.ClaimOIDCCode(ctx(t), p.ID, []byte("code-hash-2"), t0.Add(time.Minute))
	checkErr(t, "ClaimOIDCCode expired", err, userpool.ErrNotFound)
	checkNoErr(t, "DeleteOIDCAuthRequest", s.DeleteOIDCAuthRequest(ctx(t), p.ID, "r2"))
	_, err = s.UpdateOIDCAuthRequest(ctx(t), p.ID, "r2", func(*userpool.OIDCAuthRequest) error { return nil })
	checkErr(t, "update deleted", err, userpool.ErrNotFound)
	err = s.CreateOIDCAuthRequest(ctx(t), &userpool.OIDCAuthRequest{ID: "r3", PoolID: "nopool", Data: []byte(`{}`), CreatedAt: t0, ExpiresAt: t0})
	checkErr(t, "auth request of unknown pool", err, userpool.ErrPoolNotFound)
}

// testRaceClaimCode: of many concurrent exchanges of one code exactly one
// wins; the others see ErrCodeUsed.
func testRaceClaimCode(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	hash := []byte("raced-code")
	checkNoErr(t, "create", s.CreateOIDCAuthRequest(ctx(t), &userpool.OIDCAuthRequest{ID: "r1", PoolID: p.ID, ClientID: "c", Data: []byte(`{}`),
		CodeHash: hash, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
	errs := together(8, func(int) error { _, err := s.ClaimOIDCCode(ctx(t), p.ID, hash, t0); return err })
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, userpool.ErrCodeUsed):
		default:
			t.Errorf("claim: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d claims of one code won, want 1", wins)
	}
}

// testOIDCGrants: a grant round trips; refresh advances by compare and
// swap; revocation stops advances; client revocation counts.
func testOIDCGrants(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	g := &userpool.OIDCGrant{ID: "g1", PoolID: p.ID, ClientID: "c1", UserID: "u1", SessionID: "s1", Scopes: []string{"openid", "offline_access"},
		AMR: []string{"pwd"}, AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	checkNoErr(t, "CreateOIDCGrant", s.CreateOIDCGrant(ctx(t), g))
	got, err := s.GetOIDCGrant(ctx(t), p.ID, "g1")
	checkNoErr(t, "GetOIDCGrant", err)
	checkEqual(t, "grant round trip", g, got)
	_, err = s.GetOIDCGrant(ctx(t), other.ID, "g1")
	checkErr(t, "grant of another pool", err, userpool.ErrNotFound)

	ok, err := s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 1, t0, t0.Add(2*time.Hour), nil)
	checkNoErr(t, "advance wrong seq", err)
	if ok {
		t.Error("advance from a seq that is not current succeeded")
	}
	ok, err = s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 0, t0, t0.Add(2*time.Hour), nil)
	checkNoErr(t, "advance", err)
	if !ok {
		t.Error("advance from the current seq failed")
	}
	got, _ = s.GetOIDCGrant(ctx(t), p.ID, "g1")
	if got.RefreshSeq != 1 || !got.ExpiresAt.Equal(t0.Add(2*time.Hour)) || !slices.Equal(got.Scopes, g.Scopes) {
		t.Errorf("after advance: seq %d expires %v scopes %v", got.RefreshSeq, got.ExpiresAt, got.Scopes)
	}
	// A refresh that narrows the scopes keeps the narrower set.
	ok, err = s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 1, t0, t0.Add(2*time.Hour), []string{"openid"})
	checkNoErr(t, "advance narrowing", err)
	got, _ = s.GetOIDCGrant(ctx(t), p.ID, "g1")
	if !ok || got.RefreshSeq != 2 || !slices.Equal(got.Scopes, []string{"openid"}) {
		t.Errorf("after a narrowing advance: ok %v seq %d scopes %v", ok, got.RefreshSeq, got.Scopes)
	}
	ok, _ = s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 2, t0.Add(2*time.Hour), t0.Add(3*time.Hour), nil)
	if ok {
		t.Error("advance of an expired grant succeeded")
	}
	ok, err = s.RevokeOIDCGrant(ctx(t), other.ID, "g1", t0)
	checkNoErr(t, "revoke in other pool", err)
	if ok {
		t.Error("revoked a grant of another pool")
	}
	ok, _ = s.RevokeOIDCGrant(ctx(t), p.ID, "g1", t0)
	if !ok {
		t.Error("revoke failed")
	}
	ok, _ = s.RevokeOIDCGrant(ctx(t), p.ID, "g1", t0)
	if ok {
		t.Error("revoked twice")
	}
	ok, _ = s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 2, t0, t0.Add(3*time.Hour), nil)
	if ok {
		t.Error("advance of a revoked grant succeeded")
	}
	got, _ = s.GetOIDCGrant(ctx(t), p.ID, "g1")
	if !got.RevokedAt.Equal(t0) {
		t.Errorf("revoked at %v", got.RevokedAt)
	}
	for _, id := range []string{"g2", "g3"} {
		checkNoErr(t, "create "+id, s.CreateOIDCGrant(ctx(t), &userpool.OIDCGrant{ID: id, PoolID: p.ID, ClientID: "c2", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	checkNoErr(t, "create g4", s.CreateOIDCGrant(ctx(t), &userpool.OIDCGrant{ID: "g4", PoolID: p.ID, ClientID: "c2", UserID: "u2", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	n, err := s.RevokeOIDCClientGrants(ctx(t), p.ID, "u1", "c2", t0)
	checkNoErr(t, "RevokeOIDCClientGrants", err)
	if n != 2 {
		t.Errorf("revoked %d client grants, want 2", n)
	}
	if g4, _ := s.GetOIDCGrant(ctx(t), p.ID, "g4"); !g4.RevokedAt.IsZero() {
		t.Error("another user's grant was revoked")
	}
}

// testRaceRefresh: of many concurrent refreshes of one refresh token
// exactly one advances the grant.
func testRaceRefresh(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	checkNoErr(t, "create", s.CreateOIDCGrant(ctx(t), &userpool.OIDCGrant{ID: "g1", PoolID: p.ID, ClientID: "c", UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	var wins [8]bool
	errs := together(8, func(i int) error {
		ok, err := s.AdvanceOIDCRefresh(ctx(t), p.ID, "g1", 0, t0, t0.Add(2*time.Hour), nil)
		wins[i] = ok
		return err
	})
	n := 0
	for i, err := range errs {
		checkNoErr(t, "advance", err)
		if wins[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d refreshes of one token won, want 1", n)
	}
}

// testOIDCConsents: put replaces, list is per user, delete reports missing.
func testOIDCConsents(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	c := &userpool.OIDCConsent{PoolID: p.ID, UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}
	checkNoErr(t, "PutOIDCConsent", s.PutOIDCConsent(ctx(t), c))
	c2 := &userpool.OIDCConsent{PoolID: p.ID, UserID: "u1", ClientID: "c1", Scopes: []string{"email", "openid"}, CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second)}
	checkNoErr(t, "PutOIDCConsent again", s.PutOIDCConsent(ctx(t), c2))
	got, err := s.GetOIDCConsent(ctx(t), p.ID, "u1", "c1")
	checkNoErr(t, "GetOIDCConsent", err)
	checkEqual(t, "consent replaced, created kept", &userpool.OIDCConsent{PoolID: p.ID, UserID: "u1", ClientID: "c1", Scopes: []string{"email", "openid"},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}, got)
	checkNoErr(t, "other user", s.PutOIDCConsent(ctx(t), &userpool.OIDCConsent{PoolID: p.ID, UserID: "u2", ClientID: "c1", CreatedAt: t0, UpdatedAt: t0}))
	checkNoErr(t, "second app", s.PutOIDCConsent(ctx(t), &userpool.OIDCConsent{PoolID: p.ID, UserID: "u1", ClientID: "c2", CreatedAt: t0.Add(time.Minute), UpdatedAt: t0}))
	l, err := s.ListOIDCConsents(ctx(t), p.ID, "u1")
	checkNoErr(t, "ListOIDCConsents", err)
	if len(l) != 2 || l[0].ClientID != "c1" || l[1].ClientID != "c2" || l[1].Scopes == nil {
		t.Errorf("list: %+v", l)
	}
	if l, _ := s.ListOIDCConsents(ctx(t), other.ID, "u1"); len(l) != 0 {
		t.Errorf("another pool lists %d consents", len(l))
	}
	checkErr(t, "delete in other pool", s.DeleteOIDCConsent(ctx(t), other.ID, "u1", "c1"), userpool.ErrNotFound)
	checkNoErr(t, "DeleteOIDCConsent", s.DeleteOIDCConsent(ctx(t), p.ID, "u1", "c1"))
	checkErr(t, "delete again", s.DeleteOIDCConsent(ctx(t), p.ID, "u1", "c1"), userpool.ErrNotFound)
	_, err = s.GetOIDCConsent(ctx(t), p.ID, "u1", "c1")
	checkErr(t, "get deleted", err, userpool.ErrNotFound)
}

// testOIDCBrowserSessions: round trip and missing.
func testOIDCBrowserSessions(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	b := &userpool.OIDCBrowserSession{SessionID: "s1", PoolID: p.ID, UserID: "u1", AMR: []string{"pwd"}, AuthTime: t0, ExpiresAt: t0.Add(time.Hour)}
	checkNoErr(t, "CreateOIDCBrowserSession", s.CreateOIDCBrowserSession(ctx(t), b))
	got, err := s.GetOIDCBrowserSession(ctx(t), "s1")
	checkNoErr(t, "GetOIDCBrowserSession", err)
	checkEqual(t, "browser session round trip", b, got)
	_, err = s.GetOIDCBrowserSession(ctx(t), "s2")
	checkErr(t, "missing", err, userpool.ErrNotFound)
}
