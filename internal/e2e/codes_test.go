package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
)

// setPool changes the default pool's stored settings, as the admin API will.
func setPool(t *testing.T, in *instance, fn func(*userpool.PoolSettings)) {
	t.Helper()
	if _, err := in.Srv.Store().UpdatePool(context.Background(), in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
		fn(&p.Settings)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCodeExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, codeConfig(dbURL), clk)
		c := in.client()

		code := sms(t, in, cnPhone)
		clk.Advance(59 * time.Second)
		must[*client.User](t)(c.LoginByPhoneCode(ctx, cnPhone, code, nil))

		code = sms(t, in, usPhone)
		clk.Advance(60 * time.Second)
		_, err := c.LoginByPhoneCode(ctx, usPhone, code, nil)
		ce := wantCode(t, err, 2300)
		if ce.Reason != "code_expired" {
			t.Fatalf("2300: %+v", ce)
		}
		// Still expired on the next try (the code is not counted or spent).
		_, err = c.LoginByPhoneCode(ctx, usPhone, code, nil)
		wantCode(t, err, 2300)

		// Email codes live 10 minutes.
		must[*client.User](t)(c.RegisterByEmail(ctx, "exp@example.com", "passw0rd!", nil, nil))
		must0(t, c.SendEmail(ctx, "exp@example.com", client.EmailSceneResetPassword))
		code = in.Outbox.code(t, "exp@example.com")
		clk.Advance(10 * time.Minute)
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "exp@example.com", code, "n3w-passw0rd"), 2300)
		clk.Advance(time.Minute)
		must0(t, c.SendEmail(ctx, "exp@example.com", client.EmailSceneResetPassword))
		clk.Advance(9 * time.Minute)
		must0(t, c.ResetPasswordByEmailCode(ctx, "exp@example.com", in.Outbox.code(t, "exp@example.com"), "n3w-passw0rd"))
	})
}

func must0(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCodeBruteForce: a code dies after 5 wrong tries.
func TestCodeBruteForce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()

		code := sms(t, in, cnPhone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 5; i++ {
			_, err := c.LoginByPhoneCode(ctx, cnPhone, wrong, nil)
			ce := wantCode(t, err, 2001)
			if ce.Reason != "wrong_code" || ce.Data["attemptsLeft"] != float64(5-i) {
				t.Fatalf("wrong try %d: %+v", i, ce)
			}
		}
		// The 6th wrong try finds the code dead, and so does the right one.
		_, err := c.LoginByPhoneCode(ctx, cnPhone, wrong, nil)
		ce := wantCode(t, err, 2001)
		if ce.Reason != "code_attempts_exceeded" {
			t.Fatalf("6th try: %+v", ce)
		}
		_, err = c.LoginByPhoneCode(ctx, cnPhone, code, nil)
		ce = wantCode(t, err, 2001)
		if ce.Reason != "code_attempts_exceeded" {
			t.Fatalf("7th (right) try: %+v", ce)
		}

		// 4 wrong tries leave the right code usable; malformed tries are
		// not counted at all.
		code = sms(t, in, usPhone)
		for _, w := range []string{"abcdef", "12345", "1234567", "", "１２３４５６"} {
			_, err := c.LoginByPhoneCode(ctx, usPhone, w, nil)
			if w == "" {
				wantCode(t, err, 1003)
				continue
			}
			wantCode(t, err, 2001)
		}
		for range 4 {
			_, err := c.LoginByPhoneCode(ctx, usPhone, wrongFor(code), nil)
			wantCode(t, err, 2001)
		}
		must[*client.User](t)(c.LoginByPhoneCode(ctx, usPhone, code, nil))

		// A new code replaces the old one (and its count of tries).
		first := sms(t, in, cnPhone2)
		in.Clock.Advance(61 * time.Second)
		second := sms(t, in, cnPhone2)
		if first != second {
			_, err = c.LoginByPhoneCode(ctx, cnPhone2, first, nil)
			wantCode(t, err, 2001)
		}
		must[*client.User](t)(c.LoginByPhoneCode(ctx, cnPhone2, second, nil))
	})
}

func wrongFor(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestCodeRaces: one code, many concurrent users, one winner; two
// concurrent sends to one phone, one sent.
func TestCodeRaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)

		code := sms(t, in, cnPhone)
		const n = 8
		users := make([]*client.User, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { users[i], errs[i] = in.client().LoginByPhoneCode(ctx, cnPhone, code, nil) })
		}
		wg.Wait()
		wins := 0
		for i := range n {
			if errs[i] == nil {
				wins++
				if !users[i].NewlyCreated {
					t.Fatal("the winner did not create the account")
				}
				continue
			}
			wantCode(t, errs[i], 2001)
		}
		if wins != 1 {
			t.Fatalf("%d concurrent uses of one code: %d succeeded, want exactly 1", n, wins)
		}

		// Two concurrent sends to one phone: one is sent, one is limited.
		var sendErrs [2]error
		for i := range 2 {
			wg.Go(func() { sendErrs[i] = in.client().SendSmsCode(ctx, usPhone) })
		}
		wg.Wait()
		limited := 0
		for _, err := range sendErrs {
			if err != nil {
				ce := wantCode(t, err, 1005)
				if ce.HTTPStatus != http.StatusTooManyRequests || ce.RetryAfter <= 0 {
					t.Fatalf("limited send: %+v", ce)
				}
				limited++
			}
		}
		if limited != 1 || len(in.Outbox.sentTo(usPhone)) != 1 {
			t.Fatalf("two concurrent sends: %d limited, %d sent; want 1 and 1", limited, len(in.Outbox.sentTo(usPhone)))
		}
	})
}

func TestSendLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()
		limit := func(err error, name string) {
			t.Helper()
			ce := wantCode(t, err, 1005)
			if ce.Reason != "rate_limited" || ce.Data["limit"] != name || ce.HTTPStatus != 429 || ce.RetryAfter <= 0 {
				t.Fatalf("want limit %s: %+v", name, ce)
			}
		}

		// One SMS per phone per minute; the refusal says when to retry.
		must0(t, c.SendSmsCode(ctx, cnPhone))
		in.Clock.Advance(20 * time.Second)
		err := c.SendSmsCode(ctx, cnPhone)
		limit(err, "sms_phone_interval")
		if ra := err.(*client.Error).RetryAfter; ra != 40*time.Second {
			t.Fatalf("Retry-After %v, want 40s", ra)
		}
		if n := len(in.Outbox.sentTo(cnPhone)); n != 1 {
			t.Fatalf("%d messages, want 1: a limited send sent something", n)
		}
		in.Clock.Advance(40 * time.Second)
		must0(t, c.SendSmsCode(ctx, cnPhone))

		// Per phone per day: refused sends are not counted.
		setPool(t, in, func(s *userpool.PoolSettings) { s.SMSPhonePerDay = 3 })
		for range 3 {
			in.Clock.Advance(10 * time.Second)
			limit(c.SendSmsCode(ctx, cnPhone), "sms_phone_interval")
		}
		in.Clock.Advance(time.Minute)
		must0(t, c.SendSmsCode(ctx, cnPhone)) // the 3rd of the day
		in.Clock.Advance(time.Minute)
		limit(c.SendSmsCode(ctx, cnPhone), "sms_phone_daily")
		in.Clock.Advance(24 * time.Hour)
		must0(t, c.SendSmsCode(ctx, cnPhone))

		// Per country calling code per day, against SMS pumping.
		setPool(t, in, func(s *userpool.PoolSettings) { s.SMSCountryPerDay = 2 })
		must0(t, c.SendSmsCode(ctx, usPhone))
		must0(t, c.SendSmsCode(ctx, usPhone2))
		limit(c.SendSmsCode(ctx, "+12015550125"), "sms_country_daily")
		must0(t, c.SendSmsCode(ctx, cnPhone2)) // +86 is counted apart

		// Per client IP per hour.
		setPool(t, in, func(s *userpool.PoolSettings) { s.SMSIPPerHour = 1; s.SMSCountryPerDay = 0 })
		in.Clock.Advance(time.Hour)
		must0(t, c.SendSmsCode(ctx, "+12015550126"))
		limit(c.SendSmsCode(ctx, "+12015550127"), "sms_ip_hourly")

		// Emails: per address per interval and per day, per IP per hour.
		must[*client.User](t)(c.RegisterByEmail(ctx, "lim@example.com", "passw0rd!", nil, nil))
		setPool(t, in, func(s *userpool.PoolSettings) { s.EmailAddressPerDay = 2; s.EmailIPPerHour = 3 })
		must0(t, c.SendEmail(ctx, "lim@example.com", client.EmailSceneVerifyEmail))
		limit(c.SendEmail(ctx, "lim@example.com", client.EmailSceneResetPassword), "email_address_interval")
		in.Clock.Advance(time.Minute)
		must0(t, c.SendEmail(ctx, "lim@example.com", client.EmailSceneResetPassword))
		in.Clock.Advance(time.Minute)
		limit(c.SendEmail(ctx, "lim@example.com", client.EmailSceneResetPassword), "email_address_daily")
		must0(t, c.SendEmail(ctx, "new@example.com", client.EmailSceneChangeEmail))
		limit(c.SendEmail(ctx, "other@example.com", client.EmailSceneChangeEmail), "email_ip_hourly")
		if n := len(in.Outbox.sentTo("lim@example.com")); n != 2 {
			t.Fatalf("%d mails, want 2", n)
		}
	})
}

// TestCodeMessages: the language follows the user's locale, else the
// request's Accept-Language; codes never reach the log except through the
// console sender.
func TestCodeMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)

		req, _ := http.NewRequest(http.MethodPost, in.URL+"/api/v1/codes/sms", strings.NewReader(`{"phone": "`+cnPhone+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		m := in.Outbox.last(t, cnPhone)
		if !strings.Contains(m.Text, "验证码") || !strings.Contains(m.Text, m.Code) {
			t.Fatalf("Chinese SMS: %q", m.Text)
		}
		must0(t, in.client().SendSmsCode(ctx, usPhone))
		if m := in.Outbox.last(t, usPhone); !strings.HasPrefix(m.Text, "Your verification code is "+m.Code) {
			t.Fatalf("English SMS: %q", m.Text)
		}

		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "zh@example.com", "passw0rd!", &client.RegisterProfile{Locale: "zh-CN"}, nil))
		must0(t, c.SendEmail(ctx, "zh@example.com", client.EmailSceneResetPassword))
		mail := in.Outbox.last(t, "zh@example.com")
		if mail.Subject != "您的密码重置验证码" || mail.Scene != "RESET_PASSWORD" || !strings.Contains(mail.Text, mail.Code) {
			t.Fatalf("Chinese mail: %+v", mail)
		}
		must0(t, c.ResetPasswordByEmailCode(ctx, "zh@example.com", mail.Code, "n3w-passw0rd"))
		in.Outbox.noLeak(t, m.Code, mail.Code, in.Outbox.code(t, cnPhone))
	})
}

// TestCodeInputErrors: missing fields and unknown scenes are clear coded
// errors over plain HTTP too.
func TestCodeInputErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeConfig(dbURL), nil)
		c := in.client()
		ce := wantCode(t, c.SendEmail(ctx, "a@example.com", "BOGUS"), 1003)
		if ce.Reason != "invalid_scene" || !strings.Contains(ce.Message, "RESET_PASSWORD") {
			t.Fatalf("unknown scene: %+v", ce)
		}
		wantCode(t, c.SendEmail(ctx, "a@example.com", ""), 1003)
		wantCode(t, c.SendEmail(ctx, "not-an-email", client.EmailSceneChangeEmail), 2003)
		wantCode(t, c.SendSmsCode(ctx, ""), 1003)
		_, err := c.RegisterByPhoneCode(ctx, cnPhone, "", "", nil, nil)
		wantCode(t, err, 1003)
		wantCode(t, c.ResetPasswordByEmailCode(ctx, "a@example.com", "123456", ""), 1003)
		wantCode(t, c.VerifyEmail(ctx, "a@example.com", ""), 1003)

		var ce2 *client.Error
		if err := c.SendSmsCode(ctx, "+1 201 555 0199 ext. 1"); !errors.As(err, &ce2) || ce2.Reason != "invalid_phone" {
			t.Fatalf("extension: %v", err)
		}
	})
}
