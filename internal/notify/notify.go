// Package notify delivers messages to end users: verification codes by
// mail and by SMS. It defines the Mailer and SMSSender interfaces, their
// real implementations (SMTP; a signed HTTP gateway and Twilio's REST API
// for SMS), console senders for development that write each message to the
// log, and the message templates in English and Simplified Chinese.
//
// Only the console senders ever log a code: they exist so that a developer
// can try every flow without a mail server or an SMS provider. Every other
// sender keeps the message out of its errors.
package notify

import "context"

// Mail is one plain-text mail to one recipient.
type Mail struct {
	// To is a single address, already validated by the caller.
	To      string
	Subject string
	Text    string
	// Code is the verification code the text carries and Scene what it is
	// for (e.g. "RESET_PASSWORD"). Senders that render the text ignore
	// them; the console sender logs them as attributes of their own.
	Code  string
	Scene string
}

// SMS is one text message to one phone number.
type SMS struct {
	// To is an E.164 number ("+8613800138000").
	To   string
	Text string
	// Code and Locale ("en", "zh-CN") are given too, for gateways that
	// render their own (provider-approved) templates.
	Code   string
	Locale string
}

// Mailer sends mail. SendMail returns once the message is accepted for
// delivery, or with an error that never contains the message.
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}

// SMSSender sends text messages, with the same promise as Mailer.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}
