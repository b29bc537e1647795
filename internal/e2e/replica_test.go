package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
)

// replicaWait bounds how long a test waits for another replica to see a
// change: the feed's bound (ChangeFeedBound) plus slack for a loaded
// machine. The time it really takes is measured by BenchmarkReplicaRevocation.
func replicaWait(in *instance) time.Duration {
	return in.Srv.Store().ChangeFeedBound() + 5*time.Second
}

// waitListening waits until the instance's change feed is listening.
func waitListening(t *testing.T, in *instance) {
	t.Helper()
	deadline := time.Now().Add(replicaWait(in))
	for {
		if up, _ := in.Srv.Cache().Listening(); up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the change feed did not start listening")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond until it holds or the replica's bound has passed.
func eventually(t *testing.T, in *instance, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(replicaWait(in))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %v", what, replicaWait(in))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hits is the instance's count of reads answered from memory.
func hits(in *instance) int64 {
	h, _ := in.Srv.Cache().Stats()
	return h
}

// TestReplicaPoolSettings: two replicas on one database; a settings change
// made through replica A takes effect on replica B, which was answering
// from its cache, within the feed's bound. On SQLite the replicas are two
// servers on one file, which hear each other through change_counter.
func TestReplicaPoolSettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		a := start(t, replicaConfig(dbURL), nil)
		b := start(t, replicaConfig(dbURL), nil)
		waitListening(t, a)
		waitListening(t, b)
		ctx := context.Background()
		n := 0
		register := func(in *instance) error {
			n++
			_, err := in.client().RegisterByEmail(ctx, fmt.Sprintf("s%d@example.com", n), "ten-chars!", nil, nil)
			return err
		}
		for _, in := range []*instance{a, b} {
			for range 2 {
				if err := register(in); err != nil {
					t.Fatal(err)
				}
			}
			before := hits(in)
			if err := register(in); err != nil {
				t.Fatal(err)
			}
			if hits(in) == before {
				t.Fatal("the replica read the pool from the store: nothing was cached, the test would prove nothing")
			}
		}
		if _, err := a.admin().UpdatePool(ctx, a.Srv.DefaultPoolID(), client.UpdatePoolRequest{Settings: map[string]any{"passwordMinLength": 12}}); err != nil {
			t.Fatal(err)
		}
		// On the replica that made the change: at once.
		if err := register(a); !tooShort(t, err) {
			t.Fatalf("replica A after its own change: %v, want password_too_short", err)
		}
		eventually(t, b, "passwordMinLength 12 on replica B", func() bool {
			return tooShort(t, register(b))
		})
	})
}

// tooShort reports whether err is the refusal of a too short password;
// any other error fails the test.
func tooShort(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Reason != "password_too_short" {
		t.Fatalf("register: %v", err)
	}
	return true
}

// postgresURL is the configured PostgreSQL test database (none: skip).
func postgresURL(t *testing.T) string {
	t.Helper()
	for _, u := range storetest.DatabaseURLs(t) {
		if strings.HasPrefix(u, "postgres") {
			return u
		}
	}
	t.Skip("AUTHPOOL_TEST_POSTGRES_URL is not set")
	return ""
}

// replicaConfig is adminConfig with the per-address limits far away: the
// tests poll a replica from one address until it sees a change.
func replicaConfig(dbURL string) config.Config {
	cfg := adminConfig(dbURL)
	for _, r := range []*config.Rate{&cfg.RateLimitRegister, &cfg.RateLimitLogin, &cfg.RateLimitTokenCheck} {
		r.Max = 1 << 30
	}
	return cfg
}

// listenConfig is replicaConfig with the session cache on.
func listenConfig(dbURL string) config.Config {
	cfg := replicaConfig(dbURL)
	cfg.SessionCache = "listen"
	return cfg
}

// terminateListeners ends the change feed connections of dbURL's schema
// from the database side (what a PostgreSQL restart or a failover does to
// them) and reports how many it ended.
func terminateListeners(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	var n int
	err = conn.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1) x`, "authpool feed "+sqlstore.ChangeChannel(schema)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReplicaSessionCache: with AUTHPOOL_SESSION_CACHE=listen, replica B
// answers token checks from memory, and every way a session ends on
// replica A is refused on B within the bound, also after B's listening
// connection was terminated.
func TestReplicaSessionCache(t *testing.T) {
	dbURL := postgresURL(t)
	clk := newClock()
	a := start(t, listenConfig(dbURL), clk)
	b := start(t, listenConfig(dbURL), clk)
	waitListening(t, a)
	waitListening(t, b)
	ctx := context.Background()
	pool := a.Srv.DefaultPoolID()
	n := 0
	// user registers a user through A and returns its id and a token.
	user := func(t *testing.T) (string, *client.AuthenticationClient) {
		n++
		c := a.client()
		u, err := c.RegisterByEmail(ctx, fmt.Sprintf("r%d@example.com", n), "passw0rd!", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.LoginByEmail(ctx, u.Email, "passw0rd!", nil); err != nil {
			t.Fatal(err)
		}
		return u.ID, c
	}
	// cached checks tok on B until B answers it from memory.
	cached := func(t *testing.T, tok string) {
		t.Helper()
		cb := b.client()
		for range 2 {
			if code := checkStatus(t, cb, tok); code != 200 {
				t.Fatalf("check on B before the revocation: %d", code)
			}
		}
		before := hits(b)
		if code := checkStatus(t, cb, tok); code != 200 {
			t.Fatalf("check on B before the revocation: %d", code)
		}
		if hits(b) == before {
			t.Fatal("replica B read the session from the store: nothing was cached, the test would prove nothing")
		}
	}
	refused := func(t *testing.T, tok string, want int) {
		t.Helper()
		cb := b.client()
		var got int
		eventually(t, b, "the revocation on replica B", func() bool {
			got = checkStatus(t, cb, tok)
			return got != 200
		})
		if got != want {
			t.Errorf("check on B after the revocation: %d, want %d", got, want)
		}
	}
	kinds := []struct {
		name   string
		revoke func(t *testing.T, id string, c *client.AuthenticationClient)
		want   int
	}{
		{"logout", func(t *testing.T, _ string, c *client.AuthenticationClient) {
			if err := c.Logout(ctx); err != nil {
				t.Fatal(err)
			}
		}, 2207},
		{"password change", func(t *testing.T, _ string, c *client.AuthenticationClient) {
			if _, err := c.UpdatePassword(ctx, "passw0rd!2", "passw0rd!"); err != nil {
				t.Fatal(err)
			}
		}, 2207},
		{"block", func(t *testing.T, id string, _ *client.AuthenticationClient) {
			if _, err := a.admin().BlockUser(ctx, pool, id); err != nil {
				t.Fatal(err)
			}
		}, 2207},
		{"admin revoke", func(t *testing.T, id string, _ *client.AuthenticationClient) {
			ss, err := a.admin().ListUserSessions(ctx, pool, id)
			if err != nil || len(ss) != 1 {
				t.Fatalf("sessions: %v %v", ss, err)
			}
			if err := a.admin().RevokeSession(ctx, pool, id, ss[0].ID); err != nil {
				t.Fatal(err)
			}
		}, 2207},
		{"admin revoke all", func(t *testing.T, id string, _ *client.AuthenticationClient) {
			if _, err := a.admin().RevokeUserSessions(ctx, pool, id); err != nil {
				t.Fatal(err)
			}
		}, 2207},
		{"user deleted", func(t *testing.T, id string, _ *client.AuthenticationClient) {
			if err := a.admin().DeleteUser(ctx, pool, id); err != nil {
				t.Fatal(err)
			}
		}, 2207},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			id, c := user(t)
			tok := c.Token()
			cached(t, tok)
			k.revoke(t, id, c)
			refused(t, tok, k.want)
		})
	}

	t.Run("password change keeping the caller's session", func(t *testing.T) {
		// The Authing transport's updatePassword ends the other sessions
		// only (RevokeOtherSessions).
		_, c := user(t)
		keep := c.Token()
		other, err := a.client().LoginByEmail(ctx, fmt.Sprintf("r%d@example.com", n), "passw0rd!", nil)
		if err != nil {
			t.Fatal(err)
		}
		cached(t, keep)
		cached(t, other.Token)
		ac := a.authing(t)
		var pw authingUser
		ac.gql(docs["updatePassword"], map[string]any{"newPassword": ac.enc("n3w-passw0rd"), "oldPassword": ac.enc("passw0rd!")}, keep).field(t, "updatePassword", &pw)
		refused(t, other.Token, 2207)
		if code := checkStatus(t, b.client(), keep); code != 200 {
			t.Errorf("the caller's session on B after updatePassword: %d, want 200", code)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		_, c := user(t)
		tok := c.Token()
		cached(t, tok)
		clk.Advance(time.Duration(config.Default().TokenTTL) + time.Second)
		if code := checkStatus(t, b.client(), tok); code != 2206 {
			t.Errorf("check on B after expiry: %d, want 2206", code)
		}
	})

	t.Run("refresh", func(t *testing.T) {
		// A refresh on A moves the session's expiry; B, which cached the
		// old expiry, must accept the new token after the old expiry.
		_, c := user(t)
		cached(t, c.Token())
		clk.Advance(time.Hour)
		if _, err := c.RefreshToken(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Duration(config.Default().TokenTTL) - 30*time.Minute)
		tok := c.Token()
		eventually(t, b, "the refreshed session on replica B", func() bool {
			return checkStatus(t, b.client(), tok) == 200
		})
	})

	t.Run("connection lost", func(t *testing.T) {
		_, c := user(t)
		tok := c.Token()
		cached(t, tok)
		_, ups := b.Srv.Cache().Listening()
		if n := terminateListeners(t, dbURL); n < 2 {
			t.Fatalf("terminated %d listeners, want both replicas'", n)
		}
		// The logout's notification goes to nobody: B must not keep
		// answering from what it cached before.
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		refused(t, tok, 2207)
		eventually(t, b, "replica B listening again", func() bool {
			up, now := b.Srv.Cache().Listening()
			return up && now > ups
		})
		// Listening again, B caches and hears revocations as before.
		_, c = user(t)
		tok = c.Token()
		cached(t, tok)
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		refused(t, tok, 2207)
	})
}
