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

// TestPasskeyEnrolMFA: a login that must enrol a second factor (pool
// mfaPolicy required, no factor) enrols a passkey with its MFA token
// instead of TOTP, which completes the login once; the token cannot be
// used again, a token of a user who has a factor cannot enrol, and an
// unknown or expired token is refused (docs/MFA.md "Enrolling a passkey
// at login").
func TestPasskeyEnrolMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		must[*client.WebhookSubscription](t)(in.admin().CreateWebhook(ctx, "default", client.CreateWebhookRequest{URL: "https://hooks.example.com/x", Events: []string{"*"}}))
		for _, e := range []string{"ann@example.com", "bob@example.com"} {
			must[*client.User](t)(in.client().RegisterByEmail(ctx, e, "passw0rd!", nil, nil))
		}
		setMFAPolicy(t, in, "required")
		auth := newSoftAuthenticator(t, in)

		ce, tok := mfaLogin(t, in, "ann@example.com")
		if !ce.MFAEnrolmentRequired() || len(ce.MFAFactors()) != 0 {
			t.Fatalf("1635 without enrolmentRequired: %+v", ce)
		}
		uid, _ := ce.Data["userId"].(string)
		mc := in.client()

		// Unknown tokens.
		wantCode(t, errOf(mc.BeginPasskeyEnrolmentMFA(ctx, "not-a-token")), api.CodeMFATokenInvalid)
		wantCode(t, errOf(mc.FinishPasskeyEnrolmentMFA(ctx, "not-a-token", "", json.RawMessage(`{}`))), api.CodeMFATokenInvalid)
		wantCode(t, errOf(mc.BeginPasskeyEnrolmentMFA(ctx, "")), api.CodeInvalidArgument)

		opts := must[json.RawMessage](t)(mc.BeginPasskeyEnrolmentMFA(ctx, tok))
		var o creationOptions
		if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.AuthenticatorSelection.UserVerification != "required" {
			t.Fatalf("enrolment options do not require user verification: %s", opts)
		}
		// An authenticator that does not verify its user is refused, as
		// a wrong second factor (one attempt of the token).
		weak := newSoftAuthenticator(t, in)
		weak.noUV = true
		wcred, _ := weak.create(t, opts)
		wce := wantCode(t, errOf(mc.FinishPasskeyEnrolmentMFA(ctx, tok, "", wcred)), api.CodePasskeyInvalid)
		if left, _ := wce.Data["attemptsLeft"].(float64); int(left) != api.MFAMaxAttempts-1 {
			t.Fatalf("attemptsLeft %v", wce.Data["attemptsLeft"])
		}
		// That ceremony is spent; a signed-in registration's ceremony, or
		// another token's, does not finish this one.
		wantCode(t, errOf(mc.FinishPasskeyEnrolmentMFA(ctx, tok, "", wcred)), api.CodePasskeyInvalid)
		_, tokB := mfaLogin(t, in, "bob@example.com")
		optsB := must[json.RawMessage](t)(in.client().BeginPasskeyEnrolmentMFA(ctx, tokB))
		credB, _ := newSoftAuthenticator(t, in).create(t, optsB)
		wantCode(t, errOf(mc.FinishPasskeyEnrolmentMFA(ctx, tok, "", credB)), api.CodePasskeyInvalid)

		opts = must[json.RawMessage](t)(mc.BeginPasskeyEnrolmentMFA(ctx, tok))
		cred, k := auth.create(t, opts)
		u := must[*client.User](t)(mc.FinishPasskeyEnrolmentMFA(ctx, tok, " Phone ", cred))
		if u.ID != uid || mc.Token() == "" {
			t.Fatalf("enrolment did not complete the login: %+v token %q", u, mc.Token())
		}
		list := must[[]client.Passkey](t)(mc.ListPasskeys(ctx))
		if len(list) != 1 || list[0].Name != "Phone" || !list[0].UserVerified {
			t.Fatalf("passkeys after enrolment: %+v", list)
		}

		// The token is spent: neither begin nor finish takes it again.
		wantCode(t, errOf(mc.BeginPasskeyEnrolmentMFA(ctx, tok)), api.CodeMFATokenInvalid)
		wantCode(t, errOf(in.client().FinishPasskeyEnrolmentMFA(ctx, tok, "", cred)), api.CodeMFATokenInvalid)

		// The wrong answers above counted against the account as wrong
		// factors do; the rest is about other things.
		in.withoutFailureDetection(t)
		// Now the user has a factor: the next login asks for it, and its
		// token cannot enrol another (not even a TOTP).
		ce, tok2 := mfaLogin(t, in, "ann@example.com")
		if ce.MFAEnrolmentRequired() || strings.Join(ce.MFAFactors(), ",") != "passkey" {
			t.Fatalf("second login: %+v", ce)
		}
		wantCode(t, errOf(in.client().BeginPasskeyEnrolmentMFA(ctx, tok2)), api.CodeMFAAlreadyEnrolled)
		wantCode(t, errOf(in.client().FinishPasskeyEnrolmentMFA(ctx, tok2, "", cred)), api.CodeMFAAlreadyEnrolled)
		wantCode(t, errOf(in.client().EnrolTOTP(ctx, tok2)), api.CodeMFAAlreadyEnrolled)
		// The enrolled passkey passes as the second factor.
		o2 := must[json.RawMessage](t)(in.client().BeginPasskeyMFA(ctx, tok2))
		must[*client.User](t)(in.client().VerifyPasskeyMFA(ctx, tok2, auth.get(t, o2, k)))

		// An expired token: begun in time, finished too late; and begun
		// too late.
		optsB = must[json.RawMessage](t)(in.client().BeginPasskeyEnrolmentMFA(ctx, tokB))
		credB, _ = newSoftAuthenticator(t, in).create(t, optsB)
		in.Clock.Advance(6 * time.Minute)
		wantCode(t, errOf(in.client().FinishPasskeyEnrolmentMFA(ctx, tokB, "", credB)), api.CodeMFATokenInvalid)
		wantCode(t, errOf(in.client().BeginPasskeyEnrolmentMFA(ctx, tokB)), api.CodeMFATokenInvalid)

		// Once each: one enrolment, one completed challenge by it (and
		// one by the passkey afterwards), one user.login per session.
		seen := auditEvents(t, in, uid)
		if seen["mfa.enrol"] != 1 || seen["mfa.success"] != 2 || seen["login.success"] != 2 {
			t.Errorf("audit: %v", seen)
		}
		in.settle(t)
		hooks := webhookEvents(t, in)
		if hooks[api.EventUserMFAEnrolled] != 1 || hooks[api.EventUserLogin] != 2 || hooks[api.EventUserMFAVerified] != 2 {
			t.Errorf("webhooks: %v", hooks)
		}
	})
}

// TestPasskeyEnrolMFARace: one MFA token, several enrolment ceremonies
// finished at once: one login completes (one session, one login.success).
func TestPasskeyEnrolMFARace(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil).withoutFailureDetection(t)
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, "ray@example.com", "passw0rd!", nil, nil)).ID
		setMFAPolicy(t, in, "required")
		auth := newSoftAuthenticator(t, in)
		_, tok := mfaLogin(t, in, "ray@example.com")
		const n = api.MFAMaxAttempts - 1
		answers := make([]json.RawMessage, n)
		for i := range answers {
			answers[i], _ = auth.create(t, must[json.RawMessage](t)(in.client().BeginPasskeyEnrolmentMFA(ctx, tok)))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = errOf(in.client().FinishPasskeyEnrolmentMFA(ctx, tok, "", answers[i])) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d racing enrolments completed the login: %v", ok, n, errs)
		}
		// Losers that got past the "no factor yet" check before the
		// winner stored its passkey stored theirs too; their refused
		// logins take them back (review): one passkey stays, the winner's.
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		if len(st.Factors) != 1 {
			t.Fatalf("%d factors after %d racing enrolments, want the winner's passkey alone: %+v; answers: %v", len(st.Factors), n, st.Factors, errs)
		}
		if seen := auditEvents(t, in, uid); seen["login.success"] != 1 || seen["mfa.success"] != 1 {
			t.Errorf("audit: %v", seen)
		}
	})
}
