package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpBackend is a real SMTP server's backend that keeps what it receives.
type smtpBackend struct {
	user, pass string // "" accepts no AUTH and needs none
	mu         sync.Mutex
	msgs       []smtpMsg
}

type smtpMsg struct {
	from, to string
	tls      bool
	data     []byte
}

type smtpSession struct {
	be       *smtpBackend
	tls      bool
	authed   bool
	from, to string
}

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpSession{be: b, tls: isTLS}, nil
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.be.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.be.user || pass != s.be.pass {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "reject") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = to
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.be.msgs = append(s.be.msgs, smtpMsg{from: s.from, to: s.to, tls: s.tls, data: b})
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func (b *smtpBackend) received() []smtpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMsg(nil), b.msgs...)
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP serves be on 127.0.0.1:0: STARTTLS offered when cert is given,
// or TLS from the first byte when implicit.
func startSMTP(t *testing.T, be *smtpBackend, cert *tls.Certificate, implicit bool) string {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			ln = tls.NewListener(ln, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// readText decodes the quoted-printable body and the subject of a message.
func readText(t *testing.T, raw []byte) (subject, body string, h mail.Header) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(b), msg.Header
}

func TestSMTPMailer(t *testing.T) {
	cert, roots := selfSigned(t)
	mailMsg := Mail{To: "ada@example.com", Subject: "您的验证码 code", Text: "Your code is 123456.\nA line that is rather long so that quoted-printable has to wrap it somewhere = here.\n"}
	cases := []struct {
		name     string
		be       *smtpBackend
		cert     *tls.Certificate
		implicit bool
		url      func(addr string) string
		wantTLS  bool
	}{
		{"plain with auth to localhost", &smtpBackend{user: "u", pass: "p@ss"}, nil, false,
			func(a string) string { return "smtp://u:p%40ss@" + a }, false},
		{"STARTTLS with auth", &smtpBackend{user: "u", pass: "p"}, &cert, false,
			func(a string) string { return "smtp://u:p@" + a + "?starttls=required" }, true},
		{"implicit TLS", &smtpBackend{}, &cert, true,
			func(a string) string { return "smtps://" + a }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startSMTP(t, tc.be, tc.cert, tc.implicit)
			m, err := NewSMTPMailer(SMTPConfig{URL: tc.url(addr), From: "Authpool <no-reply@example.org>", TLS: &tls.Config{RootCAs: roots}})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SendMail(t.Context(), mailMsg); err != nil {
				t.Fatal(err)
			}
			got := tc.be.received()
			if len(got) != 1 || got[0].from != "no-reply@example.org" || got[0].to != "ada@example.com" || got[0].tls != tc.wantTLS {
				t.Fatalf("received %+v", got)
			}
			subject, body, h := readText(t, got[0].data)
			if subject != mailMsg.Subject || strings.ReplaceAll(body, "\r\n", "\n") != mailMsg.Text {
				t.Fatalf("subject %q body %q", subject, body)
			}
			if h.Get("From") != `"Authpool" <no-reply@example.org>` || h.Get("Message-Id") == "" || h.Get("Date") == "" {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

func TestSMTPMailerFailures(t *testing.T) {
	_, roots := selfSigned(t)
	plain := startSMTP(t, &smtpBackend{user: "u", pass: "p"}, nil, false)
	cases := []struct {
		name, url, to string
		want          string
	}{
		{"wrong password", "smtp://u:wrong@" + plain, "ada@example.com", "AUTH"},
		{"no credentials", "smtp://" + plain, "ada@example.com", "MAIL FROM"},
		{"rejected recipient", "smtp://u:p@" + plain, "reject@example.com", "RCPT TO"},
		{"STARTTLS required but not offered", "smtp://u:p@" + plain + "?starttls=required", "ada@example.com", "STARTTLS"},
		{"TLS to a plain server", "smtps://u:p@" + plain, "ada@example.com", "TLS"},
		{"nobody listening", "smtp://127.0.0.1:1", "ada@example.com", "connect"},
		{"header injection", "smtp://u:p@" + plain, "ada@example.com\r\nBcc: x@example.com", "recipient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewSMTPMailer(SMTPConfig{URL: tc.url, From: "no-reply@example.org", TLS: &tls.Config{RootCAs: roots}, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = m.SendMail(t.Context(), Mail{To: tc.to, Subject: "s", Text: "secret-code-777"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-code-777") || strings.Contains(err.Error(), "wrong@") || strings.Contains(err.Error(), "u:p@") {
				t.Fatalf("error leaks the message or the password: %v", err)
			}
		})
	}
}

func TestNewSMTPMailerRefusesBadConfig(t *testing.T) {
	for _, tc := range []SMTPConfig{
		{URL: "http://host", From: "a@example.com"},
		{URL: "smtp://", From: "a@example.com"},
		{URL: "smtp://host?starttls=maybe", From: "a@example.com"},
		{URL: "smtp://user:secretpw@host", From: "not an address"},
	} {
		_, err := NewSMTPMailer(tc)
		if err == nil {
			t.Errorf("%+v accepted", tc)
		} else if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}
