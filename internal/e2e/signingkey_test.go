package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/token"
)

// keyConfig is adminConfig with tokens that live two hours, so that a
// previous key retires within the test's clock moves.
func keyConfig(dbURL string) config.Config {
	cfg := adminConfig(dbURL)
	cfg.TokenTTL = config.Duration(2 * time.Hour)
	return cfg
}

// tokenKid is the kid in a JWT's header.
func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// jwksKids lists the kids the server publishes, in order.
func (in *instance) jwksKids(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(in.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

// loginToken logs the user in and returns the new token.
func loginToken(t *testing.T, c *client.AuthenticationClient, email string) string {
	t.Helper()
	u, err := c.LoginByEmail(context.Background(), email, "passw0rd!", nil)
	if err != nil {
		t.Fatal(err)
	}
	return u.Token
}

// checkStatus is CheckLoginStatus's code (200 when the token is good).
func checkStatus(t *testing.T, c *client.AuthenticationClient, tok string) int {
	t.Helper()
	st, err := c.CheckLoginStatus(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status {
		return 200
	}
	return st.Code
}

func keyByKid(t *testing.T, keys []client.SigningKey, kid string) client.SigningKey {
	t.Helper()
	for _, k := range keys {
		if k.Kid == kid {
			return k
		}
	}
	t.Fatalf("no key %q in %+v", kid, keys)
	return client.SigningKey{}
}

// TestSigningKeyRotation follows one rotation through the SDK: the new
// key is in the JWKS at once but signs only once the lead time passed;
// tokens of the old key verify until they expire; the old key leaves the
// JWKS at its retirement and is then listed as retired.
func TestSigningKeyRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, keyConfig(dbURL), nil)
		mc, c := in.admin(), in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "rot@example.com", "passw0rd!", nil, nil))
		first := loginToken(t, c, "rot@example.com")
		oldKid := tokenKid(t, first)

		keys := must[[]client.SigningKey](t)(mc.ListSigningKeys(ctx))
		if len(keys) != 1 || keys[0].Kid != oldKid || keys[0].State != client.KeyCurrent || keys[0].Algorithm != "RS256" || keys[0].RetiresAt != nil {
			t.Fatalf("keys before rotating: %+v", keys)
		}
		rotatedAt := in.Clock.Now()
		k := must[*client.SigningKey](t)(mc.RotateSigningKey(ctx))
		if k.State != client.KeyNext || k.Kid == oldKid || !k.SignsFrom.Equal(rotatedAt.Add(time.Hour)) || !k.CreatedAt.Equal(rotatedAt) {
			t.Fatalf("RotateSigningKey = %+v; want a next key signing from %v (default lead time 1h)", k, rotatedAt.Add(time.Hour))
		}
		newKid := k.Kid
		if got := in.jwksKids(t); !slices.Equal(got, []string{oldKid, newKid}) {
			t.Fatalf("JWKS after rotating = %v; want [old, new]", got)
		}
		_, err := mc.RotateSigningKey(ctx)
		wantCode(t, err, api.CodeKeyRotationPending)

		// Within the lead time the old key signs.
		in.Clock.Advance(time.Hour - time.Second)
		lastOld := loginToken(t, c, "rot@example.com")
		if kid := tokenKid(t, lastOld); kid != oldKid {
			t.Fatalf("a second before the lead time passed, signed by %q; want the old key", kid)
		}
		in.Clock.Advance(time.Second)
		fresh := loginToken(t, c, "rot@example.com")
		if kid := tokenKid(t, fresh); kid != newKid {
			t.Fatalf("once the lead time passed, signed by %q; want the new key", kid)
		}
		if got := in.jwksKids(t); !slices.Equal(got, []string{newKid, oldKid}) {
			t.Fatalf("JWKS once the new key signs = %v; want [new, old]", got)
		}
		for name, tok := range map[string]string{"first": first, "last of the old key": lastOld, "new": fresh} {
			if code := checkStatus(t, c, tok); code != 200 {
				t.Fatalf("%s token after the switch: code %d", name, code)
			}
		}
		keys = must[[]client.SigningKey](t)(mc.ListSigningKeys(ctx))
		old := keyByKid(t, keys, oldKid)
		if old.State != client.KeyPrevious || old.RetiresAt == nil || keyByKid(t, keys, newKid).State != client.KeyCurrent {
			t.Fatalf("keys after the switch: %+v", keys)
		}
		lastExp := rotatedAt.Add(time.Hour - time.Second + 2*time.Hour)
		if old.RetiresAt.Before(lastExp.Add(token.RetireGrace)) {
			t.Fatalf("old key retires at %v, before its last token expires (%v) plus the grace", old.RetiresAt, lastExp)
		}

		// The old key's last token verifies until it expires.
		in.Clock.Advance(lastExp.Sub(in.Clock.Now()) - time.Second)
		if code := checkStatus(t, c, lastOld); code != 200 {
			t.Fatalf("last old-key token a second before its expiry: code %d", code)
		}
		in.Clock.Advance(time.Second)
		if code := checkStatus(t, c, lastOld); code != api.CodeTokenExpired {
			t.Fatalf("last old-key token at its expiry: code %d; want 2206", code)
		}
		// Published up to the retirement, gone from it on.
		in.Clock.Advance(old.RetiresAt.Sub(in.Clock.Now()) - time.Second)
		if got := in.jwksKids(t); !slices.Equal(got, []string{newKid, oldKid}) {
			t.Fatalf("JWKS a second before the retirement = %v", got)
		}
		in.Clock.Advance(time.Second)
		if got := in.jwksKids(t); !slices.Equal(got, []string{newKid}) {
			t.Fatalf("JWKS at the retirement = %v; want only the new key", got)
		}
		if code := checkStatus(t, c, lastOld); code != api.CodeTokenInvalid {
			t.Fatalf("old-key token after the retirement: code %d; want 2207 (key unknown)", code)
		}
		if code := checkStatus(t, c, loginToken(t, c, "rot@example.com")); code != 200 {
			t.Fatalf("new token after the retirement: code %d", code)
		}
		in.Srv.MaintainKeys(ctx)
		keys = must[[]client.SigningKey](t)(mc.ListSigningKeys(ctx))
		// Listed as retired at the upkeep's time (the clock has not moved).
		if old := keyByKid(t, keys, oldKid); old.State != client.KeyRetired || old.RetiresAt == nil || !old.RetiresAt.Equal(in.Clock.Now()) {
			t.Fatalf("keys after the upkeep: %+v", keys)
		}
		// The store erased the retired key's private half.
		stored, err := in.Srv.Store().SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sk := range stored {
			if sk.ID == oldKid && (sk.RetiredAt.IsZero() || len(sk.PrivatePEM) != 0) {
				t.Fatalf("retired key stored as retired %v with %d bytes of private key", sk.RetiredAt, len(sk.PrivatePEM))
			}
		}
		// The rotation is in the default pool's audit log.
		events := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.signing_key.rotate"}))
		if len(events) != 1 || events[0].Detail["kid"] != newKid {
			t.Fatalf("audit events: %+v", events)
		}
	})
}

// TestSigningKeysTwoServers: two servers on one database agree on the
// keys. A key rotated in through one is published by the other within
// token.RefreshInterval, both switch to it when its lead time passes, and
// each verifies the other's tokens.
func TestSigningKeysTwoServers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		a := start(t, keyConfig(dbURL), nil)
		b := start(t, keyConfig(dbURL), a.Clock)
		ca, cb := a.client(), b.client()
		must[*client.User](t)(ca.RegisterByEmail(ctx, "two@example.com", "passw0rd!", nil, nil))
		oldKid := tokenKid(t, loginToken(t, cb, "two@example.com"))
		if ka, kb := a.jwksKids(t), b.jwksKids(t); !slices.Equal(ka, []string{oldKid}) || !slices.Equal(kb, ka) {
			t.Fatalf("JWKS at start: a %v, b %v", ka, kb)
		}
		k := must[*client.SigningKey](t)(a.admin().RotateSigningKey(ctx))
		if got := a.jwksKids(t); !slices.Equal(got, []string{oldKid, k.Kid}) {
			t.Fatalf("a's JWKS after rotating = %v", got)
		}
		a.Clock.Advance(token.RefreshInterval)
		if got := b.jwksKids(t); !slices.Equal(got, []string{oldKid, k.Kid}) {
			t.Fatalf("b's JWKS a refresh interval after a rotated = %v; want both keys", got)
		}
		// b lists what a rotated in.
		if keys := must[[]client.SigningKey](t)(b.admin().ListSigningKeys(ctx)); len(keys) != 2 || keyByKid(t, keys, k.Kid).State != client.KeyNext {
			t.Fatalf("b lists %+v", keys)
		}
		a.Clock.Advance(k.SignsFrom.Sub(a.Clock.Now()))
		ta, tb := loginToken(t, ca, "two@example.com"), loginToken(t, cb, "two@example.com")
		if tokenKid(t, ta) != k.Kid || tokenKid(t, tb) != k.Kid {
			t.Fatalf("at the new key's start a signs with %q, b with %q; want %q", tokenKid(t, ta), tokenKid(t, tb), k.Kid)
		}
		if checkStatus(t, ca, tb) != 200 || checkStatus(t, cb, ta) != 200 {
			t.Fatal("a server refused the other's token")
		}
	})
}

// TestSigningKeyAutomaticRotation: with AUTHPOOL_SIGNING_KEY_ROTATION set,
// two servers on one database running their upkeep at once when the
// current key is due store exactly one new key.
func TestSigningKeyAutomaticRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := keyConfig(dbURL)
		cfg.SigningKeyRotation = config.Duration(24 * time.Hour)
		a := start(t, cfg, nil)
		b := start(t, cfg, a.Clock)
		a.Srv.MaintainKeys(ctx)
		if n := len(must[[]client.SigningKey](t)(a.admin().ListSigningKeys(ctx))); n != 1 {
			t.Fatalf("%d keys before the interval", n)
		}
		a.Clock.Advance(24 * time.Hour)
		for range 3 {
			var wg sync.WaitGroup
			wg.Go(func() { a.Srv.MaintainKeys(ctx) })
			wg.Go(func() { b.Srv.MaintainKeys(ctx) })
			wg.Wait()
		}
		keys := must[[]client.SigningKey](t)(b.admin().ListSigningKeys(ctx))
		if len(keys) != 2 || keys[0].State != client.KeyCurrent || keys[1].State != client.KeyNext ||
			!keys[1].SignsFrom.Equal(a.Clock.Now().Add(time.Hour)) {
			t.Fatalf("keys after concurrent upkeep: %+v; want the old current key and one next key", keys)
		}
	})
}

// TestSigningKeysBadInput: the key routes need the administrator key (an
// end user's token is refused), take no parameters, and never show
// private material.
func TestSigningKeysBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, keyConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "bad@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		cases := []struct {
			name, method, path, body, bearer string
			status, code                     int
		}{
			{"list without key", "GET", "/api/v1/admin/keys", ``, "", 401, 1401},
			{"rotate without key", "POST", "/api/v1/admin/keys/rotate", ``, "", 401, 1401},
			{"rotate with a user's token", "POST", "/api/v1/admin/keys/rotate", ``, u.Token, 401, 1401},
			{"rotate with a wrong key", "POST", "/api/v1/admin/keys/rotate", ``, testAdminKey + "x", 401, 1401},
			{"rotate asking for no lead time", "POST", "/api/v1/admin/keys/rotate", `{"leadTime": "0s"}`, testAdminKey, 400, 1001},
			{"rotate with a key to import", "POST", "/api/v1/admin/keys/rotate", `{"privatePem": "-----BEGIN PRIVATE KEY-----"}`, testAdminKey, 400, 1001},
			{"rotate broken JSON", "POST", "/api/v1/admin/keys/rotate", `{`, testAdminKey, 400, 1001},
			{"rotate huge body", "POST", "/api/v1/admin/keys/rotate", `{"x": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, testAdminKey, 413, 1002},
			{"rotate by GET", "GET", "/api/v1/admin/keys/rotate", ``, testAdminKey, 405, 1007},
			{"list by POST", "POST", "/api/v1/admin/keys", `{}`, testAdminKey, 405, 1007},
			{"delete a key", "DELETE", "/api/v1/admin/keys", ``, testAdminKey, 405, 1007},
			{"one key by kid", "GET", "/api/v1/admin/keys/" + strings.Repeat("k", 300), ``, testAdminKey, 404, 1004},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(tc.method, in.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				if tc.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+tc.bearer)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var eb api.ErrorBody
				if resp.StatusCode != tc.status || json.Unmarshal(raw, &eb) != nil || eb.Code != tc.code || eb.Message == "" {
					t.Fatalf("%d %.300s, want %d code %d", resp.StatusCode, raw, tc.status, tc.code)
				}
			})
		}
		// Nothing was rotated.
		keys := must[[]client.SigningKey](t)(in.admin().ListSigningKeys(ctx))
		if len(keys) != 1 {
			t.Fatalf("bad input rotated: %+v", keys)
		}
		// `{}` is an empty request, as good as none.
		req, _ := http.NewRequest("POST", in.URL+"/api/v1/admin/keys/rotate", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("rotate with {}: %d", resp.StatusCode)
		}
		// The list shows no private material, in any spelling.
		req, _ = http.NewRequest("GET", in.URL+"/api/v1/admin/keys", nil)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var generic struct{ Keys []map[string]any }
		if err := json.Unmarshal(raw, &generic); err != nil || len(generic.Keys) != 2 {
			t.Fatalf("list: %v %s", err, raw)
		}
		for _, k := range generic.Keys {
			for f := range k {
				if !slices.Contains([]string{"kid", "algorithm", "state", "createdAt", "signsFrom", "retiresAt"}, f) {
					t.Errorf("key listed with field %q: %s", f, raw)
				}
			}
		}
		if strings.Contains(string(raw), "PRIVATE") {
			t.Fatalf("list shows a PEM: %s", raw)
		}
	})
}
