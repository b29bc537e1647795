package authingcompat

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/httpapi"
	"github.com/authpool/authpool/internal/userpool"
)

// publicKey is the data of /api/v2/.well-known.
type publicKey struct {
	PublicKey string `json:"publicKey"`
}

// wellKnown serves the public key the SDKs encrypt passwords with. A stale
// bearer token the SDK sends along is not looked at.
func (s *Server) wellKnown(w http.ResponseWriter, r *http.Request) {
	s.writeREST(w, r, publicKey{PublicKey: s.publicPEM}, nil, "fetched")
}

// smsRequest is the body of /api/v2/sms/send.
type smsRequest struct {
	Phone            string `json:"phone"`
	PhoneCountryCode string `json:"phoneCountryCode"`
	Scene            string `json:"scene"`
}

// sendSMS sends a code to a phone. A stale bearer token the SDK sends
// along is not looked at.
func (s *Server) sendSMS(w http.ResponseWriter, r *http.Request) {
	var in smsRequest
	if err := s.decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	if in.Phone == "" {
		s.writeREST(w, r, nil, userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field \"phone\" is required"))
		return
	}
	if !smsScenes[in.Scene] {
		s.writeREST(w, r, nil, invalidArg("invalid_scene", "unknown scene %q", truncate(in.Scene, 64)))
		return
	}
	phone, err := withCountryCode(in.Phone, &in.PhoneCountryCode)
	if err == nil {
		err = s.Codes.SendSmsCode(r.Context(), s.meta(r, ""), phone)
	}
	s.writeREST(w, r, nil, err, "sent")
}

// logout ends the caller's session. It is idempotent: a missing, expired or
// already ended token answers 200 too, because the JS SDK forgets its
// token only on code 200 and would otherwise hold a dead one forever.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	err := s.Auth.Logout(r.Context(), s.meta(r, ""), httpapi.Bearer(r))
	switch userpool.AsError(err).Code {
	case userpool.CodeNotLoggedIn, userpool.CodeTokenExpired, userpool.CodeTokenInvalid:
		err = nil
	}
	s.writeREST(w, r, nil, err, "logged_out")
}

// usersMe is the caller's user with the caller's token: the Python SDK
// calls it before most operations and stores the token it carries.
func (s *Server) usersMe(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r, "")
	res, err := s.Auth.GetCurrentUser(r.Context(), m, httpapi.Bearer(r))
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	s.writeREST(w, r, s.render(m, res), nil, "fetched")
}

// captcha serves a CAPTCHA image for browser login pages (Authing's Guard
// fetches it with credentials). Its id goes into the cookie the native
// API's CAPTCHA uses, for the whole site, so the browser sends it with the
// next login to /graphql/v2; that login's captchaCode is checked against
// it. The pool is the header's, else Guard's userpool_id parameter (an
// <img> sends no headers).
func (s *Server) captcha(w http.ResponseWriter, r *http.Request) {
	m := s.meta(r, "")
	if m.PoolID == "" {
		m.PoolID = r.URL.Query().Get("userpool_id")
	}
	c, err := s.Captcha.NewCaptcha(r.Context(), m)
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	// SameSite=None lets a login page on another site send it back; that
	// needs Secure, so over plain HTTP (development) it stays Lax.
	ck := &http.Cookie{
		Name: api.CaptchaCookie, Value: c.ID, Path: "/", HttpOnly: true,
		MaxAge: int(auth.CaptchaTTL / time.Second), SameSite: http.SameSiteLaxMode,
	}
	if r.TLS != nil {
		ck.Secure, ck.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, ck)
	// A backend without a cookie jar keeps the id from this header and
	// sends captchaCode as "<id>:<answer>" (docs/AUTHING.md).
	w.Header().Set(api.HeaderCaptchaID, c.ID)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(c.PNG)
}

// decodeREST reads one small JSON object; unknown members are ignored, as
// SDK versions differ in what they send.
func (s *Server) decodeREST(w http.ResponseWriter, r *http.Request, v any) error {
	if err := s.crossSiteBody(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must hold exactly one JSON object")
	}
	return nil
}
