package httpapi

import (
	"net/http"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// captcha answers a new CAPTCHA: JSON with the id and a base64 PNG by
// default, or the bare PNG with ?format=png (for an <img> tag; the id is in
// the X-Authpool-Captcha-Id header). Both set the authpool_captcha cookie
// to the id, which a browser's login sends back by itself. An <img> cannot
// send headers, so the pool may also be named by ?userPoolId=.
func (s *Server) captcha(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "png" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_argument", "format must be json or png")
	}
	m := s.meta(r, "")
	if m.PoolID == "" {
		m.PoolID = r.URL.Query().Get("userPoolId")
	}
	c, err := s.Auth.NewCaptcha(r.Context(), m)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: api.CaptchaCookie, Value: c.ID, Path: "/api/",
		MaxAge: int(auth.CaptchaTTL / time.Second), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	w.Header().Set(api.HeaderCaptchaID, c.ID)
	if format == "png" {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(c.PNG)
		return err
	}
	writeJSON(w, http.StatusOK, api.Captcha{ID: c.ID, PNG: c.PNG, ExpiresAt: c.ExpiresAt})
	return nil
}
