package httpapi

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// verifyEmailPath serves both the VerifyEmail call (POST) and the link of
// VERIFY_EMAIL mails (GET).
const verifyEmailPath = "/api/v1/email/verify"

// VerifyEmailLink is the link a VERIFY_EMAIL mail carries: a GET of
// verifyEmailPath on the server's public URL. The pool travels in the query
// because a browser opening a link cannot send the pool header.
func VerifyEmailLink(publicURL, poolID, email, code string) string {
	q := url.Values{"pool": {poolID}, "email": {email}, "code": {code}}
	return strings.TrimRight(publicURL, "/") + verifyEmailPath + "?" + q.Encode()
}

func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.SendEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "scene", string(in.Scene)); err != nil {
		return err
	}
	if err := s.Auth.SendEmail(r.Context(), s.meta(r, ""), in.Email, string(in.Scene)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetPasswordByEmailCode(w http.ResponseWriter, r *http.Request) error {
	var in api.ResetPasswordByEmailCodeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "code", in.Code, "newPassword", in.NewPassword); err != nil {
		return err
	}
	if err := s.Auth.ResetPasswordByEmailCode(r.Context(), s.meta(r, ""), in.Email, in.Code, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.VerifyEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "code", in.Code); err != nil {
		return err
	}
	if err := s.Auth.VerifyEmail(r.Context(), s.meta(r, ""), in.Email, in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var verifyPage = template.Must(template.New("verify").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">
<h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .ErrCode}}<p><small>error {{.ErrCode}}</small></p>{{end}}
</body></html>
`))

// verifyEmailLink answers the mail's link with a page a person can read.
// The query holds the code; the request log records only the route
// pattern, and the page forbids sending a Referer anywhere.
func (s *Server) verifyEmailLink(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	m := s.meta(r, "")
	if m.PoolID == "" {
		m.PoolID = q.Get("pool")
	}
	if err := required("email", q.Get("email"), "code", q.Get("code")); err != nil {
		return err
	}
	st := http.StatusOK
	page := struct {
		Title, Text string
		ErrCode     int
	}{Title: "Email address confirmed", Text: "Your email address is confirmed. You can close this page."}
	if err := s.Auth.VerifyEmail(r.Context(), m, q.Get("email"), q.Get("code")); err != nil {
		e := userpool.AsError(err)
		if st = status(e.Code); st >= 500 {
			return err // logged, and answered, by the one error path
		}
		page.Title, page.Text, page.ErrCode = "Email address not confirmed", e.Message, int(e.Code)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(st)
	return verifyPage.Execute(w, page)
}

func (s *Server) bindEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.BindEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "emailCode", in.EmailCode); err != nil {
		return err
	}
	res, err := s.Auth.BindEmail(r.Context(), s.meta(r, ""), bearer(r), in.Email, in.EmailCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) updateEmail(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateEmailRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "emailCode", in.EmailCode); err != nil {
		return err
	}
	res, err := s.Auth.UpdateEmail(r.Context(), s.meta(r, ""), bearer(r), in.Email, in.EmailCode, in.OldEmail, in.OldEmailCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) unbindEmail(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Auth.UnbindEmail(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}
