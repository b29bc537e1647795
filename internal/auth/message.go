package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// message is what a queued job holds, sealed (courier.Sealer): everything
// the worker needs to decide, render and send, including the code.
type message struct {
	Channel string `json:"channel"` // "email" or "sms"
	Purpose string `json:"purpose"`
	Scene   string `json:"scene,omitempty"` // the email scene
	To      string `json:"to"`              // the code's target: E.164, or the email's comparison key
	// Address is the email address as the request spelled it, where the
	// mail goes when no account has the address; an account's mail goes
	// to its own address as stored (never to a look-alike spelling).
	Address string `json:"address,omitempty"`
	Code    string `json:"code"`
	// NeedsAccount: the message goes out only if an account has To (a
	// RESET_PASSWORD or VERIFY_EMAIL mail); otherwise the worker drops it.
	// The request path does not look, so that its work is the same whether
	// or not the account exists.
	NeedsAccount   bool      `json:"needsAccount,omitempty"`
	AcceptLanguage string    `json:"acceptLanguage,omitempty"`
	ExpiresAt      time.Time `json:"expiresAt"`
	ClientIP       string    `json:"clientIp,omitempty"`
	UserAgent      string    `json:"userAgent,omitempty"`
	AppID          string    `json:"appId,omitempty"`
}

// Waker is told when a job is enqueued, so that a local worker takes it at
// once (the courier).
type Waker interface{ Wake() }

// UseCourier makes enqueued codes wake w's workers.
func (s *Service) UseCourier(w Waker) { s.waker = w }

// queueCode stores a fresh code for (pool, purpose, target) and the job that
// sends it, in one transaction, and wakes a local worker. Every send
// request does exactly this after its limits, whatever the target: whether
// it is sent is decided by the worker, out of the caller's sight.
func (s *Service) queueCode(ctx context.Context, m Meta, poolID string, ttl time.Duration, msg message) error {
	if s.cfg.Sealer == nil {
		return userpool.Internal(errors.New("auth: no message sealer configured"))
	}
	now := s.now().UTC()
	msg.ExpiresAt = now.Add(ttl)
	msg.AcceptLanguage = truncate(m.AcceptLanguage, 256)
	msg.ClientIP, msg.UserAgent, msg.AppID = m.ClientIP, truncate(m.UserAgent, 512), m.AppID
	plain, err := json.Marshal(msg)
	if err != nil {
		return userpool.Internal(err)
	}
	id := newID()
	code := &userpool.VerificationCode{
		PoolID: poolID, Purpose: msg.Purpose, Target: msg.To, Hash: s.codeHash(poolID, msg.Purpose, msg.To, msg.Code),
		CreatedAt: now, ExpiresAt: msg.ExpiresAt,
	}
	job := &userpool.MessageJob{ID: id, PoolID: poolID, Channel: msg.Channel, Payload: s.cfg.Sealer.Seal(id, plain), CreatedAt: now, NextAttemptAt: now}
	if err := s.store.WriteRecords(ctx, code, job); err != nil {
		return err
	}
	if s.waker != nil {
		s.waker.Wake()
	}
	return nil
}

// Messenger is the courier's Handler: it sends the codes of the queue.
func (s *Service) Messenger() courier.Handler { return messenger{s} }

type messenger struct{ s *Service }

// Send decides and sends one queued code. A code no longer stored (a
// later request replaced it while the job waited for a retry) is dropped
// unsent and unreported. A code nobody may receive (no
// account for a RESET_PASSWORD or VERIFY_EMAIL address) is dropped and its
// stored hash deleted, as if it had never been asked for.
func (h messenger) Send(ctx context.Context, job *userpool.MessageJob, plain []byte) ([]userpool.Record, error) {
	s := h.s
	var msg message
	if err := json.Unmarshal(plain, &msg); err != nil {
		return nil, courier.Permanent(err)
	}
	if !s.now().Before(msg.ExpiresAt) {
		return nil, courier.Permanent(errExpiredUnsent)
	}
	switch current, err := s.stillStored(ctx, job.PoolID, msg); {
	case err != nil:
		return nil, err
	case !current:
		// A later request replaced (or a use spent) this code while the
		// job waited for a retry: sent now, it would arrive dead and use
		// up attempts. Nobody is owed it, so it is not a failure either.
		s.log.LogAttrs(ctx, slog.LevelInfo, "queued verification code no longer stored; dropped unsent",
			slog.String("pool_id", job.PoolID), slog.String("purpose", msg.Purpose))
		return nil, nil
	}
	// The address as given: the account lookup goes by it (the store finds
	// a row not keyed yet, an older replica's, by the spelling, not by the
	// key), and without an account the message goes to it.
	given := msg.To
	if msg.Channel != "sms" && msg.Address != "" {
		given = msg.Address
	}
	var u *userpool.User
	var err error
	if msg.Channel == "sms" {
		u, err = s.store.GetUserByPhone(ctx, job.PoolID, given)
	} else {
		u, err = s.store.GetUserByEmail(ctx, job.PoolID, given)
	}
	switch {
	case isNotFound(err):
		u = nil
	case err != nil:
		return nil, err
	}
	if u == nil && msg.NeedsAccount {
		s.takeBack(ctx, job.PoolID, msg)
		return nil, nil
	}
	locale, rcpt := "", given
	if u != nil {
		locale = u.Locale
		if msg.Channel != "sms" && u.Email != "" {
			rcpt = u.Email
		}
	}
	if err := h.deliver(ctx, job.PoolID, msg, rcpt, locale); err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slogInfo, "verification code sent", slog.String("pool_id", job.PoolID), slog.String("purpose", msg.Purpose))
	userID := ""
	if u != nil {
		userID = u.ID
	}
	// The audit log records that a code went out and for what, never the
	// code or the full address.
	return []userpool.Record{s.auditEvent(msg.meta(), job.PoolID, userID, userpool.AuditCodeSent,
		map[string]string{"purpose": msg.Purpose, "channel": msg.channelName()})}, nil
}

var errExpiredUnsent = errors.New("the code expired before it could be sent")

// deliver renders msg in the recipient's language and sends it to rcpt.
func (h messenger) deliver(ctx context.Context, poolID string, msg message, rcpt, locale string) error {
	s := h.s
	lang := notify.MatchLanguage(locale, msg.AcceptLanguage)
	minutes := minutes(msg.ExpiresAt.Sub(s.now()))
	if msg.Channel == "sms" {
		_, text, err := s.cfg.Templates.Render(notify.KindSMS, lang, notify.Data{Code: msg.Code, Minutes: minutes, To: msg.To})
		if err != nil {
			return courier.Permanent(err)
		}
		return maskedError(s.cfg.SMS.SendSMS(ctx, notify.SMS{To: msg.To, Text: text, Code: msg.Code, Locale: lang}), msg.To)
	}
	data := notify.Data{Code: msg.Code, Minutes: minutes, To: rcpt}
	kind := notify.KindChangeEmail
	switch EmailScene(msg.Scene) {
	case SceneResetPassword:
		kind = notify.KindResetPassword
	case SceneMFAVerify:
		kind = notify.KindMFAVerify
	case SceneVerifyEmail:
		kind = notify.KindVerifyEmail
		data.Link = s.cfg.VerifyEmailLink(poolID, msg.To, msg.Code)
	}
	subject, text, err := s.cfg.Templates.Render(kind, lang, data)
	if err != nil {
		return courier.Permanent(err)
	}
	return maskedError(s.cfg.Mailer.SendMail(ctx, notify.Mail{To: rcpt, Subject: subject, Text: text, Code: msg.Code, Scene: msg.Scene}), rcpt)
}

// GiveUp reports a code that will not be sent: the audit log and the
// message.delivery_failed webhook event say which pool, channel, scene
// and (masked) target, after how many attempts; the code's hash is
// deleted, since nobody received the code.
func (h messenger) GiveUp(ctx context.Context, job *userpool.MessageJob, plain []byte, attempts int, cause error) []userpool.Record {
	s := h.s
	var msg message
	reason := "send_failed"
	if plain == nil || json.Unmarshal(plain, &msg) != nil {
		reason = "unreadable"
		msg = message{Channel: job.Channel}
	} else {
		s.takeBack(ctx, job.PoolID, msg)
		if errors.Is(cause, errExpiredUnsent) {
			reason = "expired"
		}
	}
	scene := msg.Scene
	if msg.Channel == "sms" {
		scene = "sms"
	}
	target := maskTarget(msg.To)
	detail := map[string]string{
		"channel": msg.channelName(), "purpose": msg.Purpose, "target": target,
		"attempts": strconv.Itoa(attempts), "reason": reason,
	}
	if cause != nil {
		detail["error"] = truncate(maskedError(cause, msg.To).Error(), 512)
	}
	now := s.now().UTC()
	return []userpool.Record{
		s.auditEvent(msg.meta(), job.PoolID, "", userpool.AuditCodeSendFailed, detail),
		pipeline.NewEvent(api.EventMessageDeliveryFailed, job.PoolID, now, api.WebhookData{
			Channel: msg.Channel, Scene: scene, Target: target, Attempts: attempts, Reason: reason,
			ClientIP: msg.ClientIP, UserAgent: msg.UserAgent,
		}),
	}
}

// stillStored reports whether msg's code is the one stored for its pool,
// purpose and target. It reads under UseCode and spends nothing.
func (s *Service) stillStored(ctx context.Context, poolID string, msg message) (bool, error) {
	h := s.codeHash(poolID, msg.Purpose, msg.To, msg.Code)
	current := false
	err := s.store.UseCode(ctx, poolID, msg.Purpose, msg.To, func(c *userpool.VerificationCode) bool {
		current = subtle.ConstantTimeCompare(c.Hash, h) == 1
		return false
	})
	if err != nil && !errors.Is(err, userpool.ErrCodeNotFound) {
		return false, err
	}
	return current, nil
}

// takeBack deletes the stored hash of msg's code, if it is still that
// code (a later request may have replaced it).
func (s *Service) takeBack(ctx context.Context, poolID string, msg message) {
	h := s.codeHash(poolID, msg.Purpose, msg.To, msg.Code)
	err := s.store.UseCode(ctx, poolID, msg.Purpose, msg.To, func(c *userpool.VerificationCode) bool {
		return subtle.ConstantTimeCompare(c.Hash, h) == 1
	})
	if err != nil && !errors.Is(err, userpool.ErrCodeNotFound) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "removing an unsent code failed", slog.String("error", err.Error()))
	}
}

func (msg message) meta() Meta {
	return Meta{ClientIP: msg.ClientIP, UserAgent: msg.UserAgent, AppID: msg.AppID}
}

// channelName is the channel as the audit log has always named it.
func (msg message) channelName() string {
	if msg.Channel == "sms" {
		return "SMS"
	}
	return msg.Channel
}

// maskTarget keeps enough of an address to recognise it, not to use it:
// "a***@example.com", "+86*******8000".
func maskTarget(t string) string {
	if local, domain, ok := strings.Cut(t, "@"); ok {
		r, size := utf8.DecodeRuneInString(local)
		if size == 0 || r == utf8.RuneError {
			return "***@" + domain
		}
		return local[:size] + "***@" + domain
	}
	if len(t) <= 7 {
		return strings.Repeat("*", len(t))
	}
	return t[:3] + strings.Repeat("*", len(t)-7) + t[len(t)-4:]
}

// maskedError keeps the recipient out of a sender's error (an SMTP server
// may repeat it), since the error goes to the queue, the log and the
// audit log.
func maskedError(err error, to string) error {
	if err == nil || to == "" || !strings.Contains(err.Error(), to) {
		return err
	}
	return maskedErr{msg: strings.ReplaceAll(err.Error(), to, maskTarget(to)), err: err}
}

type maskedErr struct {
	msg string
	err error
}

func (e maskedErr) Error() string { return e.msg }
func (e maskedErr) Unwrap() error { return e.err }
