package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// foreignHashes are one hash per foreign format with its password (the
// vectors and their sources are in internal/password/foreign_test.go).
var foreignHashes = []struct{ name, hash, password string }{
	{"bcrypt", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "allmine"},
	{"bcrypt 2y", "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf"},
	{"argon2id foreign params", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "password"},
	{"scrypt", "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA", "password"},
	{"firebase scrypt", "$firebase-scrypt$rounds=8,mem=14$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", "user1password"},
	{"pbkdf2 PHC", "$pbkdf2-sha1$i=4096,l=20$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", "password"},
	{"django", "pbkdf2_sha1$10000$oldsalt$6YdXD3hvcWW9Y3rFz/AGU683qPM=", "hunter2"},
	{"keycloak", `{"type": "password", "secretData": "{\"value\": \"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==\", \"salt\": \"AAECAwQFBgcICQoLDA0ODw==\", \"additionalParameters\": {}}", "credentialData": "{\"hashIterations\": 27500, \"algorithm\": \"pbkdf2-sha256\", \"additionalParameters\": {}}"}`, "Keycloak-Pass1"},
	{"legacy md5", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`, "password"},
	{"legacy sha256 salted", `{"algorithm":"sha256","hash":"0cb6cf62a0ea25a7a8a32f892702032bbf790b47d99d9b023b0827bb921af90a","salt":"mysalt","pattern":"@salt@password"}`, "password"},
}

// TestAdminCreateUserWithForeignHash: a user created with another
// system's hash logs in with the original password through the SDK; the
// login replaces the stored hash with the pool's argon2id, after which
// the foreign hash is gone from the store and the password still works.
func TestAdminCreateUserWithForeignHash(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil).withoutFailureDetection(t)
		mc, c, st, pool := in.admin(), in.client(), in.Srv.Store(), in.Srv.DefaultPoolID()
		for i, v := range foreignHashes {
			t.Run(v.name, func(t *testing.T) {
				email := fmt.Sprintf("imported%d@example.com", i)
				u := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Email: email, PasswordHash: v.hash, EmailVerified: true}))
				stored := func() string {
					t.Helper()
					su, err := st.GetUser(ctx, pool, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					return su.PasswordHash
				}
				if got := stored(); got != v.hash {
					t.Fatalf("stored hash %q; want the imported one", got)
				}
				// A wrong password neither logs in nor replaces the hash.
				_, err := c.LoginByEmail(ctx, email, v.password+"!", nil)
				wantCode(t, err, 2006)
				if got := stored(); got != v.hash {
					t.Fatalf("a failed login changed the stored hash to %q", got)
				}
				li := must[*client.User](t)(c.LoginByEmail(ctx, email, v.password, nil))
				if li.ID != u.ID || li.Token == "" {
					t.Fatalf("login: %+v", li)
				}
				after := stored()
				if after == v.hash || !strings.HasPrefix(after, "$argon2id$v=19$m=64,t=1,p=1$") {
					t.Fatalf("after the first login the stored hash is %q; want the pool's argon2id", after)
				}
				// The password still logs in, against the new hash, which
				// is already the pool's: no second rehash.
				must[*client.User](t)(c.LoginByEmail(ctx, email, v.password, nil))
				if got := stored(); got != after {
					t.Fatalf("second login rehashed again: %q", got)
				}
				_, err = c.LoginByEmail(ctx, email, v.password+"!", nil)
				wantCode(t, err, 2006)
			})
		}
	})
}

// TestForeignHashKeptWhenLoginRefused: a right password that does not
// end in a login (a blocked account, a post-authentication pipeline's
// refusal) does not replace the imported hash, which then still works.
func TestForeignHashKeptWhenLoginRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc, c := in.admin(), in.client()
		v := foreignHashes[0]
		u := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Username: "blocked-import", PasswordHash: v.hash}))
		must[*client.BlockedUser](t)(mc.BlockUser(ctx, "default", u.ID))
		_, err := c.LoginByUsername(ctx, "blocked-import", v.password, nil)
		wantCode(t, err, 2057)
		su, err := in.Srv.Store().GetUser(ctx, in.Srv.DefaultPoolID(), u.ID)
		if err != nil || su.PasswordHash != v.hash {
			t.Fatalf("blocked login changed the hash: %v, %q", err, su.PasswordHash)
		}
		must[*client.User](t)(mc.UnblockUser(ctx, "default", u.ID))

		// A post-authentication pipeline refuses after the password was
		// checked: the replacement rides in the login's own write, so a
		// refused login leaves the imported hash too.
		gate := addPipeline(t, in, client.StagePostAuthentication, 0, `async function pipe(user, context, callback) {
			callback(new Error("not today")) }`)
		_, err = c.LoginByUsername(ctx, "blocked-import", v.password, nil)
		wantCode(t, err, 1020)
		su, err = in.Srv.Store().GetUser(ctx, in.Srv.DefaultPoolID(), u.ID)
		if err != nil || su.PasswordHash != v.hash {
			t.Fatalf("a login refused by a pipeline changed the hash: %v, %q", err, su.PasswordHash)
		}
		must[*client.Pipeline](t)(mc.EnablePipeline(ctx, "default", gate.ID, false))
		must[*client.User](t)(c.LoginByUsername(ctx, "blocked-import", v.password, nil))
		su, err = in.Srv.Store().GetUser(ctx, in.Srv.DefaultPoolID(), u.ID)
		if err != nil || !strings.HasPrefix(su.PasswordHash, "$argon2id$") {
			t.Fatalf("after the login the hash is %q (%v)", su.PasswordHash, err)
		}
	})
}

// TestAdminCreateUserPasswordHashBadInput: every unusable hash is refused
// with 1003 and a message naming the problem (never quoting the hash), and
// no user is created.
func TestAdminCreateUserPasswordHashBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		const bc = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
		for i, tc := range []struct {
			name, hash, password, wantMsg string
		}{
			{"plain password", "hunter2-is-my-password", "", "unknown format"},
			{"sha-crypt", "$6$rounds=5000$saltsalt$Jq0XyJ0vG7", "", "unknown format"},
			{"bare md5 hex", "5f4dcc3b5aa765d61d8327deb882cf99", "", "unknown format"},
			{"bcrypt cost 31", "$2b$31" + bc[6:], "", "cost limits"},
			{"bcrypt cost 14", "$2a$14" + bc[6:], "", "cost limits"},
			{"bcrypt padded", " " + bc, "", "unknown format"},
			{"bcrypt trailing newline", bc + "\n", "", "control character"},
			{"bcrypt short", bc[:59], "", "60 characters"},
			{"escape character in a Django salt", "pbkdf2_sha1$10000$old\x1bsalt$6YdXD3hvcWW9Y3rFz/AGU683qPM=", "", "control character"},
			{"scrypt maximal", "$scrypt$ln=4294967295,r=4294967295,p=4294967295$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", "", "power of two"},
			{"scrypt 2^31", "$scrypt$ln=31,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", "", "cost limits"},
			{"pbkdf2 4e9 iterations", "$pbkdf2-sha256$i=4294967295,l=20$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", "", "cost limits"},
			{"django 4e9 iterations", "pbkdf2_sha256$4294967295$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", "", "cost limits"},
			{"argon2 256 MiB × 16", "$argon2id$v=19$m=262144,t=16,p=1$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "", "cost limits"},
			{"argon2 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "", "memory"},
			{"argon2d", "$argon2d$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "", "unknown format"},
			{"keycloak argon2", `{"type":"password","secretData":"{\"value\":\"AAAA\",\"salt\":\"AAAA\"}","credentialData":"{\"hashIterations\":1,\"algorithm\":\"argon2\"}"}`, "", "algorithm must be"},
			{"legacy unknown member", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","iterations":1000000000}`, "", "nothing else"},
			{"oversized", "$2a$10$" + strings.Repeat("A", 8<<10), "", "longer than"},
			{"with a password too", bc, "passw0rd!", "not both"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				email := fmt.Sprintf("bad-%d@example.com", i)
				_, err := mc.CreateUser(ctx, "default", client.CreateUserRequest{Email: email, PasswordHash: tc.hash, Password: tc.password})
				ce := wantCode(t, err, 1003)
				if ce.Reason != "invalid_password_hash" || !strings.Contains(ce.Message, tc.wantMsg) {
					t.Errorf("reason %q, message %q; want invalid_password_hash and %q", ce.Reason, ce.Message, tc.wantMsg)
				}
				if len(tc.hash) > 24 && strings.Contains(ce.Message, tc.hash[len(tc.hash)-20:]) {
					t.Errorf("message quotes the hash: %q", ce.Message)
				}
				list := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: email}))
				if list.Total != 0 {
					t.Errorf("a user was created: %+v", list.Users)
				}
			})
		}
	})
}
