package e2e

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// Issue 10, finding 8: look-alike accounts. Usernames and email addresses
// are compared as RFC 8265's UsernameCaseMapped does (width, case, NFC);
// invisible characters and mixed scripts are refused in new identifiers;
// the spelling given is what the profile shows.

func TestLookalikeUsernames(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		const pw = "lookalike-passw0rd"
		must[*client.User](t)(c.RegisterByUsername(ctx, "Admin", pw, nil, nil))
		must[*client.User](t)(c.RegisterByUsername(ctx, "café", pw, nil, nil)) // é precomposed (NFC)

		// Spellings that compare equal to a taken name: 2034.
		for _, name := range []string{
			"admin",      // case
			"ADMIN",      // case
			"ａｄｍｉｎ",      // fullwidth
			"Ａｄｍｉｎ",      // fullwidth, other case
			"cafe\u0301", // NFD: e and a trailing combining acute accent
			"CAFE\u0301", // NFD, other case
			" admin ",    // surrounding spaces are trimmed
		} {
			_, err := c.RegisterByUsername(ctx, name, pw, nil, nil)
			if err == nil {
				t.Errorf("RegisterByUsername(%+q) made a second account", name)
				continue
			}
			wantCode(t, err, 2034)
		}

		// Invisible characters, a combining mark no letter carries, and a
		// Cyrillic letter in a Latin name: refused (1003).
		for _, name := range []string{
			"ad\u200bmin", // zero-width space
			"admin\u200d", // zero-width joiner
			"admin\u034f", // trailing combining grapheme joiner (invisible mark)
			"admin\ufe0f", // trailing variation selector (invisible mark)
			"\u0301admin", // combining mark with no letter before it
			"\u202eadmin", // bidi override
			"\u0430dmin",  // Cyrillic а in a Latin name
			"p\u0430ypal", // the same, inside
			"admin\u3164", // Hangul filler (an invisible letter)
		} {
			_, err := c.RegisterByUsername(ctx, name, pw, nil, nil)
			if err == nil {
				t.Errorf("RegisterByUsername(%+q) was accepted", name)
				continue
			}
			wantCode(t, err, 1003)
		}

		// One script, or Latin with Han and Kana as a Japanese name has: fine.
		for _, name := range []string{"дмитрий", "tanaka田中たなか", "josé.müller-2", "ελένη"} {
			if _, err := c.RegisterByUsername(ctx, name, pw, nil, nil); err != nil {
				t.Errorf("RegisterByUsername(%+q): %v", name, err)
			}
		}

		// Logging in by another spelling finds the account, whose profile
		// shows the spelling it was registered with.
		for _, name := range []string{"admin", "ＡＤＭＩＮ", "Admin"} {
			u, err := in.client().LoginByUsername(ctx, name, pw, nil)
			if err != nil {
				t.Fatalf("LoginByUsername(%+q): %v", name, err)
			}
			if u.Username != "Admin" {
				t.Errorf("LoginByUsername(%+q) shows username %q, want Admin", name, u.Username)
			}
		}
		lc := in.client()
		must[*client.User](t)(lc.LoginByUsername(ctx, "CAFE\u0301", pw, nil))
		if u := must[*client.User](t)(lc.GetCurrentUser(ctx)); u.Username != "café" {
			t.Errorf("profile shows %+q, want café as registered", u.Username)
		}

		// Changing one's username: another spelling of one's own name is
		// fine (and shown), another's name in any spelling is taken, a
		// look-alike is refused.
		bob := in.client()
		must[*client.User](t)(bob.RegisterByUsername(ctx, "bob", pw, nil, &client.RegisterOptions{ForceLogin: true}))
		if u := must[*client.User](t)(bob.UpdateProfile(ctx, client.UpdateProfileInput{Username: ptr("Bob")})); u.Username != "Bob" {
			t.Errorf("username after respelling = %q, want Bob", u.Username)
		}
		_, err := bob.UpdateProfile(ctx, client.UpdateProfileInput{Username: ptr("ａｄｍｉｎ")})
		wantCode(t, err, 2034)
		_, err = bob.UpdateProfile(ctx, client.UpdateProfileInput{Username: ptr("b\u043eb2")}) // Cyrillic о
		wantCode(t, err, 1003)
		// The other profile fields of a name kept from before still change.
		must[*client.User](t)(bob.UpdateProfile(ctx, client.UpdateProfileInput{Nickname: ptr("Bobby")}))

		// Logging in with an auto-register by a look-alike of a taken name
		// logs in to that account or fails; it never makes a second one.
		_, err = in.client().LoginByUsername(ctx, "ADMIN", "wrong-passw0rd", &client.LoginOptions{AutoRegister: true})
		wantCode(t, err, 2006)
		_, err = in.client().LoginByUsername(ctx, "\u0430dmin", pw, &client.LoginOptions{AutoRegister: true})
		wantCode(t, err, 1003)
	})
}

func TestLookalikeEmails(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.client()
		const pw = "lookalike-passw0rd"
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "Alice.Smith@Example.COM", pw, nil, nil))
		if u.Email != "Alice.Smith@example.com" {
			t.Errorf("registered email shows %q, want Alice.Smith@example.com (local part as given, domain lower-cased)", u.Email)
		}
		must[*client.User](t)(c.RegisterByEmail(ctx, "josé@example.com", pw, nil, nil)) // NFC

		for _, addr := range []string{
			"alice.smith@example.com",
			"ALICE.SMITH@EXAMPLE.COM",
			"ａｌｉｃｅ.smith@example.com", // fullwidth
			"jose\u0301@example.com",  // NFD
		} {
			_, err := c.RegisterByEmail(ctx, addr, pw, nil, nil)
			if err == nil {
				t.Errorf("RegisterByEmail(%+q) made a second account", addr)
				continue
			}
			wantCode(t, err, 2026)
		}
		for _, addr := range []string{
			"alice\u200b.smith@example.com", // zero-width space in the local part
			"alice.smith\u2060@example.com", // word joiner
			"\u0430lice.smith@example.com",  // Cyrillic а
			"alice.smith@ex\u0430mple.com",  // Cyrillic а in the domain
			"alice@exa\u200bmple.com",       // zero-width space in the domain
			// The same rules hold for a domain spelled in punycode.
			"alice@xn--pple-43d.com",             // "аpple.com", Cyrillic а
			"alice@XN--PPLE-43D.COM",             // the same, upper case
			"alice@mail.xn--pple-43d.com",        // in any label
			"alice@xn--zzzzzzzzzzzzzzzzz.com",    // not punycode at all
			"alice@xn--abc-.com",                 // punycode for plain "abc"
			"alice@xn--exa-lza.xn--pple-43d.com", // two labels, one refused
		} {
			_, err := c.RegisterByEmail(ctx, addr, pw, nil, nil)
			if err == nil {
				t.Errorf("RegisterByEmail(%+q) was accepted", addr)
				continue
			}
			wantCode(t, err, 2003)
		}

		// A valid punycode domain is the same domain as its Unicode form.
		must[*client.User](t)(c.RegisterByEmail(ctx, "bob@xn--bcher-kva.example", pw, nil, nil))
		_, err := c.RegisterByEmail(ctx, "bob@bücher.example", pw, nil, nil)
		wantCode(t, err, 2026)

		// Login by another spelling; the profile keeps the first spelling.
		lc := in.client()
		must[*client.User](t)(lc.LoginByEmail(ctx, "ＡＬＩＣＥ.SMITH@example.com", pw, nil))
		if got := must[*client.User](t)(lc.GetCurrentUser(ctx)); got.Email != "Alice.Smith@example.com" {
			t.Errorf("profile shows %q, want Alice.Smith@example.com", got.Email)
		}

		// A code asked for in another spelling goes to the account's own
		// address and works in any spelling.
		must0(t, c.SendEmail(ctx, "ALICE.SMITH@EXAMPLE.COM", client.EmailSceneResetPassword))
		code := in.Outbox.last(t, "Alice.Smith@example.com").Code
		if n := len(in.Outbox.sentTo("ALICE.SMITH@EXAMPLE.COM")); n != 0 {
			t.Errorf("%d mails went to the spelling asked for, not the account's address", n)
		}
		must0(t, c.ResetPasswordByEmailCode(ctx, "alice.smith@example.com", code, "n3w-lookalike-passw0rd"))
		must[*client.User](t)(in.client().LoginByEmail(ctx, "Alice.Smith@example.com", "n3w-lookalike-passw0rd", nil))

		// An administrator's new user is held to the same rules.
		_, err = in.admin().CreateUser(ctx, in.Srv.DefaultPoolID(), client.CreateUserRequest{Email: "ALICE.SMITH@example.com"})
		wantCode(t, err, 2026)
		_, err = in.admin().CreateUser(ctx, in.Srv.DefaultPoolID(), client.CreateUserRequest{Username: "\u0430dmin"})
		wantCode(t, err, 1003)
		_, err = in.admin().CreateUser(ctx, in.Srv.DefaultPoolID(), client.CreateUserRequest{Email: "alice@xn--pple-43d.com"})
		wantCode(t, err, 2003)
	})
}

// TestLookalikeAuthing: the Authing-compatible transport goes through the
// same rules.
func TestLookalikeAuthing(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, testConfig(dbURL), nil)
		c := in.authing(t)
		u := c.registerEmail("Eve@Example.com", "passw0rd!", nil)
		if deref(u.Email) != "Eve@example.com" {
			t.Errorf("registered email shows %q, want Eve@example.com", deref(u.Email))
		}
		for addr, want := range map[string]int{
			"ｅｖｅ@example.com":       2026, // fullwidth
			"EVE@example.com":       2026,
			"eve\u200b@example.com": 2003, // zero-width space
			"\u0435ve@example.com":  2003, // Cyrillic е
		} {
			input := map[string]any{"email": addr, "password": c.enc("passw0rd!"), "profile": map[string]any{}, "forceLogin": false, "generateToken": false}
			if code, _ := c.gql(docs["registerByEmail"], map[string]any{"input": input}, "").errObject(t); code != want {
				t.Errorf("registerByEmail(%+q): code %d, want %d", addr, code, want)
			}
		}
		var li authingUser
		c.loginEmail("ＥＶＥ@EXAMPLE.COM", "passw0rd!", "").field(t, "loginByEmail", &li)
		if li.ID != u.ID || deref(li.Email) != "Eve@example.com" {
			t.Errorf("login by another spelling: user %s email %q, want %s Eve@example.com", li.ID, deref(li.Email), u.ID)
		}
	})
}

// TestLookalikeCollisionWarning: a start over a database holding accounts
// whose identifiers now compare equal (written by an older version, so
// without keys) logs one warning naming the newer account by id only, and
// the older account keeps the name.
func TestLookalikeCollisionWarning(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		first := start(t, testConfig(dbURL), nil)
		old := must[*client.User](t)(first.client().RegisterByUsername(ctx, "admin", "passw0rd!", nil, nil))
		pool := first.Srv.DefaultPoolID()
		first.stop()

		// The row an older version would have written: "Admin", no keys.
		driver, dsn, later := "pgx", dbURL, "'2100-01-01'::timestamptz"
		if strings.HasPrefix(dbURL, "sqlite:") {
			driver, dsn, later = "sqlite", strings.TrimPrefix(dbURL, "sqlite:"), "4102444800000"
		}
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, "INSERT INTO users (pool_id, id, username, password_hash, created_at, updated_at) VALUES ('"+
			pool+"', 'newer-account', 'Admin', 'secret-hash', "+later+", "+later+")")
		db.Close()
		if err != nil {
			t.Fatal(err)
		}

		second := start(t, testConfig(dbURL), nil)
		var warned []string
		second.Outbox.mu.Lock()
		for _, l := range second.Outbox.other {
			if strings.Contains(l, "compares equal to another account") {
				warned = append(warned, l)
			}
		}
		second.Outbox.mu.Unlock()
		if len(warned) != 1 || !strings.Contains(warned[0], "user newer-account: username (held by account "+old.ID+")") {
			t.Fatalf("start-up warnings = %q, want one naming newer-account held by %s", warned, old.ID)
		}
		if strings.Contains(warned[0], "Admin") || strings.Contains(warned[0], "secret-hash") {
			t.Errorf("the warning shows an identifier or a hash: %s", warned[0])
		}
		u := must[*client.User](t)(second.client().LoginByUsername(ctx, "ADMIN", "passw0rd!", nil))
		if u.ID != old.ID {
			t.Errorf("ADMIN logs in to %s, want the older account %s", u.ID, old.ID)
		}
	})
}
