package e2e

import (
	"context"
	"net/url"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestSocialAppPKCE: an app that sends its own PKCE challenge to the
// native authorize route gets a one-time code only the holder of the
// verifier can exchange (review: a process on a native app's loopback
// port could redeem a code it caught). A wrong or missing verifier spends
// the code; a verifier for a code asked without a challenge is refused
// (no downgrade); a challenge of the wrong shape or method is refused at
// authorize.
func TestSocialAppPKCE(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "pk@example.com", true)
		dc := s.down.client()
		pkceCode := func() (string, string) {
			verifier, challenge := client.SocialPKCE()
			b := newSocialBrowser(t, s)
			p := b.get(dc.BuildSocialAuthorizeURLPKCE("upstream", socialAppRedirect, "st", challenge))
			if p.Location == "" {
				p = b.signIn(p, "pk@example.com", socialPassword)
			}
			return atApp(t, p).Get("code"), verifier
		}

		code, verifier := pkceCode()
		_, err := s.down.client().ExchangeSocialCode(ctx, code, socialAppRedirect)
		wantCode(t, err, 2801)
		_, err = s.down.client().ExchangeSocialCodePKCE(ctx, code, socialAppRedirect, verifier)
		wantCode(t, err, 2801) // the failed exchange spent it

		code, _ = pkceCode()
		other, _ := client.SocialPKCE()
		_, err = s.down.client().ExchangeSocialCodePKCE(ctx, code, socialAppRedirect, other)
		wantCode(t, err, 2801)

		code, verifier = pkceCode()
		u := must[*client.User](t)(s.down.client().ExchangeSocialCodePKCE(ctx, code, socialAppRedirect, verifier))
		if u.Email != "pk@example.com" || u.Token == "" {
			t.Fatalf("exchange with the verifier: %+v", u)
		}

		// No challenge, then a verifier: refused.
		code = s.signIn(t, "pk@example.com")
		_, err = s.down.client().ExchangeSocialCodePKCE(ctx, code, socialAppRedirect, verifier)
		wantCode(t, err, 2801)

		// A challenge of the wrong shape, or another method.
		for _, q := range []url.Values{
			{"code_challenge": {"short"}, "code_challenge_method": {"S256"}},
			{"code_challenge": {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "code_challenge_method": {"plain"}},
		} {
			b := newSocialBrowser(t, s)
			p := b.get(dc.BuildSocialAuthorizeURL("upstream", socialAppRedirect, "") + "&" + q.Encode())
			if p.Status != 400 || p.Location != "" {
				t.Errorf("authorize with %v: %d %s", q, p.Status, p.Location)
			}
		}
	})
}
