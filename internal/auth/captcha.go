package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/dchest/captcha"

	"github.com/authpool/authpool/internal/userpool"
)

const (
	// CaptchaTTL is how long a CAPTCHA can be answered.
	CaptchaTTL = 5 * time.Minute
	// captchaDigits is the answer's length: 10^6 answers, one guess per
	// CAPTCHA (a take removes it whatever the answer).
	captchaDigits = 6
	captchaWidth  = captcha.StdWidth
	captchaHeight = captcha.StdHeight
	// Longer ids or answers than these are wrong without a store read.
	maxCaptchaIDLen     = 64
	maxCaptchaAnswerLen = 32
)

var (
	errCaptchaRequired = userpool.Errorf(userpool.CodeCaptchaRequired, "captcha_required",
		"too many failed logins: get a CAPTCHA and send its id and answer (captchaId, captchaCode) with the login")
	errWrongCaptcha = userpool.Errorf(userpool.CodeWrongCode, "wrong_captcha",
		"the CAPTCHA answer is wrong, expired or already used: get a new CAPTCHA")
)

// Captcha is a new CAPTCHA challenge: its id and a PNG image of the answer.
type Captcha struct {
	ID        string
	PNG       []byte
	ExpiresAt time.Time
}

// NewCaptcha makes a CAPTCHA for the pool and stores its answer (as a keyed
// hash) for CaptchaTTL. The image comes from github.com/dchest/captcha; the
// answer is kept in our store, not the library's in-memory one, so that any
// replica can check it.
func (s *Service) NewCaptcha(ctx context.Context, m Meta) (*Captcha, error) {
	if err := s.rateLimit(ctx, m, classCaptcha); err != nil {
		return nil, err
	}
	poolID, err := s.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	digits, err := s.captchaAnswer()
	if err != nil {
		return nil, userpool.Internal(err)
	}
	id := newID()
	var png bytes.Buffer
	if _, err := captcha.NewImage(id, digits, captchaWidth, captchaHeight).WriteTo(&png); err != nil {
		return nil, userpool.Internal(err)
	}
	now := s.now().UTC()
	c := &userpool.Captcha{
		ID: id, PoolID: poolID, AnswerHash: s.captchaHash(poolID, id, digitString(digits)),
		CreatedAt: now, ExpiresAt: now.Add(CaptchaTTL),
	}
	if err := s.store.CreateCaptcha(ctx, c); err != nil {
		return nil, err
	}
	return &Captcha{ID: id, PNG: png.Bytes(), ExpiresAt: c.ExpiresAt}, nil
}

// captchaAnswer returns the digit values (0..9) of a new answer.
func (s *Service) captchaAnswer() ([]byte, error) {
	if s.cfg.NewCaptchaAnswer == nil {
		return captcha.RandomDigits(captchaDigits), nil
	}
	a := s.cfg.NewCaptchaAnswer()
	if a == "" || len(a) > maxCaptchaAnswerLen {
		return nil, errors.New("auth: NewCaptchaAnswer returned an empty or overlong answer")
	}
	digits := make([]byte, len(a))
	for i := range len(a) {
		if a[i] < '0' || a[i] > '9' {
			return nil, errors.New("auth: NewCaptchaAnswer must return digits")
		}
		digits[i] = a[i] - '0'
	}
	return digits, nil
}

func digitString(digits []byte) string {
	b := make([]byte, len(digits))
	for i, d := range digits {
		b[i] = '0' + d
	}
	return string(b)
}

// captchaHash is the stored form of an answer: HMAC-SHA256 under the
// server's CAPTCHA key, bound to the pool and the CAPTCHA id so that a hash
// copied to another row matches nothing.
func (s *Service) captchaHash(poolID, id, answer string) string {
	mac := hmac.New(sha256.New, s.cfg.CaptchaKey)
	mac.Write([]byte(poolID))
	mac.Write([]byte{0})
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(normalizeCaptchaAnswer(answer)))
	return hex.EncodeToString(mac.Sum(nil))
}

// normalizeCaptchaAnswer makes the comparison ignore case and spaces, which
// people add when copying a distorted image.
func normalizeCaptchaAnswer(a string) string {
	return strings.ToLower(strings.Join(strings.Fields(a), ""))
}

// captchaClaim picks the CAPTCHA a login answers and the answer. A code of
// the form "<id>:<answer>" names its own CAPTCHA: callers without a cookie
// jar and without a captchaId field (Authing's Python SDK sends neither)
// keep the id the image came with and send both in captchaCode, on every
// transport. Otherwise the id given with the login is used, else the one
// the browser's cookie carries. Ids never contain ':' (newID is hex).
func captchaClaim(code, optID, cookieID string) (id, answer string) {
	if i, a, ok := strings.Cut(code, ":"); ok {
		return i, a
	}
	if optID != "" {
		return optID, code
	}
	return cookieID, code
}

// checkCaptcha spends the pool's CAPTCHA id on answer. The CAPTCHA is taken
// (removed) whether or not the answer is right, so each one allows a single
// guess; a wrong, expired, reused or unknown one is code 2001.
func (s *Service) checkCaptcha(ctx context.Context, poolID, id, answer string) error {
	if id == "" || answer == "" || len(id) > maxCaptchaIDLen || len(answer) > maxCaptchaAnswerLen {
		return errWrongCaptcha
	}
	c, err := s.store.TakeCaptcha(ctx, poolID, id, s.now())
	if errors.Is(err, userpool.ErrNotFound) {
		return errWrongCaptcha
	}
	if err != nil {
		return err
	}
	want, err1 := hex.DecodeString(c.AnswerHash)
	got, err2 := hex.DecodeString(s.captchaHash(poolID, id, answer))
	if err1 != nil || err2 != nil || !hmac.Equal(want, got) {
		return errWrongCaptcha
	}
	return nil
}
