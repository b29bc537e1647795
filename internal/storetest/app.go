package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func appHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newApp(t *testing.T, s userpool.Store, poolID, id string, typ userpool.AppType, recs ...userpool.Record) *userpool.App {
	t.Helper()
	a := &userpool.App{
		ID: id, PoolID: poolID, Name: "App " + id, Type: typ,
		RedirectURIs:           []string{"https://app.example.com/callback", "https://app.example.com/cb?x=1"},
		PostLogoutRedirectURIs: []string{"https://app.example.com/"},
		Scopes:                 []string{"email", "openid", "orders:read"},
		FirstParty:             true,
		AccessTokenTTL:         time.Hour, IDTokenTTL: 30 * time.Minute, RefreshTokenTTL: 720 * time.Hour,
		CreatedAt: t0, UpdatedAt: t0,
	}
	if typ.Confidential() {
		a.SecretHash = appHash("secret-of-" + id)
	}
	if typ == userpool.AppMachine {
		a.RedirectURIs, a.PostLogoutRedirectURIs, a.Scopes = []string{}, []string{}, []string{"orders:read"}
	}
	checkNoErr(t, "CreateApp "+id, s.CreateApp(ctx(t), a, recs...))
	return a
}

// testApps: create, get, list, update and delete round trip every field;
// apps of other pools are invisible to every method; an unknown pool or
// a used id is refused and changes nothing.
func testApps(t *testing.T, s userpool.Store) {
	p, other := newPool(t, s, "p1"), newPool(t, s, "p2")
	web := newApp(t, s, p.ID, "a1", userpool.AppWeb)
	got, err := s.GetApp(ctx(t), p.ID, "a1")
	checkNoErr(t, "GetApp", err)
	checkEqual(t, "web app round trip", web, got)

	spaT := t0.Add(time.Millisecond)
	spa := &userpool.App{ID: "a2", PoolID: p.ID, Name: "单页 app", Type: userpool.AppSPA, AccessTokenTTL: time.Minute,
		IDTokenTTL: time.Minute, RefreshTokenTTL: time.Hour, CreatedAt: spaT, UpdatedAt: spaT}
	checkNoErr(t, "CreateApp spa (nil lists)", s.CreateApp(ctx(t), spa))
	got, err = s.GetApp(ctx(t), p.ID, "a2")
	checkNoErr(t, "GetApp spa", err)
	if got.SecretHash != nil || got.RedirectURIs == nil || len(got.RedirectURIs) != 0 || got.Scopes == nil || got.FirstParty || got.Name != "单页 app" {
		t.Errorf("public app with empty lists read back as %+v", got)
	}
	newApp(t, s, other.ID, "b1", userpool.AppMachine)

	list, err := s.ListApps(ctx(t), p.ID)
	checkNoErr(t, "ListApps", err)
	if len(list) != 2 || list[0].ID != "a1" || list[1].ID != "a2" {
		t.Fatalf("ListApps: %d apps", len(list))
	}
	checkEqual(t, "listed web app", web, list[0])
	if list, err := s.ListApps(ctx(t), "nope"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListApps of an unknown pool: %v %v", list, err)
	}

	// Pool isolation: b1 belongs to p2.
	_, err = s.GetApp(ctx(t), p.ID, "b1")
	checkErr(t, "GetApp other pool", err, userpool.ErrNotFound)
	_, err = s.UpdateApp(ctx(t), p.ID, "b1", func(a *userpool.App) error { a.Name = "stolen"; return nil })
	checkErr(t, "UpdateApp other pool", err, userpool.ErrNotFound)
	_, err = s.SetAppSecret(ctx(t), p.ID, "b1", appHash("mine"), t0)
	checkErr(t, "SetAppSecret other pool", err, userpool.ErrNotFound)
	checkErr(t, "DeleteApp other pool", s.DeleteApp(ctx(t), p.ID, "b1"), userpool.ErrNotFound)
	b1, err := s.GetApp(ctx(t), other.ID, "b1")
	checkNoErr(t, "GetApp b1", err)
	if b1.Name != "App b1" || !bytes.Equal(b1.SecretHash, appHash("secret-of-b1")) {
		t.Errorf("another pool's calls changed b1: %+v", b1)
	}

	// Unknown pool, used id (in this pool or another).
	bad := *web
	bad.PoolID = "nope"
	bad.ID = "a9"
	checkErr(t, "CreateApp unknown pool", s.CreateApp(ctx(t), &bad), userpool.ErrPoolNotFound)
	dup := *web
	dup.Name = "impostor"
	if err := s.CreateApp(ctx(t), &dup); err == nil {
		t.Error("CreateApp with a used id succeeded")
	}
	dup.PoolID = other.ID
	if err := s.CreateApp(ctx(t), &dup); err == nil {
		t.Error("CreateApp with an id used in another pool succeeded")
	}
	got, _ = s.GetApp(ctx(t), p.ID, "a1")
	checkEqual(t, "web app after duplicate creates", web, got)

	// Update: every field but the identity and the type.
	later := t0.Add(time.Hour)
	up, err := s.UpdateApp(ctx(t), p.ID, "a1", func(a *userpool.App) error {
		a.Name = "Renamed"
		a.RedirectURIs = []string{"https://new.example.com/cb"}
		a.PostLogoutRedirectURIs = []string{}
		a.Scopes = []string{"openid"}
		a.FirstParty = false
		a.AccessTokenTTL, a.IDTokenTTL, a.RefreshTokenTTL = 2*time.Minute, 3*time.Minute, 2*time.Hour
		a.UpdatedAt = later
		return nil
	})
	checkNoErr(t, "UpdateApp", err)
	got, _ = s.GetApp(ctx(t), p.ID, "a1")
	checkEqual(t, "updated app", up, got)
	if got.Name != "Renamed" || got.FirstParty || len(got.Scopes) != 1 || got.IDTokenTTL != 3*time.Minute ||
		!got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(t0) || !bytes.Equal(got.SecretHash, web.SecretHash) {
		t.Errorf("updated app: %+v", got)
	}
	// fn's error aborts; a changed type or id is refused.
	sentinel := errors.New("no")
	_, err = s.UpdateApp(ctx(t), p.ID, "a1", func(a *userpool.App) error { a.Name = "aborted"; return sentinel })
	if !errors.Is(err, sentinel) {
		t.Errorf("UpdateApp fn error: %v", err)
	}
	for name, change := range map[string]func(*userpool.App){
		"type": func(a *userpool.App) { a.Type = userpool.AppSPA },
		"id":   func(a *userpool.App) { a.ID = "a2" },
		"pool": func(a *userpool.App) { a.PoolID = other.ID },
	} {
		if _, err := s.UpdateApp(ctx(t), p.ID, "a1", func(a *userpool.App) error { change(a); a.Name = "changed " + name; return nil }); err == nil {
			t.Errorf("UpdateApp changing the %s succeeded", name)
		}
	}
	got, _ = s.GetApp(ctx(t), p.ID, "a1")
	checkEqual(t, "app after refused updates", up, got)
	_, err = s.UpdateApp(ctx(t), p.ID, "missing", func(*userpool.App) error { return nil })
	checkErr(t, "UpdateApp missing", err, userpool.ErrNotFound)

	// Delete.
	checkNoErr(t, "DeleteApp", s.DeleteApp(ctx(t), p.ID, "a2"))
	_, err = s.GetApp(ctx(t), p.ID, "a2")
	checkErr(t, "GetApp deleted", err, userpool.ErrNotFound)
	checkErr(t, "DeleteApp again", s.DeleteApp(ctx(t), p.ID, "a2"), userpool.ErrNotFound)
	if list, _ := s.ListApps(ctx(t), p.ID); len(list) != 1 {
		t.Errorf("%d apps after delete", len(list))
	}
	// A deleted app's id is free again (nothing refers to it).
	checkNoErr(t, "CreateApp with a deleted app's id", s.CreateApp(ctx(t), &userpool.App{ID: "a2", PoolID: other.ID, Name: "n", Type: userpool.AppNative,
		AccessTokenTTL: time.Minute, IDTokenTTL: time.Minute, RefreshTokenTTL: time.Hour}))
}

// testAppSecret: SetAppSecret replaces the hash in one write; the old
// hash is gone the moment it returns; concurrent rotations leave exactly
// one of their hashes; records ride with the change and only with it.
func testAppSecret(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	audit := func(name string) *userpool.AuditEvent {
		return &userpool.AuditEvent{PoolID: p.ID, Event: name, Detail: map[string]string{"appId": "a1"}, CreatedAt: t0}
	}
	a := newApp(t, s, p.ID, "a1", userpool.AppWeb, audit("app.create"))
	later := t0.Add(time.Minute)
	got, err := s.SetAppSecret(ctx(t), p.ID, "a1", appHash("second"), later, audit("app.rotate"))
	checkNoErr(t, "SetAppSecret", err)
	if !bytes.Equal(got.SecretHash, appHash("second")) || !got.UpdatedAt.Equal(later) || got.Name != a.Name {
		t.Fatalf("SetAppSecret answered %+v", got)
	}
	read, _ := s.GetApp(ctx(t), p.ID, "a1")
	if bytes.Equal(read.SecretHash, a.SecretHash) || !bytes.Equal(read.SecretHash, appHash("second")) {
		t.Fatal("the old secret hash is still stored")
	}
	_, err = s.SetAppSecret(ctx(t), p.ID, "missing", appHash("x"), later, audit("app.rotate.missing"))
	checkErr(t, "SetAppSecret missing", err, userpool.ErrNotFound)
	if _, err := s.SetAppSecret(ctx(t), p.ID, "a1", nil, later); err == nil {
		t.Error("SetAppSecret with an empty hash succeeded")
	}
	_, err = s.UpdateApp(ctx(t), p.ID, "a1", func(a *userpool.App) error { a.Name = "x"; return errors.New("abort") }, audit("app.update.aborted"))
	if err == nil {
		t.Fatal("aborted update succeeded")
	}
	checkErr(t, "DeleteApp missing", s.DeleteApp(ctx(t), p.ID, "missing", audit("app.delete.missing")), userpool.ErrNotFound)
	checkNoErr(t, "DeleteApp with audit", s.DeleteApp(ctx(t), p.ID, "a1", audit("app.delete")))
	for name, want := range map[string]int{"app.create": 1, "app.rotate": 1, "app.rotate.missing": 0, "app.update.aborted": 0, "app.delete.missing": 0, "app.delete": 1} {
		got, err := s.ListAudit(ctx(t), userpool.AuditFilter{PoolID: p.ID, Event: name})
		checkNoErr(t, "ListAudit", err)
		if len(got) != want {
			t.Errorf("event %s stored %d times, want %d", name, len(got), want)
		}
	}

	// Concurrent rotations: every one succeeds, one hash stays.
	newApp(t, s, p.ID, "a2", userpool.AppMachine)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.SetAppSecret(ctx(t), p.ID, "a2", appHash(fmt.Sprint("rot", i)), later)
		})
	}
	wg.Wait()
	for i, err := range errs {
		checkNoErr(t, fmt.Sprint("concurrent SetAppSecret ", i), err)
	}
	final, err := s.GetApp(ctx(t), p.ID, "a2")
	checkNoErr(t, "GetApp a2", err)
	matches := 0
	for i := range n {
		if bytes.Equal(final.SecretHash, appHash(fmt.Sprint("rot", i))) {
			matches++
		}
	}
	if matches != 1 {
		t.Errorf("after concurrent rotations the stored hash matches %d of them", matches)
	}
}
