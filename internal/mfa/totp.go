package mfa

import (
	"bytes"
	"crypto/subtle"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters every authenticator app understands: 30-second
// steps, six digits, HMAC-SHA-1, a code of the previous or the next step
// accepted too (clock drift).
const (
	Period = 30
	Digits = 6
	Skew   = 1
	// secretSize is the secret's length in bytes (160 bits, RFC 4226's
	// recommendation for SHA-1).
	secretSize = 20
)

var opts = totp.ValidateOpts{Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPKey is a new TOTP secret with what an authenticator app reads.
type TOTPKey struct {
	// Secret is base32 without padding, as typed into an app.
	Secret string
	// URI is the otpauth:// URI a QR code carries.
	URI string
	// QRPNG is the PNG of that QR code.
	QRPNG []byte
}

// NewTOTPKey makes a random secret for account under issuer (the labels
// an app shows).
func NewTOTPKey(issuer, account string) (*TOTPKey, error) {
	return totpKey(issuer, account, nil)
}

// totpKey is NewTOTPKey's key, or with secret (raw bytes) that one's.
func totpKey(issuer, account string, secret []byte) (*TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: Period, SecretSize: secretSize, Secret: secret,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, err
	}
	img, err := k.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPKey{Secret: k.Secret(), URI: k.URL(), QRPNG: buf.Bytes()}, nil
}

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// Code is the code of secret at step.
func Code(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*Period, 0), opts)
}

// Match finds the step, within Skew of now, whose code is code, and says
// whether there is one. The caller refuses a step already used (replay);
// the latest matching step is returned so a used one is never reported
// in place of a fresh one.
func Match(secret, code string, now time.Time) (int64, bool) {
	if len(code) != Digits {
		return 0, false
	}
	cur := Step(now)
	found, ok := int64(0), false
	for step := cur - Skew; step <= cur+Skew; step++ {
		want, err := Code(secret, step)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok
}
