package e2e

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// unkey makes the user's row as an older version writes it during a
// rolling upgrade: no comparison keys (username_key, email_key NULL). The
// next start of a server keys it; until then it must be found by its
// spelling.
func unkey(t *testing.T, in *instance, userID string) {
	t.Helper()
	driver, dsn, arg := "pgx", in.DBURL, "$1"
	if strings.HasPrefix(in.DBURL, "sqlite:") {
		driver, dsn, arg = "sqlite", strings.TrimPrefix(in.DBURL, "sqlite:")+"?_pragma=busy_timeout(10000)", "?"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(context.Background(), "UPDATE users SET username_key = NULL, email_key = NULL WHERE id = "+arg, userID)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("unkeying %s: %d rows, %v", userID, n, err)
	}
}

// TestUnkeyedRowsLogIn (review finding 5): an account whose row has no
// keys yet (written by an older replica) logs in by its exact spelling,
// by username and by email, and the email flows that look the account
// up (the mails of codes, verifying the address, a reset) find it too. The email's
// domain is an IDN, whose key (xn--...) its stored spelling never equals,
// so a lookup by the key alone misses it on both stores.
func TestUnkeyedRowsLogIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, codeConfig(dbURL), clk)
		c := in.client()
		bob := must[*client.User](t)(c.RegisterByUsername(ctx, "Bob", "passw0rd!", nil, nil))
		const addr = "ann@bücher.example"
		ann := must[*client.User](t)(c.RegisterByEmail(ctx, addr, "passw0rd!", nil, nil))
		unkey(t, in, bob.ID)
		unkey(t, in, ann.ID)

		if u, err := c.LoginByUsername(ctx, "Bob", "passw0rd!", nil); err != nil || u.ID != bob.ID {
			t.Errorf("unkeyed Bob logs in as Bob: %v, %v; want %s", u, err, bob.ID)
		}
		if u, err := c.LoginByEmail(ctx, addr, "passw0rd!", nil); err != nil || u.ID != ann.ID {
			t.Errorf("unkeyed %s logs in: %v, %v; want %s", addr, u, err, ann.ID)
		}
		must0(t, c.SendEmail(ctx, addr, client.EmailSceneVerifyEmail))
		must0(t, c.VerifyEmail(ctx, addr, in.Outbox.code(t, addr)))
		clk.Advance(time.Minute) // past the address's sending interval
		must0(t, c.SendEmail(ctx, addr, client.EmailSceneResetPassword))
		must0(t, c.ResetPasswordByEmailCode(ctx, addr, in.Outbox.code(t, addr), "n3w-passw0rd"))
		if u, err := c.LoginByEmail(ctx, addr, "n3w-passw0rd", nil); err != nil || u.ID != ann.ID {
			t.Errorf("unkeyed %s logs in with the reset password: %v, %v; want %s", addr, u, err, ann.ID)
		}
	})
}
