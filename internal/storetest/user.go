package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testCreateAndGetUser(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	want := &userpool.User{
		ID: "u1", PoolID: p.ID,
		Email: "Alice@Example.com", EmailVerified: true,
		Phone:        "+15550100",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		Profile:      userpool.Profile{Username: "alice", Nickname: "Al"},
		SignedUp:     t0, CreatedAt: t0, UpdatedAt: t0,
		// LastLogin stays zero: the zero time must come back as zero.
	}
	u := *want
	checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), &u))

	lookups := []struct {
		name string
		get  func() (*userpool.User, error)
	}{
		{"GetUser", func() (*userpool.User, error) { return s.GetUser(ctx(t), p.ID, "u1") }},
		{"GetUserByEmail exact", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), p.ID, "Alice@Example.com") }},
		{"GetUserByEmail other case", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), p.ID, "aLICE@example.COM") }},
		{"GetUserByUsername", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "alice") }},
		{"GetUserByPhone", func() (*userpool.User, error) { return s.GetUserByPhone(ctx(t), p.ID, "+15550100") }},
	}
	for _, l := range lookups {
		got, err := l.get()
		if err != nil {
			t.Errorf("%s: %v", l.name, err)
			continue
		}
		checkEqual(t, l.name, want, got)
	}

	misses := []struct {
		name string
		get  func() (*userpool.User, error)
	}{
		{"GetUser missing id", func() (*userpool.User, error) { return s.GetUser(ctx(t), p.ID, "nobody") }},
		{"GetUser other pool", func() (*userpool.User, error) { return s.GetUser(ctx(t), "p2", "u1") }},
		{"GetUserByEmail missing", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), p.ID, "bob@example.com") }},
		{"GetUserByEmail other pool", func() (*userpool.User, error) { return s.GetUserByEmail(ctx(t), "p2", "alice@example.com") }},
		{"GetUserByUsername missing", func() (*userpool.User, error) { return s.GetUserByUsername(ctx(t), p.ID, "bob") }},
		{"GetUserByPhone missing", func() (*userpool.User, error) { return s.GetUserByPhone(ctx(t), p.ID, "+15550199") }},
	}
	for _, m := range misses {
		_, err := m.get()
		checkErr(t, m.name, err, userpool.ErrUserNotFound)
	}
}

func testLookupByEmptyValue(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "", "", "")
	_, err := s.GetUserByEmail(ctx(t), p.ID, "")
	checkErr(t, `GetUserByEmail("")`, err, userpool.ErrUserNotFound)
	_, err = s.GetUserByUsername(ctx(t), p.ID, "")
	checkErr(t, `GetUserByUsername("")`, err, userpool.ErrUserNotFound)
	_, err = s.GetUserByPhone(ctx(t), p.ID, "")
	checkErr(t, `GetUserByPhone("")`, err, userpool.ErrUserNotFound)
}

func testDuplicateUsers(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "bob@example.com", "bob", "+15550101")
	tests := []struct {
		name                   string
		email, username, phone string
		want                   error
	}{
		{"same email", "bob@example.com", "", "", userpool.ErrEmailTaken},
		{"same email other case", "BOB@Example.COM", "", "", userpool.ErrEmailTaken},
		{"same username", "", "bob", "", userpool.ErrUsernameTaken},
		{"same username other case", "", "Bob", "", userpool.ErrUsernameTaken},
		{"same phone", "", "", "+15550101", userpool.ErrPhoneTaken},
	}
	for i, tc := range tests {
		u := &userpool.User{
			ID: fmt.Sprintf("dup%d", i), PoolID: p.ID, Email: tc.email, Phone: tc.phone,
			Profile: userpool.Profile{Username: tc.username}, CreatedAt: t0, UpdatedAt: t0,
		}
		checkErr(t, tc.name, s.CreateUser(ctx(t), u), tc.want)
	}
}

func testDuplicatesPerPool(t *testing.T, s userpool.Store) {
	p1, p2 := newPool(t, s, "p1"), newPool(t, s, "p2")
	newUser(t, s, p1.ID, "u1", "carol@example.com", "carol", "+15550102")
	newUser(t, s, p2.ID, "u2", "carol@example.com", "carol", "+15550102")
	for _, pool := range []struct{ pool, user string }{{p1.ID, "u1"}, {p2.ID, "u2"}} {
		got, err := s.GetUserByEmail(ctx(t), pool.pool, "carol@example.com")
		checkNoErr(t, "GetUserByEmail in "+pool.pool, err)
		if got.ID != pool.user {
			t.Errorf("GetUserByEmail in %s = user %s, want %s", pool.pool, got.ID, pool.user)
		}
	}
}

func testEmptyFieldsDoNotCollide(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "", "", "")
	newUser(t, s, p.ID, "u2", "", "", "")
	newUser(t, s, p.ID, "u3", "dave@example.com", "", "")
	newUser(t, s, p.ID, "u4", "", "dave", "")
	newUser(t, s, p.ID, "u5", "", "", "+15550103")
	got, err := s.GetUser(ctx(t), p.ID, "u2")
	checkNoErr(t, "GetUser", err)
	if got.Email != "" || got.Username != "" || got.Phone != "" {
		t.Errorf("empty fields came back as email %q, username %q, phone %q", got.Email, got.Username, got.Phone)
	}
}

// fullUser returns a user with every field set to a non-zero value derived
// from tag. It fails the test when User has a field it does not set, so that
// a field added to the domain cannot be forgotten by a backend.
func fullUser(t *testing.T, poolID, id, tag string, base time.Time) *userpool.User {
	t.Helper()
	u := &userpool.User{
		ID: id, PoolID: poolID,
		Email: tag + "@example.com", EmailVerified: true,
		Phone: "+1555" + tag, PhoneVerified: true,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$" + tag,
		LoginsCount:  7,
		LastLogin:    base.Add(time.Hour + 1*time.Millisecond),
		SignedUp:     base.Add(2 * time.Millisecond),
		Blocked:      true,
		CreatedAt:    base.Add(3 * time.Millisecond),
		UpdatedAt:    base.Add(2*time.Hour + 4*time.Millisecond),
	}
	pv := reflect.ValueOf(&u.Profile).Elem()
	for i := range pv.NumField() {
		if f := pv.Field(i); f.Kind() == reflect.String {
			f.SetString(pv.Type().Field(i).Name + "-" + tag)
		}
	}
	uv := reflect.ValueOf(u).Elem()
	for _, v := range []reflect.Value{uv, pv} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("fullUser leaves %s.%s zero; set it so the round trip covers it", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
	return u
}

func testUpdateUserRoundTrip(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "erin@example.com", "erin", "")
	want := fullUser(t, p.ID, "u1", "erin2", t0)

	got, err := s.UpdateUser(ctx(t), p.ID, "u1", func(u *userpool.User) error {
		*u = *want
		return nil
	})
	checkNoErr(t, "UpdateUser", err)
	checkEqual(t, "UpdateUser result", want, got)
	got, err = s.GetUser(ctx(t), p.ID, "u1")
	checkNoErr(t, "GetUser", err)
	checkEqual(t, "user after update", want, got)
	got, err = s.GetUserByEmail(ctx(t), p.ID, want.Email)
	checkNoErr(t, "GetUserByEmail(new email)", err)
	checkEqual(t, "user by new email", want, got)
	_, err = s.GetUserByEmail(ctx(t), p.ID, "erin@example.com")
	checkErr(t, "GetUserByEmail(old email)", err, userpool.ErrUserNotFound)

	// Clearing fields must round-trip too: empty strings, false, zero
	// times and a zero count.
	cleared := *want
	cleared.Email, cleared.Phone, cleared.Username, cleared.Nickname, cleared.PasswordHash = "", "", "", "", ""
	cleared.EmailVerified, cleared.PhoneVerified, cleared.Blocked = false, false, false
	cleared.LoginsCount = 0
	cleared.LastLogin, cleared.SignedUp = time.Time{}, time.Time{}
	cleared.UpdatedAt = want.UpdatedAt.Add(time.Minute)
	got, err = s.UpdateUser(ctx(t), p.ID, "u1", func(u *userpool.User) error {
		*u = cleared
		return nil
	})
	checkNoErr(t, "UpdateUser clearing fields", err)
	checkEqual(t, "UpdateUser result after clearing", &cleared, got)
	got, err = s.GetUser(ctx(t), p.ID, "u1")
	checkNoErr(t, "GetUser", err)
	checkEqual(t, "user after clearing", &cleared, got)
	// The cleared email, username and phone are free again.
	newUser(t, s, p.ID, "u2", want.Email, want.Username, want.Phone)
}

func testUpdateFnErrorAborts(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	before := newUser(t, s, p.ID, "u1", "frank@example.com", "frank", "")
	errBoom := errors.New("boom")
	got, err := s.UpdateUser(ctx(t), p.ID, "u1", func(u *userpool.User) error {
		u.Nickname = "changed"
		u.LoginsCount = 99
		u.Email = "other@example.com"
		return errBoom
	})
	// The contract is "returned as is", so identity, not errors.Is.
	if err != errBoom {
		t.Errorf("UpdateUser returned %v, want fn's error unchanged", err)
	}
	if got != nil {
		t.Errorf("UpdateUser returned user %+v with an error", got)
	}
	after, err := s.GetUser(ctx(t), p.ID, "u1")
	checkNoErr(t, "GetUser", err)
	checkEqual(t, "user after aborted update", before, after)
}

func testUpdateToTakenValue(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "gina@example.com", "gina", "+15550104")
	before := newUser(t, s, p.ID, "u2", "hank@example.com", "hank", "+15550105")
	tests := []struct {
		name string
		set  func(*userpool.User)
		want error
	}{
		{"taken username", func(u *userpool.User) { u.Username = "gina" }, userpool.ErrUsernameTaken},
		{"taken email other case", func(u *userpool.User) { u.Email = "GINA@example.com" }, userpool.ErrEmailTaken},
		{"taken phone", func(u *userpool.User) { u.Phone = "+15550104" }, userpool.ErrPhoneTaken},
	}
	for _, tc := range tests {
		_, err := s.UpdateUser(ctx(t), p.ID, "u2", func(u *userpool.User) error {
			tc.set(u)
			u.Nickname = "should not stick"
			return nil
		})
		checkErr(t, tc.name, err, tc.want)
		after, err := s.GetUser(ctx(t), p.ID, "u2")
		checkNoErr(t, "GetUser", err)
		checkEqual(t, "user after "+tc.name, before, after)
	}
	// A user's own values never conflict with themselves.
	_, err := s.UpdateUser(ctx(t), p.ID, "u2", func(u *userpool.User) error {
		u.Email = "Hank@Example.com"
		return nil
	})
	checkNoErr(t, "UpdateUser to own email in other case", err)
}

func testUpdateMissingUser(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newUser(t, s, p.ID, "u1", "ivy@example.com", "", "")
	called := false
	fn := func(*userpool.User) error { called = true; return nil }
	_, err := s.UpdateUser(ctx(t), p.ID, "nobody", fn)
	checkErr(t, "UpdateUser missing id", err, userpool.ErrUserNotFound)
	_, err = s.UpdateUser(ctx(t), "p2", "u1", fn)
	checkErr(t, "UpdateUser other pool", err, userpool.ErrUserNotFound)
	if called {
		t.Error("UpdateUser called fn for a missing user")
	}
}

func testDeleteUser(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	u := newUser(t, s, p.ID, "u1", "jack@example.com", "jack", "+15550106")
	newSession(t, s, u, "s1", t0.Add(time.Hour))
	other := newUser(t, s, p.ID, "u2", "kim@example.com", "kim", "")

	checkNoErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, "u1"))
	_, err := s.GetUser(ctx(t), p.ID, "u1")
	checkErr(t, "GetUser after delete", err, userpool.ErrUserNotFound)
	_, err = s.GetUserByEmail(ctx(t), p.ID, "jack@example.com")
	checkErr(t, "GetUserByEmail after delete", err, userpool.ErrUserNotFound)
	checkErr(t, "DeleteUser again", s.DeleteUser(ctx(t), p.ID, "u1"), userpool.ErrUserNotFound)
	checkErr(t, "DeleteUser other pool", s.DeleteUser(ctx(t), "p2", "u2"), userpool.ErrUserNotFound)

	got, err := s.GetUser(ctx(t), p.ID, "u2")
	checkNoErr(t, "GetUser of the other user", err)
	checkEqual(t, "other user", other, got)
	// The deleted user's email, username and phone are free again.
	newUser(t, s, p.ID, "u3", "jack@example.com", "jack", "+15550106")
}

// testForeignPasswordHash: password hashes imported from other systems
// are longer and richer than argon2id strings (Keycloak's credential JSON
// with quotes and backslashes, non-ASCII salts, up to 2048 bytes); they
// come back byte for byte, and the update that replaces one at login
// leaves no trace of it.
func testForeignPasswordHash(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	long := "{\"algorithm\":\"md5\",\"salt\":\"" + strings.Repeat("sél\\\"$'%_", 180) + "\"}"
	long += strings.Repeat(" ", 2048-len(long))
	hashes := []string{
		`{"type": "password", "secretData": "{\"value\": \"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==\", \"salt\": \"AAECAwQFBgcICQoLDA0ODw==\"}", "credentialData": "{\"hashIterations\": 27500, \"algorithm\": \"pbkdf2-sha256\"}"}`,
		"pbkdf2_sha256$870000$sél-ünïcode$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=",
		"{\n\t\"algorithm\": \"sha256\",\r\n\t\"salt\": \"'; DROP TABLE users; --\"\n}",
		long,
	}
	for i, h := range hashes {
		id := fmt.Sprintf("u%d", i)
		u := &userpool.User{ID: id, PoolID: p.ID, Profile: userpool.Profile{Username: id}, PasswordHash: h, SignedUp: t0, CreatedAt: t0, UpdatedAt: t0}
		checkNoErr(t, "CreateUser", s.CreateUser(ctx(t), u))
		got, err := s.GetUser(ctx(t), p.ID, id)
		checkNoErr(t, "GetUser", err)
		if got.PasswordHash != h {
			t.Errorf("hash %d came back as %q", i, got.PasswordHash)
		}
		const argon = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
		up, err := s.UpdateUser(ctx(t), p.ID, id, func(x *userpool.User) error {
			if x.PasswordHash != h {
				t.Errorf("UpdateUser read hash %d as %q", i, x.PasswordHash)
			}
			x.PasswordHash = argon
			return nil
		})
		checkNoErr(t, "UpdateUser", err)
		got, err = s.GetUser(ctx(t), p.ID, id)
		checkNoErr(t, "GetUser after update", err)
		if up.PasswordHash != argon || got.PasswordHash != argon {
			t.Errorf("replaced hash %d reads %q / %q", i, up.PasswordHash, got.PasswordHash)
		}
	}
}
