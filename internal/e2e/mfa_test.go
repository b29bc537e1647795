package e2e

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/mfa"
)

// setMFAPolicy sets the default pool's MFA policy through the admin API.
func setMFAPolicy(t *testing.T, in *instance, policy string) {
	t.Helper()
	if _, err := in.admin().UpdatePool(context.Background(), "default", client.UpdatePoolRequest{Settings: map[string]any{"mfaPolicy": policy}}); err != nil {
		t.Fatalf("set mfaPolicy=%s: %v", policy, err)
	}
}

// totpNow is the code of secret at the server's (test) clock.
func totpNow(t testing.TB, in *instance, secret string) string {
	t.Helper()
	code, err := mfa.Code(secret, mfa.Step(in.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP registers email with a password, logs in and enrols TOTP; it
// returns the secret and the recovery codes.
func enrolTOTP(t *testing.T, in *instance, email string) (secret string, recovery []string, userID string) {
	t.Helper()
	secret, recovery, userID, _ = enrolTOTPClient(t, in, email)
	return
}

// enrolTOTPClient is enrolTOTP that also returns the logged-in client.
func enrolTOTPClient(t *testing.T, in *instance, email string) (secret string, recovery []string, userID string, c *client.AuthenticationClient) {
	t.Helper()
	ctx := context.Background()
	c = in.client()
	u := must[*client.User](t)(c.RegisterByEmail(ctx, email, "passw0rd!", nil, nil))
	must[*client.User](t)(c.LoginByEmail(ctx, email, "passw0rd!", nil))
	e := must[*client.TOTPEnrolment](t)(c.EnrolTOTP(ctx, ""))
	if !strings.HasPrefix(e.URI, "otpauth://totp/") || !strings.HasPrefix(e.QRCode, "data:image/png;base64,") || len(e.Secret) != 32 {
		t.Fatalf("enrolment: %+v", e)
	}
	// Not active before its first code: the next login asks nothing.
	if _, err := in.client().LoginByEmail(ctx, email, "passw0rd!", nil); err != nil {
		t.Fatalf("login with an unconfirmed TOTP: %v", err)
	}
	_, err := c.ConfirmTOTP(ctx, "", "000000")
	if totpNow(t, in, e.Secret) != "000000" {
		wantCode(t, err, api.CodeMFAWrongCode)
	}
	conf := must[*client.TOTPConfirmation](t)(c.ConfirmTOTP(ctx, "", totpNow(t, in, e.Secret)))
	if len(e.RecoveryCodes) != 10 || !conf.Confirmed || conf.User != nil {
		t.Fatalf("enrolment %d codes, confirmation: %+v", len(e.RecoveryCodes), conf)
	}
	// The confirming code's step is used: the next code is a step later.
	in.Clock.Advance(30 * time.Second)
	return e.Secret, e.RecoveryCodes, u.ID, c
}

// mfaLogin logs in by password and expects the 1635 answer.
func mfaLogin(t *testing.T, in *instance, email string) (*client.Error, string) {
	t.Helper()
	_, err := in.client().LoginByEmail(context.Background(), email, "passw0rd!", nil)
	ce := wantCode(t, err, api.CodeMFARequired)
	tok := client.MFAToken(err)
	if tok == "" || ce.MFAToken() != tok {
		t.Fatalf("no MFA token in %+v", ce)
	}
	return ce, tok
}

func TestMFATOTPLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		must[*client.WebhookSubscription](t)(in.admin().CreateWebhook(ctx, "default", client.CreateWebhookRequest{URL: "https://hooks.example.com/x", Events: []string{"*"}}))
		addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) {
				user.device = (context.request.factors || []).join("+")
				callback(null, user, context)
			}`)
		secret, _, uid := enrolTOTP(t, in, "mia@example.com")

		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if len(st.Factors) != 1 || st.Factors[0].Kind != "totp" || !st.Factors[0].Confirmed || st.RecoveryCodesLeft != 10 {
			t.Fatalf("admin view: %+v", st)
		}

		before := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount
		ce, tok := mfaLogin(t, in, "mia@example.com")
		if got := ce.MFAFactors(); strings.Join(got, ",") != "totp,recovery" || ce.MFAEnrolmentRequired() {
			t.Fatalf("factors %v, enrolment %v", got, ce.MFAEnrolmentRequired())
		}
		if after := must[*client.User](t)(in.admin().GetUser(ctx, "default", uid)).LoginsCount; after != before {
			t.Fatalf("the first factor alone counted a login: %d -> %d", before, after)
		}
		c := in.client()
		// The code that confirmed the enrolment (a step ago, still in the
		// window) is refused: no replay.
		in.Clock.Advance(-30 * time.Second)
		used := totpNow(t, in, secret)
		in.Clock.Advance(30 * time.Second)
		ce = wantCode(t, errOf(c.VerifyTOTP(ctx, tok, used)), api.CodeMFAWrongCode)
		if ce.Reason != "code_reused" {
			t.Fatalf("replay refused as %s", ce.Reason)
		}
		u := must[*client.User](t)(c.VerifyTOTP(ctx, tok, totpNow(t, in, secret)))
		if u.Token == "" || c.Token() != u.Token || u.LoginsCount != before+1 || u.Device != "email+totp" {
			t.Fatalf("completed login: token %t, count %d (was %d), factors seen by the pipeline %q", u.Token != "", u.LoginsCount, before, u.Device)
		}
		must[*client.User](t)(c.GetCurrentUser(ctx))
		// The token completed one login: not a second.
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok, totpNow(t, in, secret))), api.CodeMFATokenInvalid)
		// Same code again on a new token: replay.
		_, tok2 := mfaLogin(t, in, "mia@example.com")
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok2, totpNow(t, in, secret))), api.CodeMFAWrongCode)

		// The token expires.
		in.Clock.Advance(6 * time.Minute)
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok2, totpNow(t, in, secret))), api.CodeMFATokenInvalid)

		audit, err := in.admin().ListAudit(ctx, "default", client.AuditQuery{UserID: uid})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range audit {
			seen[e.Event] = true
		}
		for _, ev := range []string{"mfa.enrol", "mfa.challenge", "mfa.success", "mfa.failure"} {
			if !seen[ev] {
				t.Errorf("no %s audit event in %v", ev, seen)
			}
		}
		hooks := map[string]int{}
		for _, d := range must[[]client.Delivery](t)(in.admin().ListDeliveries(ctx, "default", client.DeliveryQuery{Limit: 1000})) {
			hooks[d.Type]++
		}
		for _, ev := range []string{api.EventUserMFAEnrolled, api.EventUserMFAVerified, api.EventUserMFAFailed} {
			if hooks[ev] == 0 {
				t.Errorf("no %s webhook event in %v", ev, hooks)
			}
		}
		// One completed login, one user.login (the first factor alone made none).
		if hooks[api.EventUserLogin] != 3 || hooks[api.EventUserMFAVerified] != 1 {
			t.Errorf("user.login %d (want 3: the two of enrolTOTP and the completed one), user.mfa_verified %d", hooks[api.EventUserLogin], hooks[api.EventUserMFAVerified])
		}
	})
}

func errOf[T any](_ T, err error) error { return err }

func TestMFAWrongCodesKillToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, _ := enrolTOTP(t, in, "kim@example.com")
		_, tok := mfaLogin(t, in, "kim@example.com")
		right := totpNow(t, in, secret)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		c := in.client()
		for i := 1; i <= api.MFAMaxAttempts; i++ {
			ce := wantCode(t, errOf(c.VerifyTOTP(ctx, tok, wrong)), api.CodeMFAWrongCode)
			if left, _ := ce.Data["attemptsLeft"].(float64); int(left) != api.MFAMaxAttempts-i {
				t.Fatalf("attempt %d: attemptsLeft %v", i, ce.Data["attemptsLeft"])
			}
		}
		// Dead: even the right code is refused.
		wantCode(t, errOf(c.VerifyTOTP(ctx, tok, right)), api.CodeMFATokenInvalid)
		// The five wrong second factors count against the account as wrong
		// passwords do (TestMFAWrongFactorsCountAgainstTheAccount): the next
		// password step demands a CAPTCHA.
		_, err := c.LoginByEmail(ctx, "kim@example.com", "passw0rd!", nil)
		wantCode(t, err, api.CodeCaptchaRequired)
		// Without failure detection a fresh login gets a fresh token; four
		// wrong and a right one pass.
		in.withoutFailureDetection(t)
		_, tok = mfaLogin(t, in, "kim@example.com")
		for range api.MFAMaxAttempts - 1 {
			wantCode(t, errOf(c.VerifyTOTP(ctx, tok, wrong)), api.CodeMFAWrongCode)
		}
		must[*client.User](t)(c.VerifyTOTP(ctx, tok, right))
	})
}

func TestMFARecoveryCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		_, codes, uid := enrolTOTP(t, in, "rey@example.com")

		_, tok := mfaLogin(t, in, "rey@example.com")
		// Typed in capitals without the dash: the same code.
		u := must[*client.User](t)(in.client().VerifyRecoveryCode(ctx, tok, strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))))
		if u.Token == "" {
			t.Fatal("no token")
		}
		_, tok = mfaLogin(t, in, "rey@example.com")
		wantCode(t, errOf(in.client().VerifyRecoveryCode(ctx, tok, codes[0])), api.CodeMFAWrongCode)

		// Two uses of one code at once: one success.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			_, tok := mfaLogin(t, in, "rey@example.com")
			wg.Go(func() { _, errs[i] = in.client().VerifyRecoveryCode(ctx, tok, codes[1]) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("two uses of one recovery code: %v / %v", errs[0], errs[1])
		}
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if st.RecoveryCodesLeft != 8 {
			t.Fatalf("%d codes left, want 8", st.RecoveryCodesLeft)
		}

		// Two completions of one MFA token at once (two different codes,
		// both right): one session.
		revoked := must[int](t)(in.admin().RevokeUserSessions(ctx, "default", uid))
		_ = revoked
		_, tok = mfaLogin(t, in, "rey@example.com")
		for i := range errs {
			wg.Go(func() { _, errs[i] = in.client().VerifyRecoveryCode(ctx, tok, codes[2+i]) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("two completions of one MFA token: %v / %v", errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantCode(t, err, api.CodeMFATokenInvalid)
			}
		}
		if s := must[[]client.Session](t)(in.admin().ListUserSessions(ctx, "default", uid)); len(s) != 1 {
			t.Fatalf("%d sessions from one MFA token", len(s))
		}
		// The losing completion's code was not spent (its write rolled back).
		if st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid)); st.RecoveryCodesLeft != 7 {
			t.Fatalf("%d codes left, want 7", st.RecoveryCodesLeft)
		}

		// Regenerated: the old codes are gone.
		c := in.client()
		must[*client.User](t)(c.VerifyRecoveryCode(ctx, func() string { _, tk := mfaLogin(t, in, "rey@example.com"); return tk }(), codes[5]))
		fresh := must[[]string](t)(c.RegenerateRecoveryCodes(ctx))
		if len(fresh) != 10 {
			t.Fatalf("%d new codes", len(fresh))
		}
		_, tok = mfaLogin(t, in, "rey@example.com")
		wantCode(t, errOf(in.client().VerifyRecoveryCode(ctx, tok, codes[6])), api.CodeMFAWrongCode)
		must[*client.User](t)(in.client().VerifyRecoveryCode(ctx, tok, fresh[0]))

		audit := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{UserID: uid, Event: "mfa.recovery_used"}))
		if len(audit) != 5 {
			t.Fatalf("%d mfa.recovery_used audit events, want 5", len(audit))
		}
	})
}

func TestMFARequiredForcesEnrolment(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "required")
		c := in.client()
		// Registration with a token is a sign-in: enrolment first.
		_, err := c.RegisterByEmail(ctx, "neo@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true})
		ce := wantCode(t, err, api.CodeMFARequired)
		if !ce.MFAEnrolmentRequired() || len(ce.MFAFactors()) != 0 {
			t.Fatalf("1635 without enrolment: %+v", ce.Data)
		}
		_, tok := mfaLogin(t, in, "neo@example.com")
		// No factor to pass, no token to be had.
		wantCode(t, errOf(c.VerifyTOTP(ctx, tok, "123456")), api.CodeMFANotEnrolled)
		wantCode(t, errOf(c.ConfirmTOTP(ctx, tok, "123456")), api.CodeMFANotEnrolled)
		e := must[*client.TOTPEnrolment](t)(c.EnrolTOTP(ctx, tok))
		conf := must[*client.TOTPConfirmation](t)(c.ConfirmTOTP(ctx, tok, totpNow(t, in, e.Secret)))
		if conf.User == nil || conf.User.Token == "" || c.Token() != conf.User.Token || len(e.RecoveryCodes) != 10 {
			t.Fatalf("enrolment did not complete the login: %+v", conf)
		}
		// The token of that login cannot enrol again.
		wantCode(t, errOf(in.client().EnrolTOTP(ctx, tok)), api.CodeMFATokenInvalid)
		// Once enrolled, a new MFA token cannot add a factor beside it.
		_, tok = mfaLogin(t, in, "neo@example.com")
		wantCode(t, errOf(in.client().EnrolTOTP(ctx, tok)), api.CodeMFAAlreadyEnrolled)
		if c.Token() == "" {
			t.Fatal("lost token")
		}

		// autoRegister: the new account must enrol too.
		_, err = in.client().LoginByEmail(ctx, "ava@example.com", "passw0rd!", &client.LoginOptions{AutoRegister: true})
		if ce := wantCode(t, err, api.CodeMFARequired); !ce.MFAEnrolmentRequired() {
			t.Fatalf("autoRegister: %+v", ce.Data)
		}
	})
}

func TestMFASMSFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), "passw0rd!", nil, nil))
		in.Clock.Advance(61 * time.Second)
		must[*client.User](t)(c.LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil))
		wantCode(t, errOf(c.EnableMFAFactor(ctx, "email")), 2219) // no verified email
		st := must[*client.MFAStatus](t)(c.EnableMFAFactor(ctx, "sms"))
		if len(st.Factors) != 1 || st.Factors[0].Kind != "sms" {
			t.Fatalf("factors %+v", st)
		}
		setMFAPolicy(t, in, "optional")

		_, err := in.client().LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil)
		ce := wantCode(t, err, api.CodeMFARequired)
		if strings.Join(ce.MFAFactors(), ",") != "sms" {
			t.Fatalf("factors %v", ce.MFAFactors())
		}
		tok := ce.MFAToken()
		// TOTP is not enrolled.
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok, "123456")), api.CodeMFANotEnrolled)
		wantCode(t, errOf(in.client().VerifySmsMFA(ctx, tok, "12345x")), 2001)
		u := must[*client.User](t)(in.client().VerifySmsMFA(ctx, tok, sms(t, in, cnPhone)))
		if u.Token == "" {
			t.Fatal("no token")
		}
		// A code login is a first factor too.
		in.Clock.Advance(61 * time.Second)
		_, err = in.client().LoginByPhoneCode(ctx, cnPhone, sms(t, in, cnPhone), nil)
		wantCode(t, err, api.CodeMFARequired)

		// Removing the factor: logins ask nothing again.
		must[*client.MFAStatus](t)(c.RemoveMFAFactor(ctx, "sms"))
		wantCode(t, errOf(c.RemoveMFAFactor(ctx, "sms")), api.CodeMFANotEnrolled)
		wantCode(t, errOf(c.RemoveMFAFactor(ctx, "recovery")), 1003)
		must[*client.User](t)(in.client().LoginByPhonePassword(ctx, cnPhone, "passw0rd!", nil))
	})
}

func TestMFAEmailFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "eve@example.com", "passw0rd!", nil, nil))
		verified := true
		must[*client.User](t)(in.admin().UpdateUser(ctx, "default", u.ID, client.UpdateUserRequest{EmailVerified: &verified}))
		must[*client.User](t)(c.LoginByEmail(ctx, "eve@example.com", "passw0rd!", nil))
		must[*client.MFAStatus](t)(c.EnableMFAFactor(ctx, "email"))
		setMFAPolicy(t, in, "optional")
		_, tok := mfaLogin(t, in, "eve@example.com")
		if err := in.client().SendEmail(ctx, "eve@example.com", "MFA_VERIFY"); err != nil {
			t.Fatal(err)
		}
		in.settle(t)
		code := in.Outbox.code(t, "eve@example.com")
		must[*client.User](t)(in.client().VerifyEmailMFA(ctx, tok, code))
	})
}

func TestMFAAdminResetAndRequire(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, uid := enrolTOTP(t, in, "max@example.com")
		_, tok := mfaLogin(t, in, "max@example.com")
		c := in.client()
		must[*client.User](t)(c.VerifyTOTP(ctx, tok, totpNow(t, in, secret)))

		r := must[*client.MFAReset](t)(in.admin().ResetUserMFA(ctx, "default", uid))
		if r.FactorsRemoved != 1 || r.SessionsRevoked < 1 {
			t.Fatalf("reset: %+v", r)
		}
		wantCode(t, errOf(c.GetCurrentUser(ctx)), 2207)
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if len(st.Factors) != 0 || st.RecoveryCodesLeft != 0 {
			t.Fatalf("after reset: %+v", st)
		}
		// No factor under "optional": a plain login.
		must[*client.User](t)(in.client().LoginByEmail(ctx, "max@example.com", "passw0rd!", nil))

		// Required for this user alone, the pool's policy off.
		setMFAPolicy(t, in, "off")
		st = must[*client.MFAStatus](t)(in.admin().SetUserMFARequired(ctx, "default", uid, true))
		if !st.Required {
			t.Fatal("flag not set")
		}
		ce, _ := mfaLogin(t, in, "max@example.com")
		if !ce.MFAEnrolmentRequired() {
			t.Fatalf("%+v", ce.Data)
		}
		must[*client.MFAStatus](t)(in.admin().SetUserMFARequired(ctx, "default", uid, false))
		must[*client.User](t)(in.client().LoginByEmail(ctx, "max@example.com", "passw0rd!", nil))

		wantCode(t, errOf(in.admin().ResetUserMFA(ctx, "default", "no-such-user")), 2004)
		_, err := in.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"mfaPolicy": "sometimes"}})
		wantCode(t, err, 1003)
	})
}

func TestMFABadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		for _, tc := range []struct {
			tok, kind, code string
			want            int
		}{
			{"", "totp", "123456", 1003},
			{"x", "", "123456", 1003},
			{"x", "totp", "", 1003},
			{"x", "carrier-pigeon", "123456", 1003},
			{"x", "face", "123456", api.CodeMFAUnsupported},
			{strings.Repeat("a", 128), "totp", "123456", api.CodeMFATokenInvalid},
			{strings.Repeat("a", 129), "totp", "123456", api.CodeMFATokenInvalid},
			{strings.Repeat("é", 10000), "recovery", strings.Repeat("9", 10000), api.CodeMFATokenInvalid},
			{"\xff\xfe", "sms", "\x01", api.CodeMFATokenInvalid},
			{"\x00", "sms", "123456", 1001}, // NUL refused by the decoder
		} {
			_, err := c.VerifyMFA(ctx, tc.tok, tc.kind, tc.code)
			wantCode(t, err, tc.want)
		}
		wantCode(t, errOf(c.EnrolTOTP(ctx, strings.Repeat("z", 129))), api.CodeMFATokenInvalid)
		wantCode(t, errOf(c.EnrolTOTP(ctx, "")), 2020)
		wantCode(t, errOf(c.ListMFAFactors(ctx)), 2020)
		var ce *client.Error
		if !errors.As(errOf(c.EnrolTOTP(ctx, "nope")), &ce) || ce.HTTPStatus != 401 {
			t.Fatalf("unknown MFA token: %v", ce)
		}
	})
}

// TestMFATokenBoundToFirstFactor: a password changed between the two
// factors voids the MFA token; a blocked user cannot complete either.
func TestMFATokenBoundToFirstFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, uid, c := enrolTOTPClient(t, in, "ida@example.com")
		_, tok := mfaLogin(t, in, "ida@example.com")
		must[*client.User](t)(c.UpdatePassword(ctx, "n3w-passw0rd!", "passw0rd!"))
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok, totpNow(t, in, secret))), api.CodeMFATokenInvalid)

		_, err := in.client().LoginByEmail(ctx, "ida@example.com", "n3w-passw0rd!", nil)
		tok = wantCode(t, err, api.CodeMFARequired).MFAToken()
		must[*client.BlockedUser](t)(in.admin().BlockUser(ctx, "default", uid))
		wantCode(t, errOf(in.client().VerifyTOTP(ctx, tok, totpNow(t, in, secret))), 2057)
	})
}
