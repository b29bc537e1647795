package notify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifySignature checks a Standard Webhooks signature the way a gateway
// would, independently of Sign.
func verifySignature(t *testing.T, r *http.Request, body, key []byte) {
	t.Helper()
	id, ts, sig := r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), r.Header.Get("Webhook-Signature")
	if !strings.HasPrefix(id, "msg_") || ts == "" || !strings.HasPrefix(sig, "v1,") {
		t.Errorf("signature headers: id %q ts %q sig %q", id, ts, sig)
		return
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		t.Errorf("timestamp %q", ts)
	}
	want := Sign(key, id, mustInt(ts), body)
	got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
	if err != nil || sig != want || len(got) != 32 {
		t.Errorf("signature %q, want %q", sig, want)
	}
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func TestHTTPSMS(t *testing.T) {
	secret := "a-gateway-secret-of-some-length"
	var mu sync.Mutex
	var got []smsBody
	status := http.StatusAccepted
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		verifySignature(t, r, body, []byte(secret))
		var b smsBody
		if err := json.Unmarshal(body, &b); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, b)
		st := status
		mu.Unlock()
		w.WriteHeader(st)
	}))
	defer gw.Close()
	now := time.Unix(1_700_000_000, 0)
	s, err := NewHTTPSMS(HTTPSMSConfig{URL: gw.URL + "/send?token=tok3n", Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := SMS{To: "+8613800138000", Text: "您的验证码是 123456", Code: "123456", Locale: "zh-CN"}
	if err := s.SendSMS(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (smsBody{To: m.To, Text: m.Text, Code: m.Code, Locale: m.Locale}) {
		t.Fatalf("gateway got %+v", got)
	}

	mu.Lock()
	status = http.StatusBadGateway
	mu.Unlock()
	err = s.SendSMS(t.Context(), m)
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") || strings.Contains(err.Error(), "tok3n") || strings.Contains(err.Error(), "123456") {
		t.Fatalf("a refused send: %v", err)
	}
	gw.Close()
	err = s.SendSMS(t.Context(), m)
	if err == nil || strings.Contains(err.Error(), "tok3n") {
		t.Fatalf("an unreachable gateway: %v", err)
	}
}

func TestSigningKey(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 24)
	k, err := SigningKey("whsec_" + base64.StdEncoding.EncodeToString(raw))
	if err != nil || !bytes.Equal(k, raw) {
		t.Fatalf("whsec_ secret: %v %x", err, k)
	}
	if k, _ := SigningKey("plain-secret-sixteen"); string(k) != "plain-secret-sixteen" {
		t.Fatal("a plain secret is used as is")
	}
	for _, bad := range []string{"", "short", "whsec_!!!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("tiny"))} {
		if _, err := SigningKey(bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
	if _, err := NewHTTPSMS(HTTPSMSConfig{URL: "ftp://x", Secret: "long-enough-secret"}); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestTwilio(t *testing.T) {
	var calls int
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" || !ok || user != "AC123" || pass != "auth-token" {
			t.Errorf("%s %s auth %v %q", r.Method, r.URL.Path, ok, user)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.PostForm.Get("To") == "+15005550001" {
			// Twilio's answer for an invalid number.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`)
			return
		}
		if r.PostForm.Get("From") != "+15005550006" || r.PostForm.Get("Body") != "Your code is 654321" {
			t.Errorf("form %v", r.PostForm)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid": "SM1", "status": "queued"}`)
	}))
	defer api.Close()
	tw, err := NewTwilio(TwilioConfig{AccountSID: "AC123", AuthToken: "auth-token", From: "+15005550006", BaseURL: api.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.SendSMS(t.Context(), SMS{To: "+14155550100", Text: "Your code is 654321", Code: "654321"}); err != nil {
		t.Fatal(err)
	}
	err = tw.SendSMS(t.Context(), SMS{To: "+15005550001", Text: "Your code is 654321"})
	if err == nil || !strings.Contains(err.Error(), "21211") || strings.Contains(err.Error(), "auth-token") {
		t.Fatalf("refused message: %v", err)
	}
	if calls != 2 {
		t.Fatalf("%d calls", calls)
	}
	if _, err := NewTwilio(TwilioConfig{AccountSID: "AC1", From: "+1"}); err == nil {
		t.Fatal("missing auth token accepted")
	}
}

func TestConsoleLogsRecipientAndCode(t *testing.T) {
	var buf bytes.Buffer
	c := Console{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := c.SendSMS(t.Context(), SMS{To: "+8613800138000", Text: "t", Code: "111222"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(t.Context(), Mail{To: "a@example.com", Subject: "s", Text: "t", Code: "333444", Scene: "RESET_PASSWORD"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per message", len(lines))
	}
	for i, want := range []struct{ to, code string }{{"+8613800138000", "111222"}, {"a@example.com", "333444"}} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["to"] != want.to || rec["code"] != want.code {
			t.Fatalf("line %d: %v", i, rec)
		}
	}
}
