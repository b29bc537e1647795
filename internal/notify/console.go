package notify

import (
	"context"
	"log/slog"
)

// Console is the development sender of mail and SMS: instead of delivering
// a message it writes it to the log, one line per message with the
// recipient as "to" and the code as "code", so that a developer (or a
// script reading the log) can complete every flow. It is the default of a
// fresh install; production configures SMTP and an SMS provider.
type Console struct {
	Log *slog.Logger
}

// SendMail logs m.
func (c Console) SendMail(ctx context.Context, m Mail) error {
	c.Log.LogAttrs(ctx, slog.LevelInfo, "mail (console sender: not delivered)",
		slog.String("to", m.To), slog.String("code", m.Code), slog.String("scene", m.Scene),
		slog.String("subject", m.Subject), slog.String("text", m.Text))
	return nil
}

// SendSMS logs m.
func (c Console) SendSMS(ctx context.Context, m SMS) error {
	c.Log.LogAttrs(ctx, slog.LevelInfo, "sms (console sender: not delivered)",
		slog.String("to", m.To), slog.String("code", m.Code), slog.String("text", m.Text))
	return nil
}
