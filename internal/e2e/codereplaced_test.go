package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/userpool"
)

// TestQueuedCodeReplacedIsNotSent: a code whose first send failed waits
// for its retry; meanwhile the user asks again and receives a new code,
// which replaces the first. The first code's retry must then not go out
// (a dead code, arriving late, would only use up the user's attempts),
// nor be reported as a failed delivery: the job is dropped.
func TestQueuedCodeReplacedIsNotSent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		box, addr := startMailbox(t)
		cfg := codeAdminConfig(dbURL)
		cfg.Mailer = "smtp"
		cfg.SMTPURL = "smtp://authpool:smtp-s3cret@" + addr
		cfg.MailFrom = "no-reply@example.org"
		cfg.MessageMaxAttempts = 3
		cfg.MessageBackoff = config.Duration(time.Minute)
		cfg.EmailAddressInterval = config.Duration(time.Second)
		in := start(t, cfg, nil)
		c := in.client()
		const to = "late.ada@example.com"
		must[*client.User](t)(c.RegisterByEmail(ctx, to, "passw0rd!", nil, nil))

		box.mu.Lock()
		box.busy = 1
		box.mu.Unlock()
		must0(t, c.SendEmail(ctx, to, client.EmailSceneResetPassword)) // code A
		in.settle(t)                                                   // A refused (451); its retry waits a minute
		if n := box.count(to); n != 0 {
			t.Fatalf("%d mails while the server refused", n)
		}

		in.Clock.Advance(2 * time.Second)
		must0(t, c.SendEmail(ctx, to, client.EmailSceneResetPassword)) // code B replaces A
		in.settle(t)
		codeB, _ := box.code(t, to)

		in.Clock.Advance(2 * time.Minute) // A's retry is due
		in.settle(t)
		if n := box.count(to); n != 1 {
			last, _ := box.code(t, to)
			t.Fatalf("%d mails reached %s (the last with %s), want only code B's (%s): a replaced code was sent", n, to, last, codeB)
		}
		if due, err := in.Srv.Store().CountDueMessages(ctx, in.Clock.Now().Add(time.Hour)); err != nil || due != 0 {
			t.Fatalf("the queue still holds %d messages (%v)", due, err)
		}
		failed := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSendFailed}))
		if len(failed) != 0 {
			t.Fatalf("a replaced code was reported as a failed delivery: %+v", failed)
		}
		sent := must[[]client.AuditEvent](t)(in.admin().ListAudit(ctx, "default", client.AuditQuery{Event: userpool.AuditCodeSent}))
		if len(sent) != 1 {
			t.Fatalf("want one %s audit event, got %+v", userpool.AuditCodeSent, sent)
		}
		// B, the code the user holds, still works.
		must0(t, c.ResetPasswordByEmailCode(ctx, to, codeB, "n3w-passw0rd"))
	})
}
