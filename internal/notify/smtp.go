package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTPConfig configures an SMTPMailer.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port] (port 587 by default; STARTTLS
	// whenever the server offers it) or smtps://[user:pass@]host[:port]
	// (port 465 by default; TLS from the first byte). With credentials,
	// smtp:// refuses to authenticate over a connection that is not
	// encrypted unless the host is the local machine (net/smtp's rule).
	// The query parameter starttls=required refuses servers that do not
	// offer STARTTLS.
	URL string
	// From is the sender, e.g. "Example <no-reply@example.com>".
	From string
	// TLS is the base TLS configuration (nil: system roots); ServerName is
	// set from the URL's host when empty.
	TLS *tls.Config
	// Timeout bounds a whole delivery (default 30 s).
	Timeout time.Duration
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
}

// SMTPMailer delivers mail through one SMTP server (net/smtp).
type SMTPMailer struct {
	host, port      string
	implicitTLS     bool
	requireStartTLS bool
	auth            smtp.Auth
	from            *mail.Address
	tls             *tls.Config
	timeout         time.Duration
	now             func() time.Time
}

// NewSMTPMailer checks cfg and returns a mailer. Errors never repeat the
// URL, which may hold a password.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("notify: SMTP URL must look like smtp://user:pass@host:port or smtps://...")
	}
	m := &SMTPMailer{host: u.Hostname(), port: u.Port(), timeout: cfg.Timeout, now: cfg.Now}
	switch u.Scheme {
	case "smtp":
		if m.port == "" {
			m.port = "587"
		}
	case "smtps":
		m.implicitTLS = true
		if m.port == "" {
			m.port = "465"
		}
	default:
		return nil, fmt.Errorf("notify: SMTP URL scheme %q: want smtp or smtps", u.Scheme)
	}
	switch v := u.Query().Get("starttls"); v {
	case "", "auto":
	case "required":
		m.requireStartTLS = true
	default:
		return nil, fmt.Errorf("notify: SMTP URL starttls=%q: want auto or required", v)
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		m.auth = smtp.PlainAuth("", u.User.Username(), pass, m.host)
	}
	m.from, err = mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: mail sender %q is not an address: %w", cfg.From, err)
	}
	m.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		m.tls = cfg.TLS.Clone()
	}
	if m.tls.ServerName == "" {
		m.tls.ServerName = m.host
	}
	if m.timeout <= 0 {
		m.timeout = 30 * time.Second
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// SendMail delivers msg: connect, (START)TLS, AUTH, MAIL, RCPT, DATA, QUIT,
// all within the timeout and ctx.
func (m *SMTPMailer) SendMail(ctx context.Context, msg Mail) error {
	to, err := mail.ParseAddress(msg.To)
	if err != nil || to.Name != "" {
		return errors.New("notify: smtp: recipient is not a bare address")
	}
	body, err := m.compose(to, msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	addr := net.JoinHostPort(m.host, m.port)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("notify: smtp: connect %s: %w", addr, unwrapOp(err))
	}
	// net/smtp has no context: a deadline on the connection bounds every
	// step, and closing it on cancellation unblocks a step in progress.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if m.implicitTLS {
		tc := tls.Client(conn, m.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("notify: smtp: TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("notify: smtp: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := m.deliver(c, to.Address, body); err != nil {
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	return nil
}

func (m *SMTPMailer) deliver(c *smtp.Client, to string, body []byte) error {
	if err := c.Hello(m.helloName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if !m.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if m.requireStartTLS {
			return errors.New("server does not offer STARTTLS (starttls=required)")
		}
	}
	if m.auth != nil {
		if err := c.Auth(m.auth); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has taken the message; a failing QUIT does not undo that.
	_ = c.Quit()
	return nil
}

// helloName is the sender's domain: servers often reject "localhost".
func (m *SMTPMailer) helloName() string {
	if at := strings.LastIndexByte(m.from.Address, '@'); at >= 0 {
		return m.from.Address[at+1:]
	}
	return "localhost"
}

// compose renders an RFC 5322 message: UTF-8 text, quoted-printable, the
// subject as an encoded word so that Chinese subjects survive.
func (m *SMTPMailer) compose(to *mail.Address, msg Mail) ([]byte, error) {
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return nil, errors.New("notify: smtp: subject contains a line break")
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	header("Date", m.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+m.helloName()+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unwrapOp keeps the cause of a dial error; the caller names the address
// once itself.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
