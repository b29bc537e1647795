package authingcompat

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

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

func (s *Server) sendSMS(w http.ResponseWriter, r *http.Request) {
	if s.Codes == nil {
		s.writeREST(w, r, nil, notImplemented("sms/send", "issue 3"))
		return
	}
	var in smsRequest
	if err := decodeREST(w, r, &in); err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	if in.Phone == "" {
		s.writeREST(w, r, nil, userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field \"phone\" is required"))
		return
	}
	err := s.Codes.SendSMSCode(r.Context(), s.meta(r, ""), in.Phone, in.PhoneCountryCode, in.Scene)
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
	u, err := s.render(r.Context(), m, res)
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	s.writeREST(w, r, u, nil, "fetched")
}

// captchaCookie binds a CAPTCHA answer to the browser that fetched it.
const captchaCookie = "authpool_captcha"

// captcha serves a CAPTCHA image for browser login pages, its answer bound
// to a cookie the browser sends with the next login (withCredentials).
func (s *Server) captcha(w http.ResponseWriter, r *http.Request) {
	if s.Captcha == nil {
		s.writeREST(w, r, nil, notImplemented("security/captcha", "issue 4"))
		return
	}
	cookie, png, err := s.Captcha.NewCaptcha(r.Context(), s.meta(r, ""))
	if err != nil {
		s.writeREST(w, r, nil, err)
		return
	}
	// SameSite=None lets a login page on another site send it back; that
	// needs Secure, so over plain HTTP (development) it stays Lax.
	c := &http.Cookie{Name: captchaCookie, Value: cookie, Path: "/", HttpOnly: true, MaxAge: 600, SameSite: http.SameSiteLaxMode}
	if r.TLS != nil {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// decodeREST reads one small JSON object; unknown members are ignored, as
// SDK versions differ in what they send.
func decodeREST(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must hold exactly one JSON object")
	}
	return nil
}
