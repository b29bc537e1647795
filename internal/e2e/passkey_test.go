package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// registerPasskey registers email with a password, logs in and registers
// a passkey with auth; it returns the logged-in client, the key and the
// passkey as listed.
func registerPasskey(t *testing.T, in *instance, auth *softAuthenticator, email string) (*client.AuthenticationClient, *softKey, client.Passkey) {
	t.Helper()
	ctx := context.Background()
	c := in.client()
	must[*client.User](t)(c.RegisterByEmail(ctx, email, "passw0rd!", nil, nil))
	must[*client.User](t)(c.LoginByEmail(ctx, email, "passw0rd!", nil))
	opts := must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
	cred, k := auth.create(t, opts)
	p := must[*client.Passkey](t)(c.FinishPasskeyRegistration(ctx, "  Laptop  ", cred))
	return c, k, *p
}

func auditEvents(t *testing.T, in *instance, userID string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, e := range must[[]client.AuditEvent](t)(in.admin().ListAudit(context.Background(), "default", client.AuditQuery{UserID: userID})) {
		seen[e.Event]++
	}
	return seen
}

func webhookEvents(t *testing.T, in *instance) map[string]int {
	t.Helper()
	hooks := map[string]int{}
	for _, d := range must[[]client.Delivery](t)(in.admin().ListDeliveries(context.Background(), "default", client.DeliveryQuery{Limit: 1000})) {
		hooks[d.Type]++
	}
	return hooks
}

func TestPasskeyRegisterAndPasswordless(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		must[*client.WebhookSubscription](t)(in.admin().CreateWebhook(ctx, "default", client.CreateWebhookRequest{URL: "https://hooks.example.com/x", Events: []string{"*"}}))
		addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) {
				user.device = (context.request.factors || []).join("+") + "/" + context.request.method
				callback(null, user, context)
			}`)
		auth := newSoftAuthenticator(t, in)
		c, k, p := registerPasskey(t, in, auth, "pia@example.com")
		if p.ID == "" || p.Name != "Laptop" || p.SignCount != 0 || strings.Join(p.Transports, ",") != "internal,hybrid" ||
			p.BackupEligible || p.BackupState || !p.UserVerified || p.AAGUID != "00000000-0000-0000-0000-000000000000" || p.CreatedAt.IsZero() || !p.LastUsedAt.IsZero() {
			t.Fatalf("registered passkey: %+v", p)
		}
		uid := c.CurrentUser().ID

		// A registration's ceremony is spent: its answer does not register twice.
		in.Clock.Advance(time.Second) // listed oldest first
		opts := must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
		if !strings.Contains(string(opts), b64.EncodeToString(k.id)) {
			t.Fatalf("the registration options do not exclude the registered passkey: %s", opts)
		}
		cred2, k2 := auth.create(t, opts)
		must[*client.Passkey](t)(c.FinishPasskeyRegistration(ctx, "", cred2))
		ce := wantCode(t, errOf(c.FinishPasskeyRegistration(ctx, "again", cred2)), api.CodePasskeyInvalid)
		if ce.Reason != "passkey_ceremony_invalid" {
			t.Fatalf("replayed registration refused as %s", ce.Reason)
		}
		list := must[[]client.Passkey](t)(c.ListPasskeys(ctx))
		if len(list) != 2 || list[0].ID != p.ID || list[1].Name != "Passkey" {
			t.Fatalf("list: %+v", list)
		}

		// Passwordless: no identifier; the user handle names the user.
		before := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount
		pc := in.client()
		lopts := must[json.RawMessage](t)(pc.BeginPasskeyLogin(ctx))
		if strings.Contains(string(lopts), "allowCredentials") || !strings.Contains(string(lopts), `"userVerification":"required"`) {
			t.Fatalf("passwordless options: %s", lopts)
		}
		answer := auth.get(t, lopts, k)
		u := must[*client.User](t)(pc.LoginByPasskey(ctx, answer, nil))
		if u.ID != uid || u.Token == "" || pc.Token() != u.Token || u.LoginsCount != before+1 || u.Device != "passkey/passkey" {
			t.Fatalf("passwordless login: id %s (want %s), token %t, count %d (was %d), pipeline saw %q", u.ID, uid, u.Token != "", u.LoginsCount, before, u.Device)
		}
		must[*client.User](t)(pc.GetCurrentUser(ctx))
		// The same answer again: its ceremony is spent.
		ce = wantCode(t, errOf(in.client().LoginByPasskey(ctx, answer, nil)), api.CodePasskeyInvalid)
		if ce.Reason != "passkey_ceremony_invalid" {
			t.Fatalf("replayed sign-in refused as %s", ce.Reason)
		}
		list = must[[]client.Passkey](t)(c.ListPasskeys(ctx))
		if list[0].SignCount != 1 || list[0].LastUsedAt.IsZero() {
			t.Fatalf("after use: %+v", list[0])
		}

		// What a client controls, at its worst.
		bad := func(name string, as func(opts json.RawMessage) json.RawMessage, code int) {
			t.Helper()
			lopts := must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
			_, err := in.client().LoginByPasskey(ctx, as(lopts), nil)
			if err == nil {
				t.Fatalf("%s: signed in", name)
			}
			wantCode(t, err, code)
		}
		bad("tampered signature", func(o json.RawMessage) json.RawMessage {
			return auth.getWith(t, o, k, assertion{count: k.count + 1, tamper: true})
		}, api.CodePasskeyInvalid)
		bad("another origin", func(o json.RawMessage) json.RawMessage {
			return auth.getWith(t, o, k, assertion{count: k.count + 1, origin: "http://evil.localhost:1"})
		}, api.CodePasskeyInvalid)
		bad("another user's handle", func(o json.RawMessage) json.RawMessage {
			return auth.getWith(t, o, k, assertion{count: k.count + 1, handle: []byte("somebody-else")})
		}, api.CodePasskeyInvalid)
		bad("user not verified", func(o json.RawMessage) json.RawMessage {
			return auth.getWith(t, o, k, assertion{count: k.count + 1, flags: flagUP})
		}, api.CodePasskeyInvalid)
		bad("a challenge never issued", func(o json.RawMessage) json.RawMessage {
			return auth.getWith(t, o, k, assertion{count: k.count + 1, challenge: b64.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
		}, api.CodePasskeyInvalid)
		bad("not JSON", func(json.RawMessage) json.RawMessage { return json.RawMessage(`"x"`) }, api.CodePasskeyInvalid)
		bad("too large", func(json.RawMessage) json.RawMessage {
			return json.RawMessage(`"` + strings.Repeat("a", 33<<10) + `"`)
		}, api.CodeInvalidArgument)
		// A registration answer is no sign-in answer (another purpose).
		ropts := must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
		rcred, _ := auth.create(t, ropts)
		wantCode(t, errOf(in.client().LoginByPasskey(ctx, rcred, nil)), api.CodePasskeyInvalid)
		// An expired ceremony.
		lopts = must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		in.Clock.Advance(5*time.Minute + time.Second)
		wantCode(t, errOf(in.client().LoginByPasskey(ctx, auth.get(t, lopts, k), nil)), api.CodePasskeyInvalid)

		// Counter regression: a cloned authenticator is refused, audited
		// and announced; the stored counter does not move.
		stored := must[[]client.Passkey](t)(c.ListPasskeys(ctx))[0].SignCount
		lopts = must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		ce = wantCode(t, errOf(in.client().LoginByPasskey(ctx, auth.getWith(t, lopts, k, assertion{count: 1}), nil)), api.CodePasskeyCloned)
		if ce.Reason != "passkey_cloned" {
			t.Fatalf("clone refused as %s", ce.Reason)
		}
		list = must[[]client.Passkey](t)(c.ListPasskeys(ctx))
		if list[0].SignCount != stored || stored != 1 {
			t.Fatalf("counter after a regression: %d, want %d (1)", list[0].SignCount, stored)
		}
		// The genuine authenticator still signs in.
		lopts = must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		must[*client.User](t)(in.client().LoginByPasskey(ctx, auth.get(t, lopts, k), nil))

		// Rename and remove, only one's own.
		list = must[[]client.Passkey](t)(c.RenamePasskey(ctx, p.ID, "Work laptop"))
		if list[0].Name != "Work laptop" {
			t.Fatalf("renamed: %+v", list[0])
		}
		wantCode(t, errOf(c.RenamePasskey(ctx, p.ID, strings.Repeat("x", 65))), api.CodeInvalidArgument)
		wantCode(t, errOf(c.RenamePasskey(ctx, p.ID, "tab\there")), api.CodeInvalidArgument)
		must[[]client.Passkey](t)(c.RenamePasskey(ctx, p.ID, strings.Repeat("名", 64)))
		other, _, _ := registerPasskey(t, in, auth, "oz@example.com")
		wantCode(t, errOf(other.RemovePasskey(ctx, p.ID)), api.CodeNotFound)
		wantCode(t, errOf(other.RenamePasskey(ctx, p.ID, "mine")), api.CodeNotFound)
		list = must[[]client.Passkey](t)(c.RemovePasskey(ctx, list[1].ID))
		if len(list) != 1 {
			t.Fatalf("after remove: %+v", list)
		}
		// A removed passkey signs in no more.
		lopts = must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		wantCode(t, errOf(in.client().LoginByPasskey(ctx, auth.get(t, lopts, k2), nil)), api.CodePasskeyInvalid)
		// Without a token: no passkey calls.
		wantCode(t, errOf(in.client().BeginPasskeyRegistration(ctx)), api.CodeNotLoggedIn)
		wantCode(t, errOf(in.client().ListPasskeys(ctx)), api.CodeNotLoggedIn)

		seen := auditEvents(t, in, uid)
		for _, ev := range []string{"mfa.enrol", "mfa.remove", "mfa.passkey_cloned", "mfa.passkey_renamed", "login.success", "login.failure"} {
			if seen[ev] == 0 {
				t.Errorf("no %s audit event in %v", ev, seen)
			}
		}
		in.settle(t)
		hooks := webhookEvents(t, in)
		for _, ev := range []string{api.EventUserMFAEnrolled, api.EventUserMFARemoved, api.EventUserPasskeyCloned, api.EventUserLogin, api.EventUserLoginFailed} {
			if hooks[ev] == 0 {
				t.Errorf("no %s webhook event in %v", ev, hooks)
			}
		}
	})
}

// TestPasskeyLimit: a user has at most auth.MaxPasskeys (20) passkeys.
func TestPasskeyLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		auth := newSoftAuthenticator(t, in)
		c, _, _ := registerPasskey(t, in, auth, "max@example.com")
		// Begun before the limit is reached, finished after: refused too.
		late := must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
		for range 19 {
			cred, _ := auth.create(t, must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx)))
			must[*client.Passkey](t)(c.FinishPasskeyRegistration(ctx, "", cred))
		}
		wantCode(t, errOf(c.BeginPasskeyRegistration(ctx)), api.CodeInvalidArgument)
		cred, _ := auth.create(t, late)
		wantCode(t, errOf(c.FinishPasskeyRegistration(ctx, "", cred)), api.CodeInvalidArgument)
		if n := len(must[[]client.Passkey](t)(c.ListPasskeys(ctx))); n != 20 {
			t.Fatalf("%d passkeys", n)
		}
	})
}

func TestPasskeyMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		auth := newSoftAuthenticator(t, in)
		auth.backup = true // a synced passkey
		c, k, _ := registerPasskey(t, in, auth, "max@example.com")
		uid := c.CurrentUser().ID
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		_ = st

		// The password now asks for the second factor, the passkey.
		ce, tok := mfaLogin(t, in, "max@example.com")
		if strings.Join(ce.MFAFactors(), ",") != "passkey" {
			t.Fatalf("factors %v", ce.MFAFactors())
		}
		mc := in.client()
		opts := must[json.RawMessage](t)(mc.BeginPasskeyMFA(ctx, tok))
		if !strings.Contains(string(opts), b64.EncodeToString(k.id)) {
			t.Fatalf("the MFA options do not list the user's passkey: %s", opts)
		}
		// Wrong answers count like wrong codes.
		for i := 1; i < api.MFAMaxAttempts; i++ {
			o := must[json.RawMessage](t)(mc.BeginPasskeyMFA(ctx, tok))
			ce := wantCode(t, errOf(mc.VerifyPasskeyMFA(ctx, tok, auth.getWith(t, o, k, assertion{count: k.count + 1, tamper: true}))), api.CodePasskeyInvalid)
			if left, _ := ce.Data["attemptsLeft"].(float64); int(left) != api.MFAMaxAttempts-i {
				t.Fatalf("attempt %d: attemptsLeft %v", i, ce.Data["attemptsLeft"])
			}
		}
		u := must[*client.User](t)(mc.VerifyPasskeyMFA(ctx, tok, auth.get(t, opts, k)))
		if u.ID != uid || mc.Token() == "" {
			t.Fatalf("MFA with a passkey: %+v", u)
		}
		wantCode(t, errOf(in.client().VerifyPasskeyMFA(ctx, tok, auth.get(t, opts, k))), api.CodeMFATokenInvalid)
		wantCode(t, errOf(in.client().BeginPasskeyMFA(ctx, tok)), api.CodeMFATokenInvalid)

		// The wrong answers above counted against the client's address as
		// wrong passwords do; the rest is about other things.
		in.withoutFailureDetection(t)
		// A passwordless sign-in needs no second factor: the passkey
		// verified its user.
		lopts := must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		must[*client.User](t)(in.client().LoginByPasskey(ctx, auth.get(t, lopts, k), nil))

		// A ceremony of another MFA token, or a passwordless one, does not
		// complete this token.
		_, tok2 := mfaLogin(t, in, "max@example.com")
		_, tok3 := mfaLogin(t, in, "max@example.com")
		o3 := must[json.RawMessage](t)(in.client().BeginPasskeyMFA(ctx, tok3))
		wantCode(t, errOf(in.client().VerifyPasskeyMFA(ctx, tok2, auth.get(t, o3, k))), api.CodePasskeyInvalid)
		lo := must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		wantCode(t, errOf(in.client().VerifyPasskeyMFA(ctx, tok2, auth.get(t, lo, k))), api.CodePasskeyInvalid)
		// Counter regression as a second factor.
		o2 := must[json.RawMessage](t)(in.client().BeginPasskeyMFA(ctx, tok2))
		wantCode(t, errOf(in.client().VerifyPasskeyMFA(ctx, tok2, auth.getWith(t, o2, k, assertion{count: 1}))), api.CodePasskeyCloned)
		// A user without a passkey cannot begin one.
		_, _, _ = enrolTOTP(t, in, "tom@example.com")
		_, ttok := mfaLogin(t, in, "tom@example.com")
		wantCode(t, errOf(in.client().BeginPasskeyMFA(ctx, ttok)), api.CodeMFANotEnrolled)

		// An administrator's reset removes the passkeys.
		must[*client.MFAReset](t)(in.admin().ResetUserMFA(ctx, "default", uid))
		lopts = must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		wantCode(t, errOf(in.client().LoginByPasskey(ctx, auth.get(t, lopts, k), nil)), api.CodePasskeyInvalid)
		seen := auditEvents(t, in, uid)
		if seen["mfa.success"] == 0 || seen["mfa.failure"] < api.MFAMaxAttempts-1 || seen["mfa.passkey_cloned"] == 0 {
			t.Errorf("audit: %v", seen)
		}
	})
}

// TestPasskeyRaces: two finishes of one ceremony sign in once; two
// completions of one MFA token (passkey, TOTP, SMS) make one session.
func TestPasskeyRaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil).withoutFailureDetection(t)
		setMFAPolicy(t, in, "optional")
		auth := newSoftAuthenticator(t, in)
		_, k, _ := registerPasskey(t, in, auth, "rae@example.com")
		const n = 8
		race := func(name string, call func(i int) error) {
			t.Helper()
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = call(i) })
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				}
			}
			if ok != 1 {
				t.Fatalf("%s: %d of %d racing calls succeeded: %v", name, ok, n, errs)
			}
		}
		lopts := must[json.RawMessage](t)(in.client().BeginPasskeyLogin(ctx))
		answer := auth.get(t, lopts, k)
		race("one passwordless answer", func(int) error { return errOf(in.client().LoginByPasskey(ctx, answer, nil)) })

		_, tok := mfaLogin(t, in, "rae@example.com")
		opts := must[json.RawMessage](t)(in.client().BeginPasskeyMFA(ctx, tok))
		answer = auth.get(t, opts, k)
		race("one passkey MFA answer", func(int) error { return errOf(in.client().VerifyPasskeyMFA(ctx, tok, answer)) })

		// Distinct ceremonies of one token, each with a valid answer.
		_, tok = mfaLogin(t, in, "rae@example.com")
		answers := make([]json.RawMessage, n)
		for i := range answers {
			answers[i] = auth.get(t, must[json.RawMessage](t)(in.client().BeginPasskeyMFA(ctx, tok)), k)
		}
		race("one MFA token, many passkey ceremonies", func(i int) error { return errOf(in.client().VerifyPasskeyMFA(ctx, tok, answers[i])) })

		secret, _, _ := enrolTOTP(t, in, "tia@example.com")
		_, tok = mfaLogin(t, in, "tia@example.com")
		code := totpNow(t, in, secret)
		race("one MFA token, one TOTP code", func(int) error { return errOf(in.client().VerifyTOTP(ctx, tok, code)) })

		phone := "+8613800138123"
		pc := in.client()
		must[*client.User](t)(pc.RegisterByPhoneCode(ctx, phone, sms(t, in, phone), "passw0rd!", nil, nil))
		must[*client.User](t)(pc.LoginByPhonePassword(ctx, phone, "passw0rd!", nil))
		must[*client.MFAStatus](t)(pc.EnableMFAFactor(ctx, api.FactorSMS))
		in.Clock.Advance(61 * time.Second)
		_, err := in.client().LoginByPhonePassword(ctx, phone, "passw0rd!", nil)
		tok = client.MFAToken(err)
		if tok == "" {
			t.Fatalf("phone login: %v", err)
		}
		code = sms(t, in, phone)
		race("one MFA token, one SMS code", func(int) error { return errOf(in.client().VerifySmsMFA(ctx, tok, code)) })
	})
}

// TestAuthingMFAAuthenticatorsList: getMfaAuthenticators lists every
// factor that maps onto Authing's authenticators (it listed TOTP only):
// TOTP, SMS and email factors, and each passkey as "webauthn", for the
// user's token and for the MFA token of a login in progress; ?type=
// filters.
func TestAuthingMFAAuthenticatorsList(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		auth := newSoftAuthenticator(t, in)
		_, _, _, c := enrolTOTPClient(t, in, "ada@example.com")
		opts := must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx))
		cred, _ := auth.create(t, opts)
		pk := must[*client.Passkey](t)(c.FinishPasskeyRegistration(ctx, "Key", cred))
		if err := c.SendEmail(ctx, "ada@example.com", "VERIFY_EMAIL"); err != nil {
			t.Fatal(err)
		}
		in.settle(t)
		if err := c.VerifyEmail(ctx, "ada@example.com", in.Outbox.code(t, "ada@example.com")); err != nil {
			t.Fatal(err)
		}
		must[*client.MFAStatus](t)(c.EnableMFAFactor(ctx, api.FactorEmail))

		type authenticator struct {
			ID, AuthenticatorType string
		}
		list := func(tok, typ string) []authenticator {
			t.Helper()
			path := "/api/v2/mfa/authenticator"
			if typ != "" {
				path += "?type=" + typ
			}
			a := in.authing(t).rest("GET", path, nil, tok)
			if a.Code != 200 {
				t.Fatalf("list: %s", a.Raw)
			}
			var out []authenticator
			if err := json.Unmarshal(a.Data, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		got := list(c.Token(), "")
		kinds := []string{}
		for _, a := range got {
			kinds = append(kinds, a.AuthenticatorType+":"+a.ID)
		}
		if strings.Join(kinds, ",") != "totp:totp,email:email,webauthn:"+pk.ID {
			t.Fatalf("authenticators: %v", kinds)
		}
		_, tok := mfaLogin(t, in, "ada@example.com")
		if got := list(tok, "webauthn"); len(got) != 1 || got[0].ID != pk.ID {
			t.Fatalf("with the MFA token, type webauthn: %+v", got)
		}
		if got := list(tok, "totp"); len(got) != 1 || got[0].ID != "totp" {
			t.Fatalf("type totp: %+v", got)
		}
	})
}
