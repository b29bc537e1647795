package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestMFAWrongFactorsCountAgainstTheAccount: a wrong second factor is a
// failed login of the account. A token allows 5 tries, and without this a
// password holder would get 5 fresh guesses per password login for ever
// (the right password used to reset the account's failure count). Here
// the account's failures pile up across tokens, so the password step soon
// demands a CAPTCHA (2000), as after wrong passwords; after a right second
// factor the count is reset. Found by review; failed before the fix (20
// wrong codes, still a fresh MFA token).
func TestMFAWrongFactorsCountAgainstTheAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, _ := enrolTOTP(t, in, "guess@example.com")
		wrong := "000000"
		if totpNow(t, in, secret) == wrong {
			wrong = "111111"
		}
		c := in.client()
		guesses, captcha := 0, false
		for round := 0; round < 4 && !captcha; round++ {
			_, err := c.LoginByEmail(ctx, "guess@example.com", "passw0rd!", nil)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Code == api.CodeCaptchaRequired {
				captcha = true
				break
			}
			wantCode(t, err, api.CodeMFARequired)
			tok := client.MFAToken(err)
			for range api.MFAMaxAttempts {
				wantCode(t, errOf(c.VerifyTOTP(ctx, tok, wrong)), api.CodeMFAWrongCode)
				guesses++
			}
		}
		if !captcha {
			t.Fatalf("after %d wrong second factors the password step still hands out MFA tokens without a CAPTCHA", guesses)
		}
		t.Logf("CAPTCHA demanded after %d wrong second factors", guesses)
	})
}

// TestMFARightFactorResetsTheCount: wrong second factors below the
// threshold are forgotten once a login completes with the right one (the
// account's failure count, read from the store, is back to zero).
func TestMFARightFactorResetsTheCount(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		secret, _, userID := enrolTOTP(t, in, "reset@example.com")
		wrong := "000000"
		if totpNow(t, in, secret) == wrong {
			wrong = "111111"
		}
		c := in.client()
		key := "lf:acct:" + in.Srv.DefaultPoolID() + ":u:" + userID
		count := func() int64 {
			n, _, err := in.Srv.Store().GetCounter(ctx, key, in.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		_, tok := mfaLogin(t, in, "reset@example.com")
		wantCode(t, errOf(c.VerifyTOTP(ctx, tok, wrong)), api.CodeMFAWrongCode)
		wantCode(t, errOf(c.VerifyTOTP(ctx, tok, wrong)), api.CodeMFAWrongCode)
		if n := count(); n != 2 {
			t.Fatalf("after 2 wrong second factors the account counts %d failures, want 2", n)
		}
		must[*client.User](t)(c.VerifyTOTP(ctx, tok, totpNow(t, in, secret)))
		if n := count(); n != 0 {
			t.Fatalf("after the right second factor the account counts %d failures, want 0", n)
		}
	})
}
