package client

import (
	"context"
	"net/http"
)

// GetCaptcha fetches a new CAPTCHA: an id and a PNG image of the answer.
// When a password login fails with code 2000 (captcha required), show the
// image, then repeat the login with LoginOptions{CaptchaID: c.ID,
// CaptchaCode: <what the user read>}. Each CAPTCHA allows one answer and
// expires after a few minutes; a wrong or reused one is code 2001.
func (c *AuthenticationClient) GetCaptcha(ctx context.Context) (*Captcha, error) {
	var out Captcha
	if err := c.do(ctx, http.MethodGet, "/api/v1/captcha", nil, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}
