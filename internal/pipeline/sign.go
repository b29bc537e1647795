package pipeline

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
)

// secretPrefix marks a Standard Webhooks secret: "whsec_" and the base64
// of the key.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// minSecretBytes is the shortest signing key accepted.
const minSecretBytes = 16

// ParseSecret returns the HMAC key of a "whsec_<base64>" secret.
func ParseSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New(`signing secret must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New(`signing secret must be "whsec_" followed by base64`)
	}
	if len(key) < minSecretBytes {
		return nil, errors.New("signing secret must hold at least 16 bytes")
	}
	return key, nil
}

// Sign returns the Standard Webhooks signature header value of body,
// "v1," and the base64 HMAC-SHA256 of "id.timestamp.body".
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// setSignature sets the three Standard Webhooks headers on h.
func setSignature(h http.Header, secret, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set(api.HeaderWebhookID, id)
	h.Set(api.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(api.HeaderWebhookSignature, sig)
	return nil
}

// newMessageID returns a Standard Webhooks style id for a request to an
// HTTP pipeline.
func newMessageID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "msg_" + hex.EncodeToString(b[:])
}
