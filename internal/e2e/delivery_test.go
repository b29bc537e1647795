package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/authpool/authpool/client"
)

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1:0 that requires
// AUTH PLAIN and keeps every message it accepts. Recipients starting with
// "reject" are refused, as a server refuses an unknown mailbox; while
// busy is above zero, each recipient is answered 451 (try again later)
// and busy goes down by one.
type mailbox struct {
	user, pass string
	mu         sync.Mutex
	msgs       map[string][][]byte // recipient -> raw messages
	busy       int
}

type mailSession struct {
	box    *mailbox
	authed bool
	to     []string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: b}, nil }

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.box.user || pass != s.box.pass {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "reject") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.box.mu.Lock()
	busy := s.box.busy > 0
	if busy {
		s.box.busy--
	}
	s.box.mu.Unlock()
	if busy {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	for _, to := range s.to {
		s.box.msgs[to] = append(s.box.msgs[to], raw)
	}
	return nil
}

func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{user: "authpool", pass: "smtp-s3cret", msgs: map[string][][]byte{}}
	srv := smtp.NewServer(box)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true // plain TCP on loopback; TLS is covered in internal/notify
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().String()
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// code reads the code out of the latest message to addr, as its reader
// would: parse the message, decode the body, find the six digits.
func (b *mailbox) code(t *testing.T, addr string) (code, subject string) {
	t.Helper()
	b.mu.Lock()
	msgs := b.msgs[addr]
	b.mu.Unlock()
	if len(msgs) == 0 {
		t.Fatalf("no mail reached %s", addr)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(msgs[len(msgs)-1])))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("headers %v", msg.Header)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	m := sixDigits.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no code in the mail to %s: %s", addr, body)
	}
	return m[1], subject
}

func (b *mailbox) count(addr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs[addr])
}

// TestSMTPDelivery: authpool sends through a real SMTP server; the codes
// read out of the received mails reset a password and change an address.
func TestSMTPDelivery(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		box, addr := startMailbox(t)
		cfg := codeConfig(dbURL)
		cfg.Mailer = "smtp"
		cfg.SMTPURL = "smtp://authpool:smtp-s3cret@" + addr
		cfg.MailFrom = "Authpool <no-reply@example.org>"
		in := start(t, cfg, nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "ada@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		must0(t, c.SendEmail(ctx, "ada@example.com", client.EmailSceneResetPassword))
		in.settle(t) // sent by the queue's workers, just after the answer
		resetCode, subject := box.code(t, "ada@example.com")
		if subject != "Your password reset code" {
			t.Fatalf("subject %q", subject)
		}
		must0(t, in.client().ResetPasswordByEmailCode(ctx, "ada@example.com", resetCode, "n3w-passw0rd"))
		if st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, u.Token)); st.Status {
			t.Fatal("the session survived the reset")
		}
		must[*client.User](t)(c.LoginByEmail(ctx, "ada@example.com", "n3w-passw0rd", nil))

		in.Clock.Advance(time.Minute) // one mail per address per minute
		must0(t, c.SendEmail(ctx, "ada.new@example.com", client.EmailSceneChangeEmail))
		must0(t, c.SendEmail(ctx, "ada@example.com", client.EmailSceneChangeEmail))
		in.settle(t)
		newCode, _ := box.code(t, "ada.new@example.com")
		oldCode, _ := box.code(t, "ada@example.com")
		up, err := c.UpdateEmail(ctx, "ada.new@example.com", newCode, "ada@example.com", oldCode)
		if err != nil || up.Email != "ada.new@example.com" || !up.EmailVerified {
			t.Fatalf("UpdateEmail: %v %+v", err, up)
		}

		// A refused delivery is not the caller's business: the answer is a
		// success once the mail is queued (the failure is reported to the
		// pool's operators: TestQueuedCodeDeliveryFailure).
		must0(t, c.SendEmail(ctx, "reject.me@example.com", client.EmailSceneChangeEmail))
		in.settle(t)
		if box.count("reject.me@example.com") != 0 {
			t.Fatal("the server accepted a refused mail")
		}
		if box.count("ada@example.com") != 2 || box.count("ada.new@example.com") != 1 {
			t.Fatal("unexpected mails")
		}
		in.Outbox.noLeak(t, resetCode, newCode, oldCode, "smtp-s3cret")
	})
}

// smsGateway is an HTTP SMS gateway: it checks each request's signature
// (computed here independently of authpool's code) and keeps the bodies.
type smsGateway struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	fail   bool
	got    []map[string]string
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sig := r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), r.Header.Get("Webhook-Signature")
	mac := hmac.New(sha256.New, g.secret)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || id == "" || !hmac.Equal([]byte(sig), []byte(want)) {
		g.t.Errorf("bad signature: id %q ts %q sig %q", id, ts, sig)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		g.t.Errorf("%s %s", r.Method, r.Header.Get("Content-Type"))
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		g.t.Error(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail {
		http.Error(w, "upstream down", http.StatusServiceUnavailable)
		return
	}
	g.got = append(g.got, m)
	w.WriteHeader(http.StatusOK)
}

func (g *smsGateway) last(t *testing.T) map[string]string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.got) == 0 {
		t.Fatal("the gateway received nothing")
	}
	return g.got[len(g.got)-1]
}

func TestHTTPSMSDelivery(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		gw := &smsGateway{t: t, secret: []byte("gateway-shared-secret-0123456789")}
		srv := httptest.NewServer(gw)
		defer srv.Close()
		cfg := codeConfig(dbURL)
		cfg.SMS = "http"
		cfg.SMSHTTPURL = srv.URL + "/sms?key=url-t0ken"
		cfg.SMSHTTPSecret = string(gw.secret)
		in := start(t, cfg, nil)
		c := in.client()

		must0(t, c.SendSmsCode(ctx, "138 0013 8000"))
		in.settle(t)
		m := gw.last(t)
		if m["to"] != cnPhone || len(m["code"]) != 6 || !strings.Contains(m["text"], m["code"]) || m["locale"] != "en" {
			t.Fatalf("gateway got %v", m)
		}
		u, err := c.LoginByPhoneCode(ctx, cnPhone, m["code"], nil)
		if err != nil || !u.NewlyCreated {
			t.Fatalf("login with the delivered code: %v %+v", err, u)
		}

		// A failing gateway: the caller is answered at once; the message is
		// sent again after the backoff, and the code it carries works.
		gw.mu.Lock()
		gw.fail = true
		gw.mu.Unlock()
		must0(t, c.SendSmsCode(ctx, usPhone))
		in.settle(t) // the first attempt failed; the retry waits for its backoff
		if last := gw.last(t); last["to"] == usPhone {
			t.Fatalf("a failed send was recorded as received: %v", last)
		}
		gw.mu.Lock()
		gw.fail = false
		gw.mu.Unlock()
		in.Clock.Advance(time.Duration(cfg.MessageBackoff))
		in.settle(t)
		if last := gw.last(t); last["to"] != usPhone {
			t.Fatalf("the retry did not reach the gateway: %v", last)
		}
		must[*client.User](t)(c.LoginByPhoneCode(ctx, usPhone, gw.last(t)["code"], nil))
		in.Outbox.noLeak(t, m["code"], gw.last(t)["code"], "url-t0ken", string(gw.secret))
	})
}

func TestTwilioDelivery(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		var mu sync.Mutex
		var bodies []string
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, _ := r.BasicAuth()
			if err := r.ParseForm(); err != nil || user != "ACtest" || pass != "twilio-t0ken" ||
				r.URL.Path != "/2010-04-01/Accounts/ACtest/Messages.json" || r.PostForm.Get("From") != "+15005550006" {
				t.Errorf("twilio request: %s %q %v", r.URL.Path, user, r.PostForm)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			bodies = append(bodies, r.PostForm.Get("To")+" "+r.PostForm.Get("Body"))
			mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"sid": "SM1", "status": "queued"}`)
		}))
		defer api.Close()
		cfg := codeConfig(dbURL)
		cfg.SMS = "twilio"
		cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioFrom, cfg.TwilioBaseURL = "ACtest", "twilio-t0ken", "+15005550006", api.URL
		in := start(t, cfg, nil)
		c := in.client()
		must0(t, c.SendSmsCode(ctx, usPhone))
		in.settle(t)
		mu.Lock()
		got := bodies[len(bodies)-1]
		mu.Unlock()
		if !strings.HasPrefix(got, usPhone+" Your verification code is ") {
			t.Fatalf("twilio got %q", got)
		}
		code := sixDigits.FindString(got)
		must[*client.User](t)(c.RegisterByPhoneCode(ctx, usPhone, code, "passw0rd!", nil, nil))
		in.Outbox.noLeak(t, code, "twilio-t0ken")
	})
}
