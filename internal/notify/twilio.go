package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TwilioConfig configures a Twilio sender.
type TwilioConfig struct {
	AccountSID string
	AuthToken  string
	// From is a Twilio number in E.164 or an alphanumeric sender id.
	From string
	// BaseURL is the API's root (default https://api.twilio.com); tests
	// and regional edges set their own.
	BaseURL string
	Client  *http.Client
}

// Twilio sends SMS through Twilio's Programmable Messaging REST API:
// POST {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with the
// form fields To, From and Body, authenticated with HTTP basic auth.
type Twilio struct {
	endpoint, sid, token, from string
	client                     *http.Client
}

// NewTwilio checks cfg and returns the sender.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" || cfg.From == "" {
		return nil, errors.New("notify: twilio needs an account SID, an auth token and a From number")
	}
	base := cfg.BaseURL
	if base == "" {
		base = "https://api.twilio.com"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("notify: twilio base URL must be an http:// or https:// URL")
	}
	t := &Twilio{
		endpoint: strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json",
		sid:      cfg.AccountSID, token: cfg.AuthToken, from: cfg.From, client: cfg.Client,
	}
	if t.client == nil {
		t.client = &http.Client{Timeout: 10 * time.Second}
	}
	return t, nil
}

// SendSMS creates one message.
func (t *Twilio) SendSMS(ctx context.Context, m SMS) error {
	form := url.Values{"To": {m.To}, "From": {t.from}, "Body": {m.Text}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return errors.New("notify: twilio: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.sid, t.token)
	return doProvider(t.client, req, "twilio", func(raw []byte) string {
		// Twilio's error body: {"code": 21211, "message": "...", "status": 400}.
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Code == 0 {
			return ""
		}
		return fmt.Sprintf("twilio error %d: %s", e.Code, e.Message)
	})
}
