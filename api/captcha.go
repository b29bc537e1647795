package api

import "time"

// Names the login protection uses on the wire.
const (
	// HeaderAppSecret carries a server-side app's secret, together with
	// HeaderAppID; a request that presents a configured pair may set
	// clientIp. Never send it from a browser or a mobile app.
	HeaderAppSecret = "X-Authpool-App-Secret"
	// HeaderCaptchaID carries the id of the CAPTCHA in the answer of
	// GET /api/v1/captcha (also in the JSON body and the cookie).
	HeaderCaptchaID = "X-Authpool-Captcha-Id"
	// CaptchaCookie is the cookie the CAPTCHA route sets to the CAPTCHA's
	// id, so that a browser's login need not send captchaId.
	CaptchaCookie = "authpool_captcha"
)

// Captcha is the answer of GET /api/v1/captcha: the id to send back as
// LoginOptions.CaptchaID and a PNG image of the answer, which goes in
// LoginOptions.CaptchaCode. In JSON the image is standard base64 (usable
// as a data: URL).
type Captcha struct {
	ID        string    `json:"captchaId"`
	PNG       []byte    `json:"image"`
	ExpiresAt time.Time `json:"expiresAt"`
}
