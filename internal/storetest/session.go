package storetest

import (
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testCreateAndGetSession(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "lea@example.com", "", "")
	want := *newSession(t, s, u, "s1", t0.Add(time.Hour))

	got, err := s.GetSession(ctx(t), "s1")
	checkNoErr(t, "GetSession", err)
	checkEqual(t, "session", &want, got)
	if !got.Alive(t0) {
		t.Errorf("new session is not alive at t0: %+v", got)
	}
	_, err = s.GetSession(ctx(t), "missing")
	checkErr(t, "GetSession missing", err, userpool.ErrSessionNotFound)
}

func testExtendSession(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "max@example.com", "", "")
	want := *newSession(t, s, u, "s1", t0.Add(time.Hour))

	want.ExpiresAt = t0.Add(2 * time.Hour)
	got, err := s.ExtendSession(ctx(t), "s1", t0.Add(30*time.Minute), want.ExpiresAt)
	checkNoErr(t, "ExtendSession", err)
	checkEqual(t, "ExtendSession result", &want, got)
	got, err = s.GetSession(ctx(t), "s1")
	checkNoErr(t, "GetSession", err)
	checkEqual(t, "session after extend", &want, got)

	_, err = s.ExtendSession(ctx(t), "missing", t0, t0.Add(time.Hour))
	checkErr(t, "ExtendSession missing", err, userpool.ErrSessionNotFound)

	checkNoErr(t, "RevokeSession", s.RevokeSession(ctx(t), "s1", t0.Add(time.Hour)))
	_, err = s.ExtendSession(ctx(t), "s1", t0.Add(time.Hour), t0.Add(3*time.Hour))
	checkErr(t, "ExtendSession revoked", err, userpool.ErrSessionNotFound)
}

func testExpiredSessionNotExtended(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "nia@example.com", "", "")
	want := *newSession(t, s, u, "s1", t0.Add(time.Hour))

	// At the expiry instant the session is already over (Session.Alive).
	for _, now := range []time.Time{t0.Add(time.Hour), t0.Add(2 * time.Hour)} {
		_, err := s.ExtendSession(ctx(t), "s1", now, now.Add(time.Hour))
		checkErr(t, "ExtendSession at "+now.Sub(t0).String()+" after t0", err, userpool.ErrSessionNotFound)
	}
	got, err := s.GetSession(ctx(t), "s1")
	checkNoErr(t, "GetSession", err)
	checkEqual(t, "expired session", &want, got)
	// A millisecond before the end it is still alive and can be extended.
	_, err = s.ExtendSession(ctx(t), "s1", t0.Add(time.Hour-time.Millisecond), t0.Add(2*time.Hour))
	checkNoErr(t, "ExtendSession just before expiry", err)
}

func testRevokeSession(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "omar@example.com", "", "")
	want := *newSession(t, s, u, "s1", t0.Add(time.Hour))

	revokedAt := t0.Add(5 * time.Minute)
	checkNoErr(t, "RevokeSession", s.RevokeSession(ctx(t), "s1", revokedAt))
	want.RevokedAt = revokedAt
	got, err := s.GetSession(ctx(t), "s1")
	checkNoErr(t, "GetSession", err)
	checkEqual(t, "revoked session", &want, got)
	if got.Alive(revokedAt) {
		t.Error("revoked session is alive")
	}
	checkErr(t, "RevokeSession again", s.RevokeSession(ctx(t), "s1", revokedAt.Add(time.Minute)), userpool.ErrSessionNotFound)
	checkErr(t, "RevokeSession missing", s.RevokeSession(ctx(t), "missing", revokedAt), userpool.ErrSessionNotFound)
	got, err = s.GetSession(ctx(t), "s1")
	checkNoErr(t, "GetSession", err)
	checkEqual(t, "session revoked twice keeps its first revocation", &want, got)
}

func testRevokeUserSessions(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "pia@example.com", "", "")
	other := newUser(t, s, p.ID, "u2", "quinn@example.com", "", "")
	newSession(t, s, u, "alive1", t0.Add(time.Hour))
	newSession(t, s, u, "alive2", t0.Add(2*time.Hour))
	newSession(t, s, u, "revoked", t0.Add(time.Hour))
	checkNoErr(t, "RevokeSession", s.RevokeSession(ctx(t), "revoked", t0))
	newSession(t, s, u, "expired", t0.Add(time.Minute))
	newSession(t, s, other, "others", t0.Add(time.Hour))

	now := t0.Add(10 * time.Minute)
	n, err := s.RevokeUserSessions(ctx(t), p.ID, u.ID, now)
	checkNoErr(t, "RevokeUserSessions", err)
	if n != 2 {
		t.Errorf("RevokeUserSessions revoked %d sessions, want 2", n)
	}
	wantRevokedAt := map[string]time.Time{
		"alive1": now, "alive2": now, "revoked": t0, "expired": {}, "others": {},
	}
	for id, want := range wantRevokedAt {
		got, err := s.GetSession(ctx(t), id)
		checkNoErr(t, "GetSession "+id, err)
		if !got.RevokedAt.Equal(want) {
			t.Errorf("session %s: RevokedAt = %v, want %v", id, got.RevokedAt, want)
		}
	}
	n, err = s.RevokeUserSessions(ctx(t), p.ID, u.ID, now)
	checkNoErr(t, "RevokeUserSessions again", err)
	if n != 0 {
		t.Errorf("second RevokeUserSessions revoked %d sessions, want 0", n)
	}
}

func testRevokeOtherSessions(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "pia@example.com", "", "")
	other := newUser(t, s, p.ID, "u2", "quinn@example.com", "", "")
	newSession(t, s, u, "keep", t0.Add(time.Hour))
	newSession(t, s, u, "alive", t0.Add(2*time.Hour))
	newSession(t, s, u, "expired", t0.Add(time.Minute))
	newSession(t, s, other, "others", t0.Add(time.Hour))

	now := t0.Add(10 * time.Minute)
	n, err := s.RevokeOtherSessions(ctx(t), p.ID, u.ID, "keep", now)
	checkNoErr(t, "RevokeOtherSessions", err)
	if n != 1 {
		t.Errorf("RevokeOtherSessions revoked %d sessions, want 1", n)
	}
	wantRevokedAt := map[string]time.Time{"keep": {}, "alive": now, "expired": {}, "others": {}}
	for id, want := range wantRevokedAt {
		got, err := s.GetSession(ctx(t), id)
		checkNoErr(t, "GetSession "+id, err)
		if !got.RevokedAt.Equal(want) {
			t.Errorf("session %s: RevokedAt = %v, want %v", id, got.RevokedAt, want)
		}
	}
	// Keeping a session of another user keeps none of this user's.
	newSession(t, s, u, "alive2", t0.Add(2*time.Hour))
	n, err = s.RevokeOtherSessions(ctx(t), p.ID, u.ID, "others", now)
	checkNoErr(t, "RevokeOtherSessions keeping another user's session", err)
	if n != 2 {
		t.Errorf("RevokeOtherSessions revoked %d sessions, want 2 (keep and alive2)", n)
	}
}
