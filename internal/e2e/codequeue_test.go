package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/userpool"
)

// uniform turns the default pool's uniform answers on: unknown accounts
// and wrong credentials are not told apart.
func (in *instance) uniform(t *testing.T) {
	t.Helper()
	if _, err := in.Srv.Store().UpdatePool(context.Background(), in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
		p.Settings.UniformLoginError = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestQueuedCodeDeliveryFailure: a mail server that refuses the mail of a
// known address is not the anonymous caller's business. The request is
// answered with success once the code is queued (before the queue it got
// 2021 send_failed, HTTP 502, which told that the address has an account
// and exposed the SMTP exchange); after its last attempt the failure is in
// the audit log and a message.delivery_failed webhook event (masked
// target, attempt count, never the code), and the undelivered code is
// gone. An unknown address gets the same answer and nothing is sent or
// reported for it.
func TestQueuedCodeDeliveryFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		box, addr := startMailbox(t)
		cfg := webhookConfig(dbURL)
		cfg.Mailer = "smtp"
		cfg.SMTPURL = "smtp://authpool:smtp-s3cret@" + addr
		cfg.MailFrom = "no-reply@example.org"
		cfg.MessageMaxAttempts = 2
		in := start(t, cfg, nil)
		in.uniform(t)
		rcv := newReceiver(t, nil)
		rcv.subscribe(t, in, api.EventMessageDeliveryFailed)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "reject.ada@example.com", "passw0rd!", nil, nil))

		must0(t, c.SendEmail(ctx, "reject.ada@example.com", client.EmailSceneResetPassword))
		must0(t, c.SendEmail(ctx, "reject.nobody@example.com", client.EmailSceneResetPassword))
		in.settle(t) // first attempt refused; the retry waits for its backoff
		in.Clock.Advance(time.Duration(cfg.MessageBackoff))
		in.settle(t) // second and last attempt refused: given up

		got := rcv.waitEvents(t, 1)[0]
		d := got.Event.Data
		if got.Event.Type != api.EventMessageDeliveryFailed || d.Channel != "email" || d.Scene != "RESET_PASSWORD" ||
			d.Target != "r***@example.com" || d.Attempts != 2 || d.Reason != "send_failed" || d.UserPoolID != in.Srv.DefaultPoolID() {
			t.Fatalf("event %+v", got.Event)
		}
		raw, _ := json.Marshal(got.Event)
		if strings.Contains(string(raw), "reject.ada") || sixDigits.Match(raw) {
			t.Fatalf("the event shows the address or a code: %s", raw)
		}

		events := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSendFailed}))
		if len(events) != 1 {
			t.Fatalf("want one %s audit event (none for the unknown address), got %+v", userpool.AuditCodeSendFailed, events)
		}
		det := events[0].Detail
		if det["target"] != "r***@example.com" || det["attempts"] != "2" || det["channel"] != "email" ||
			det["purpose"] != "email:RESET_PASSWORD" || !strings.Contains(det["error"], "550") || strings.Contains(det["error"], "reject.ada") {
			t.Fatalf("audit detail %v", det)
		}
		if sent := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSent})); len(sent) != 0 {
			t.Fatalf("a refused mail was audited as sent: %+v", sent)
		}
		for _, to := range []string{"reject.ada@example.com", "reject.nobody@example.com"} {
			err := in.Srv.Store().UseCode(ctx, in.Srv.DefaultPoolID(), "email:RESET_PASSWORD", to,
				func(*userpool.VerificationCode) bool { return false })
			if !errors.Is(err, userpool.ErrCodeNotFound) {
				t.Fatalf("an unsent code for %s was left behind: %v", to, err)
			}
		}
		if box.count("reject.ada@example.com")+box.count("reject.nobody@example.com") != 0 {
			t.Fatal("a refused mail was kept")
		}
		if due, err := in.Srv.Store().CountDueMessages(ctx, in.Clock.Now().Add(time.Hour)); err != nil || due != 0 {
			t.Fatalf("the queue still holds %d messages (%v)", due, err)
		}
	})
}

// TestQueuedCodeReachesMailbox: a code asked for while no worker runs
// waits in the store, sealed: its payload shows neither the address nor
// the code, and opens only under the server's key and the job's own id.
// A later start (or another replica) sends it through a real SMTP server;
// the mail carries the sealed code, which resets the password. The
// unknown address of the same request shape gets the same answer and no
// mail.
func TestQueuedCodeReachesMailbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		box, addr := startMailbox(t)
		cfg := codeAdminConfig(dbURL)
		cfg.Mailer = "smtp"
		cfg.SMTPURL = "smtp://authpool:smtp-s3cret@" + addr
		cfg.MailFrom = "no-reply@example.org"
		idle := cfg
		idle.MessageWorkers = 0 // this replica only enqueues
		clk := newClock()
		a := start(t, idle, clk)
		a.uniform(t)
		c := a.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "ada@example.com", "passw0rd!", nil, nil))
		must0(t, c.SendEmail(ctx, "ada@example.com", client.EmailSceneResetPassword))
		must0(t, c.SendEmail(ctx, "nobody@example.com", client.EmailSceneResetPassword))

		st := a.Srv.Store()
		jobs, err := st.ClaimMessages(ctx, "test-inspector", clk.Now(), time.Minute, 10)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("queued jobs: %v %d", err, len(jobs))
		}
		key, err := st.EnsureServerSecret(ctx, "message_aead", []byte("not used: the server created the key"))
		if err != nil {
			t.Fatal(err)
		}
		sealer, err := courier.NewSealer(key)
		if err != nil {
			t.Fatal(err)
		}
		var sealedCode string
		for _, j := range jobs {
			for _, plain := range []string{"ada@example.com", "nobody@example.com", "RESET_PASSWORD", "passw0rd"} {
				if bytes.Contains(j.Payload, []byte(plain)) {
					t.Fatalf("job %s holds %q in plain text", j.ID, plain)
				}
			}
			if _, err := sealer.Open(jobs[0].ID+"x", j.Payload); err == nil {
				t.Fatal("a payload opened under another job's id")
			}
			opened, err := sealer.Open(j.ID, j.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ To, Code string }
			if err := json.Unmarshal(opened, &m); err != nil {
				t.Fatal(err)
			}
			if m.To == "ada@example.com" {
				sealedCode = m.Code
			}
			if bytes.Contains(j.Payload, []byte(m.Code)) {
				t.Fatalf("job %s holds its code in plain text", j.ID)
			}
			if err := st.RetryMessage(ctx, j.ID, "test-inspector", 0, clk.Now(), ""); err != nil {
				t.Fatal(err)
			}
		}
		if len(sealedCode) != 6 {
			t.Fatal("no sealed code for the known address")
		}
		a.stop()

		b := start(t, cfg, clk) // sends what is queued
		b.settle(t)
		code, _ := box.code(t, "ada@example.com")
		if code != sealedCode {
			t.Fatalf("the mail carries %s, the job held %s", code, sealedCode)
		}
		if box.count("nobody@example.com") != 0 {
			t.Fatal("a mail went to an address without an account")
		}
		must0(t, b.client().ResetPasswordByEmailCode(ctx, "ada@example.com", code, "n3w-passw0rd"))
		sent := must[[]client.AuditEvent](t)(b.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSent}))
		if len(sent) != 1 {
			t.Fatalf("want one %s audit event, got %+v", userpool.AuditCodeSent, sent)
		}
		b.Outbox.noLeak(t, code, "smtp-s3cret")
		a.Outbox.noLeak(t, code, "smtp-s3cret")
	})
}

// TestAuthingSendCodesQueued: the Authing transport's sendEmail and
// sms/send run the same queued use cases. With the uniform option and an
// SMTP server that refuses the known address's mail, sendEmail answers
// that address exactly as it answers an unknown one (before the queue the
// known address got code 2021); the failure is audited. sms/send delivers
// its code through the queue to the console sender.
func TestAuthingSendCodesQueued(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		_, addr := startMailbox(t)
		cfg := codeAdminConfig(dbURL)
		cfg.Mailer = "smtp"
		cfg.SMTPURL = "smtp://authpool:smtp-s3cret@" + addr
		cfg.MailFrom = "no-reply@example.org"
		cfg.MessageMaxAttempts = 1
		in := start(t, cfg, nil)
		in.uniform(t)
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "reject.ada@example.com", "passw0rd!", nil, nil))
		c := in.authing(t)

		answer := func(email string) string {
			var m struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			c.gql(docs["sendEmail"], map[string]any{"email": email, "scene": "RESET_PASSWORD"}, "").field(t, "sendEmail", &m)
			b, _ := json.Marshal(m)
			return string(b)
		}
		known, unknown := answer("reject.ada@example.com"), answer("reject.bob@example.com")
		if known != unknown || !strings.Contains(known, `"code":200`) {
			t.Fatalf("sendEmail answers differ: known %s, unknown %s", known, unknown)
		}
		in.settle(t)
		events := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSendFailed}))
		if len(events) != 1 || events[0].Detail["target"] != "r***@example.com" {
			t.Fatalf("want the known address's refused mail audited once, got %+v", events)
		}

		code := c.smsCode(in, "+8613800138000")
		var u phoneUser
		c.gql(docs["loginByPhoneCode"], map[string]any{"input": map[string]any{"phone": "+8613800138000", "code": code}}, "").field(t, "loginByPhoneCode", &u)
		if u.NewlyCreated == nil || !*u.NewlyCreated {
			t.Fatalf("login with the queued SMS code: %+v", u)
		}
	})
}
