package storetest

import (
	"testing"

	"github.com/authpool/authpool/internal/userpool"
)

// testIdentifierKeys: usernames and email addresses are compared by their
// keys (userpool.UsernameKey, EmailKey: case, width and Unicode
// normalisation variants are one identifier), while the spelling stored is
// the one given.
func testIdentifierKeys(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "Alice.Smith@Example.COM", "Admin", "")
	newUser(t, s, p.ID, "u2", "x@bücher.example", "café", "") // é precomposed (NFC)

	got, err := s.GetUser(ctx(t), p.ID, "u1")
	checkNoErr(t, "GetUser", err)
	if got.Username != "Admin" || got.Email != "Alice.Smith@Example.COM" {
		t.Errorf("stored spelling = %q, %q; want the given Admin, Alice.Smith@Example.COM", got.Username, got.Email)
	}

	finds := []struct {
		name, user string
		get        func() (*userpool.User, error)
	}{
		{"username lower case", "u1", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "admin") }},
		{"username fullwidth", "u1", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "ａｄｍｉｎ") }},
		{"username NFD", "u2", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "cafe\u0301") }},
		{"username upper NFD", "u2", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "CAFE\u0301") }},
		{"email lower case", "u1", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), p.ID, "alice.smith@example.com") }},
		{"email fullwidth local part", "u1", func() (*userpool.User, error) {
			return s.GetUserByEmail(ctx(t), p.ID, "ＡＬＩＣＥ.smith@example.com")
		}},
		{"email punycode domain", "u2", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), p.ID, "X@XN--BCHER-KVA.example") }},
	}
	for _, f := range finds {
		u, err := f.get()
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if u.ID != f.user {
			t.Errorf("%s: found %s, want %s", f.name, u.ID, f.user)
		}
	}

	misses := []struct {
		name string
		get  func() (*userpool.User, error)
	}{
		{"username with a zero-width space", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "ad\u200bmin") }},
		{"username with a Cyrillic а", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "\u0430dmin") }},
		{"username other pool", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), "p2", "admin") }},
		{"email with a zero-width space", func() (*userpool.User, error) {
			return s.GetUserByEmail(ctx(t), p.ID, "alice\u200b.smith@example.com")
		}},
	}
	for _, m := range misses {
		_, err := m.get()
		checkErr(t, m.name, err, userpool.ErrUserNotFound)
	}

	taken := []struct {
		name            string
		email, username string
		want            error
	}{
		{"username other case", "", "ADMIN", userpool.ErrUsernameTaken},
		{"username fullwidth", "", "ａｄｍｉｎ", userpool.ErrUsernameTaken},
		{"username NFD", "", "cafe\u0301", userpool.ErrUsernameTaken},
		{"email other case", "ALICE.SMITH@example.com", "", userpool.ErrEmailTaken},
		{"email punycode domain", "x@xn--bcher-kva.example", "", userpool.ErrEmailTaken},
	}
	for _, tc := range taken {
		u := &userpool.User{ID: "dup-" + tc.name, PoolID: p.ID, Email: tc.email,
			Profile: userpool.Profile{Username: tc.username}, CreatedAt: t0, UpdatedAt: t0}
		checkErr(t, "CreateUser "+tc.name, s.CreateUser(ctx(t), u), tc.want)
	}
}

// testIdentifierKeysOnUpdate: UpdateUser keeps the keys in step with the
// spellings it writes.
func testIdentifierKeysOnUpdate(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "ann@example.com", "ann", "")
	newUser(t, s, p.ID, "u2", "bea@example.com", "bea", "")

	// A new spelling of one's own identifiers: same keys, one's own.
	_, err := s.UpdateUser(ctx(t), p.ID, "u1", func(u *userpool.User) error {
		u.Username, u.Email = "ANN", "Ann@Example.com"
		return nil
	})
	checkNoErr(t, "UpdateUser respelling", err)
	u, err := s.GetUserByUsername(ctx(t), p.ID, "ａｎｎ")
	checkNoErr(t, "GetUserByUsername after respelling", err)
	if u.ID != "u1" || u.Username != "ANN" || u.Email != "Ann@Example.com" {
		t.Errorf("after respelling: %s %q %q, want u1 ANN Ann@Example.com", u.ID, u.Username, u.Email)
	}

	// Another user's identifiers in another spelling are taken.
	_, err = s.UpdateUser(ctx(t), p.ID, "u2", func(u *userpool.User) error { u.Username = "Ann"; return nil })
	checkErr(t, "UpdateUser to another's username", err, userpool.ErrUsernameTaken)
	_, err = s.UpdateUser(ctx(t), p.ID, "u2", func(u *userpool.User) error { u.Email = "ANN@example.com"; return nil })
	checkErr(t, "UpdateUser to another's email", err, userpool.ErrEmailTaken)

	// A change of identifiers moves the keys: the old ones are free again.
	_, err = s.UpdateUser(ctx(t), p.ID, "u1", func(u *userpool.User) error {
		u.Username, u.Email = "Anna", ""
		return nil
	})
	checkNoErr(t, "UpdateUser new identifiers", err)
	_, err = s.GetUserByUsername(ctx(t), p.ID, "ann")
	checkErr(t, "GetUserByUsername old name", err, userpool.ErrUserNotFound)
	_, err = s.GetUserByEmail(ctx(t), p.ID, "ann@example.com")
	checkErr(t, "GetUserByEmail removed address", err, userpool.ErrUserNotFound)
	u, err = s.GetUserByUsername(ctx(t), p.ID, "ANNA")
	checkNoErr(t, "GetUserByUsername new name", err)
	if u.ID != "u1" {
		t.Errorf("ANNA found %s, want u1", u.ID)
	}
	_, err = s.UpdateUser(ctx(t), p.ID, "u2", func(u *userpool.User) error {
		u.Username, u.Email = "ANN", "ann@EXAMPLE.com"
		return nil
	})
	checkNoErr(t, "UpdateUser to the freed identifiers", err)
}
