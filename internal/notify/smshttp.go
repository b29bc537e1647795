package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPSMSConfig configures an HTTPSMS sender.
type HTTPSMSConfig struct {
	// URL receives one POST per message.
	URL string
	// Secret keys the signature. A value "whsec_<base64>" is decoded as in
	// Standard Webhooks; any other value is used as is.
	Secret string
	// Client sends the requests (default: a client with a 10 s timeout).
	Client *http.Client
	// Now stamps the signature (default time.Now).
	Now func() time.Time
}

// HTTPSMS hands each SMS to an HTTP gateway of the operator's choosing: a
// POST of the JSON body
//
//	{"to": "+8613800138000", "text": "...", "code": "123456", "locale": "zh-CN"}
//
// signed the Standard Webhooks way: headers Webhook-Id, Webhook-Timestamp
// (unix seconds) and Webhook-Signature "v1,<base64 HMAC-SHA256(secret,
// id + "." + timestamp + "." + body)>". Any 2xx answer is success. The
// gateway learns the code (it must render or forward it), so it must be
// trusted like the SMS provider behind it.
type HTTPSMS struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

// NewHTTPSMS checks cfg and returns the sender.
func NewHTTPSMS(cfg HTTPSMSConfig) (*HTTPSMS, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("notify: SMS HTTP URL must be an http:// or https:// URL")
	}
	key, err := SigningKey(cfg.Secret)
	if err != nil {
		return nil, err
	}
	h := &HTTPSMS{url: cfg.URL, key: key, client: cfg.Client, now: cfg.Now}
	if h.client == nil {
		h.client = &http.Client{Timeout: 10 * time.Second}
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// SigningKey turns a configured secret into HMAC key bytes: "whsec_" plus
// base64 is decoded (Standard Webhooks secrets), anything else is taken as
// is. At least 16 bytes are required.
func SigningKey(secret string) ([]byte, error) {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return nil, errors.New("notify: signing secret: whsec_ secret is not valid base64")
		}
	}
	if len(key) < 16 {
		return nil, errors.New("notify: signing secret must be at least 16 bytes")
	}
	return key, nil
}

// Sign computes the Standard Webhooks signature header value.
func Sign(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type smsBody struct {
	To     string `json:"to"`
	Text   string `json:"text"`
	Code   string `json:"code"`
	Locale string `json:"locale"`
}

// SendSMS posts m to the gateway.
func (h *HTTPSMS) SendSMS(ctx context.Context, m SMS) error {
	body, err := json.Marshal(smsBody{To: m.To, Text: m.Text, Code: m.Code, Locale: m.Locale})
	if err != nil {
		return fmt.Errorf("notify: sms http: %w", err)
	}
	var rid [12]byte
	_, _ = rand.Read(rid[:])
	id := "msg_" + hex.EncodeToString(rid[:])
	ts := h.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("notify: sms http: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", id)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Webhook-Signature", Sign(h.key, id, ts, body))
	return doProvider(h.client, req, "sms http", nil)
}

// doProvider sends req and turns anything but a 2xx answer into an error.
// The URL stays out of the error (it may carry a token); describe, when
// not nil, extracts the provider's own error text from the body.
func doProvider(c *http.Client, req *http.Request, name string, describe func([]byte) string) error {
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: %s: %w", name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := fmt.Sprintf("notify: %s: HTTP %d", name, resp.StatusCode)
	if describe != nil {
		if d := describe(raw); d != "" {
			msg += ": " + d
		}
	}
	return errors.New(msg)
}
