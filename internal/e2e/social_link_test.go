package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestSocialLinking: safe by default. An upstream email matching an
// account never links by itself: the answer is 2803 with a link token,
// which only that account, signed in, can confirm; afterwards the
// identity signs in to it. With the pool's setting, a verified email
// links at once, an unverified one still never does. An unverified
// email never becomes a new account's address.
func TestSocialLinking(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		owner := must[*client.User](t)(s.down.client().RegisterByEmail(ctx, "eve@example.com", "Quartz-Lantern-77", nil, nil))
		other := s.down.client()
		must[*client.User](t)(other.RegisterByEmail(ctx, "other@example.com", "k9-Trellis-Moon", nil, nil))
		must[*client.User](t)(other.LoginByEmail(ctx, "other@example.com", "k9-Trellis-Moon", nil))
		sub := s.upstreamUser(t, "eve@example.com", true)

		_, _, err := s.exchange(t, s.signIn(t, "eve@example.com"))
		ce := wantCode(t, err, 2803)
		linkToken, _ := ce.Data["linkToken"].(string)
		if linkToken == "" || ce.Data["connector"] != "upstream" {
			t.Fatalf("2803 data: %+v", ce.Data)
		}
		au := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", owner.ID))
		if len(au.Identities) != 0 || s.userCount(t) != 2 {
			t.Fatalf("linked or created before confirmation: %+v, %d users", au.Identities, s.userCount(t))
		}
		// Another signed-in user cannot take the link (and spends it).
		_, err = other.ConfirmIdentityLink(ctx, linkToken)
		wantCode(t, err, 2801)
		_, err = other.ConfirmIdentityLink(ctx, "made-up")
		wantCode(t, err, 2801)
		_, err = s.down.client().ConfirmIdentityLink(ctx, linkToken)
		wantCode(t, err, 2020)

		// The owner signs in with the password and confirms a fresh link.
		_, _, err = s.exchange(t, s.signIn(t, "eve@example.com"))
		linkToken, _ = wantCode(t, err, 2803).Data["linkToken"].(string)
		oc := s.down.client()
		must[*client.User](t)(oc.LoginByEmail(ctx, "eve@example.com", "Quartz-Lantern-77", nil))
		ids := must[[]client.Identity](t)(oc.ConfirmIdentityLink(ctx, linkToken))
		if len(ids) != 1 || ids[0].Subject != sub {
			t.Fatalf("identities after confirmation: %+v", ids)
		}
		_, err = oc.ConfirmIdentityLink(ctx, linkToken)
		wantCode(t, err, 2801)
		_, u, err := s.exchange(t, s.signIn(t, "eve@example.com"))
		if err != nil || u.ID != owner.ID {
			t.Fatalf("sign-in after linking: %v %+v", err, u)
		}
		// The owner has a password: the identity may go.
		if err := oc.UnlinkIdentity(ctx, "upstream", sub); err != nil {
			t.Fatalf("unlink: %v", err)
		}
		if ids := must[[]client.Identity](t)(oc.ListIdentities(ctx)); len(ids) != 0 {
			t.Fatalf("after unlink: %+v", ids)
		}

		// The pool's setting: an account whose address was never
		// verified here is not joined even so (whoever registered it may
		// have typed another's address: pre-account hijacking)...
		must[*client.Pool](t)(s.down.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"socialAutoLinkVerifiedEmail": true}}))
		_, _, err = s.exchange(t, s.signIn(t, "eve@example.com"))
		wantCode(t, err, 2803)
		if au := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", owner.ID)); len(au.Identities) != 0 {
			t.Fatalf("auto-linked to an account with an unverified address: %+v", au.Identities)
		}
		// ...a verified email on both sides links at once...
		verified := true
		must[*client.User](t)(s.down.admin().UpdateUser(ctx, "default", owner.ID, client.UpdateUserRequest{EmailVerified: &verified}))
		_, u, err = s.exchange(t, s.signIn(t, "eve@example.com"))
		if err != nil || u.ID != owner.ID {
			t.Fatalf("auto-link by verified email: %v %+v", err, u)
		}
		// ...an unverified one never.
		must[*client.User](t)(s.down.client().RegisterByEmail(ctx, "fay@example.com", "Willow-Brine-31", nil, nil))
		s.upstreamUser(t, "fay@example.com", false)
		_, _, err = s.exchange(t, s.signIn(t, "fay@example.com"))
		wantCode(t, err, 2803)

		// An unverified email with no account: a new user without it.
		s.upstreamUser(t, "gus@example.com", false)
		_, u, err = s.exchange(t, s.signIn(t, "gus@example.com"))
		if err != nil || !u.NewlyCreated || u.Email != "" {
			t.Fatalf("new user from an unverified email: %v %+v", err, u)
		}
	})
}

// TestSocialAutoLinkWaitsForMFA: an identity linked automatically by
// verified email to an account with a second factor is linked only once
// the second factor is passed; an abandoned challenge links nothing.
func TestSocialAutoLinkWaitsForMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		in := s.down
		setMFAPolicy(t, in, "optional")
		secret, _, ownerID := enrolTOTP(t, in, "hal@example.com")
		verified := true
		must[*client.User](t)(in.admin().UpdateUser(ctx, "default", ownerID, client.UpdateUserRequest{EmailVerified: &verified}))
		must[*client.Pool](t)(in.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"socialAutoLinkVerifiedEmail": true}}))
		sub := s.upstreamUser(t, "hal@example.com", true)

		identities := func() []client.Identity {
			return must[*client.User](t)(in.admin().GetUser(ctx, "default", ownerID)).Identities
		}
		// First factor only: 1635, and no identity on the account (an
		// abandoned challenge leaves none either).
		_, _, err := s.exchange(t, s.signIn(t, "hal@example.com"))
		wantCode(t, err, 1635)
		if ids := identities(); len(ids) != 0 {
			t.Fatalf("linked before the second factor: %+v", ids)
		}
		_, _, err = s.exchange(t, s.signIn(t, "hal@example.com"))
		wantCode(t, err, 1635)
		tok := client.MFAToken(err)
		if tok == "" || len(identities()) != 0 {
			t.Fatalf("token %q, identities %+v", tok, identities())
		}
		// The second factor links it, with the login.
		u := must[*client.User](t)(in.client().VerifyMFA(ctx, tok, "totp", totpNow(t, in, secret)))
		ids := identities()
		if u.ID != ownerID || len(ids) != 1 || ids[0].Subject != sub {
			t.Fatalf("after the second factor: user %s, identities %+v", u.ID, ids)
		}
		// The identity now finds the account directly (and still asks
		// for the second factor).
		_, _, err = s.exchange(t, s.signIn(t, "hal@example.com"))
		wantCode(t, err, 1635)
		if ids := identities(); len(ids) != 1 {
			t.Fatalf("identities after the next sign-in: %+v", ids)
		}
	})
}

// TestSocialDeferredLinkSurvivesARefusedLogin (review): a second factor
// whose login is refused after it (here a post-authentication pipeline)
// leaves the challenge for another try, and the identity link waits with
// it: the next completion links it.
func TestSocialDeferredLinkSurvivesARefusedLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		in := s.down
		setMFAPolicy(t, in, "optional")
		secret, _, ownerID := enrolTOTP(t, in, "ivy@example.com")
		verified := true
		must[*client.User](t)(in.admin().UpdateUser(ctx, "default", ownerID, client.UpdateUserRequest{EmailVerified: &verified}))
		must[*client.Pool](t)(in.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"socialAutoLinkVerifiedEmail": true}}))
		sub := s.upstreamUser(t, "ivy@example.com", true)
		_, _, err := s.exchange(t, s.signIn(t, "ivy@example.com"))
		wantCode(t, err, 1635)
		tok := client.MFAToken(err)

		p := addPipeline(t, in, client.StagePostAuthentication, 0, `async function pipe(user, context, callback) { callback(new Error("closed for maintenance")) }`)
		if _, err := in.client().VerifyMFA(ctx, tok, "totp", totpNow(t, in, secret)); err == nil {
			t.Fatal("the refusing pipeline let the login through")
		}
		if ids := must[*client.User](t)(in.admin().GetUser(ctx, "default", ownerID)).Identities; len(ids) != 0 {
			t.Fatalf("linked by a refused login: %+v", ids)
		}
		if err := in.admin().DeletePipeline(ctx, "default", p.ID); err != nil {
			t.Fatal(err)
		}
		in.Clock.Advance(30 * time.Second) // the next TOTP step
		must[*client.User](t)(in.client().VerifyMFA(ctx, tok, "totp", totpNow(t, in, secret)))
		ids := must[*client.User](t)(in.admin().GetUser(ctx, "default", ownerID)).Identities
		if len(ids) != 1 || ids[0].Subject != sub {
			t.Fatalf("after the second, completed login: %+v", ids)
		}
	})
}

// TestSocialAutoLinkNotIntoEnrolment (review): in a pool that requires
// MFA, an account without a second factor is not linked automatically by
// verified email — the identity's holder would then enrol the account's
// only factor; its owner signs in and confirms instead (2803).
func TestSocialAutoLinkNotIntoEnrolment(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		in := s.down
		owner := must[*client.User](t)(in.client().RegisterByEmail(ctx, "jo@example.com", "Quartz-Lantern-77", nil, nil))
		verified := true
		must[*client.User](t)(in.admin().UpdateUser(ctx, "default", owner.ID, client.UpdateUserRequest{EmailVerified: &verified}))
		must[*client.Pool](t)(in.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"socialAutoLinkVerifiedEmail": true, "mfaPolicy": "required"}}))
		s.upstreamUser(t, "jo@example.com", true)
		_, _, err := s.exchange(t, s.signIn(t, "jo@example.com"))
		wantCode(t, err, 2803)
		if ids := must[*client.User](t)(in.admin().GetUser(ctx, "default", owner.ID)).Identities; len(ids) != 0 {
			t.Fatalf("linked into an account that must enrol: %+v", ids)
		}
	})
}
