package httpapi

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// SocialCallbackPath is the one callback of every connector (the URL to
// register at the upstream is the public URL followed by it).
const SocialCallbackPath = api.SocialCallbackPath

// socialCookiePath scopes the binding cookies to the social routes.
const socialCookiePath = auth.SocialCookiePath

func socialCookie(tag string) string { return auth.SocialCookiePrefix + tag }

// socialAuthorize starts a sign-in: the browser is sent upstream, with a
// cookie binding the sign-in to it. Errors are answered here (the
// redirect URI is not trusted until it matched an app's).
func (s *Server) socialAuthorize(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	m := s.meta(r, "")
	if m.PoolID == "" {
		m.PoolID = q.Get("userPoolId")
	}
	if mth := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && mth != "S256" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_code_challenge", "code_challenge_method must be S256")
	}
	start, err := s.Auth.SocialAuthorize(r.Context(), m, r.PathValue("connector"), auth.SocialTarget{
		RedirectURI: q.Get("redirect_uri"), AppState: q.Get("state"), CodeChallenge: q.Get("code_challenge"),
	})
	if err != nil {
		return err
	}
	s.setSocialBinding(w, start)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, start.URL, http.StatusFound)
	return nil
}

// SetSocialBinding sets the cookie that binds a sign-in to the browser,
// for the hosted page's start of a sign-in.
func (s *Server) setSocialBinding(w http.ResponseWriter, start *auth.SocialStart) {
	SetSocialBinding(w, start, strings.HasPrefix(s.PublicBase, "https://"))
}

// SetSocialBinding sets a sign-in's binding cookie (HttpOnly, Lax: the
// upstream's redirect back is a top-level GET, which Lax lets through).
// An upstream that posts back (Apple) needs SameSite=None, which browsers
// accept only with Secure (on http, only to localhost).
func SetSocialBinding(w http.ResponseWriter, start *auth.SocialStart, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: socialCookie(start.Tag), Value: start.Binding, Path: socialCookiePath, MaxAge: int(start.TTL.Seconds()),
		HttpOnly: true, Secure: secure || start.CrossSitePost, SameSite: socialSameSite(start.CrossSitePost),
	})
}

func socialSameSite(crossSitePost bool) http.SameSite {
	if crossSitePost {
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// socialCallback is where every upstream sends the browser back. A state
// that does not verify gets a page here; a valid one ends at its target:
// the app's redirect URI with a one-time code (the login's answer waits
// for the app's exchange), or the hosted authorization request.
//
// An upstream that posts its answer (Apple's response_mode=form_post)
// comes as POST: the answer is read from the body only (bounded); the
// state and the browser's binding cookie (SameSite=None for such
// upstreams) protect it as they protect a GET, so it needs no CSRF token.
func (s *Server) socialCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return socialPage(w, http.StatusBadRequest, userpool.AsError(errSocialForm))
		}
		q = r.PostForm
	}
	state := q.Get("state")
	var binding string
	if len(state) <= 512 {
		if ck, err := r.Cookie(socialCookie(auth.SocialTag(state))); err == nil {
			binding = ck.Value
			post := r.Method == http.MethodPost
			http.SetCookie(w, &http.Cookie{Name: ck.Name, Value: "", Path: socialCookiePath, MaxAge: -1, HttpOnly: true,
				Secure: post || strings.HasPrefix(s.PublicBase, "https://"), SameSite: socialSameSite(post)})
		}
	}
	out, err := s.Auth.SocialCallback(r.Context(), s.meta(r, ""), auth.SocialCallbackInput{
		State: state, Code: q.Get("code"), Error: q.Get("error"), User: q.Get("user"), Binding: binding,
	})
	if err != nil {
		e := userpool.AsError(err)
		if status(e.Code) >= 500 {
			return err
		}
		return socialPage(w, status(e.Code), e)
	}
	if out.Target.AuthRequestID != "" {
		if s.SocialHosted == nil {
			return socialPage(w, http.StatusBadRequest, userpool.AsError(errNoRoute))
		}
		s.SocialHosted(w, r, out)
		return nil
	}
	u, err := url.Parse(out.Target.RedirectURI)
	if err != nil {
		return userpool.Internal(err) // it matched a registered URI: cannot happen
	}
	v := u.Query()
	v.Set("code", out.Code)
	if out.Target.AppState != "" {
		v.Set("state", out.Target.AppState)
	}
	u.RawQuery = v.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
	return nil
}

var errSocialForm = userpool.Errorf(userpool.CodeSocialState, "social_state_invalid", "the identity provider's answer could not be read: start again")

var socialErrorPage = template.Must(template.New("social").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in not completed</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body>
<h1>Sign-in not completed</h1>
<p id="message">{{.Message}}</p>
<p><small>Code {{.Code}} · {{.Reason}}</small></p>
</body></html>
`))

// socialPage answers a browser whose sign-in cannot go on.
func socialPage(w http.ResponseWriter, st int, e *userpool.Error) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(st)
	return socialErrorPage.Execute(w, struct {
		Message, Reason string
		Code            int
	}{e.Message, e.Reason, int(e.Code)})
}

// socialToken exchanges the one-time code for the login's answer.
func (s *Server) socialToken(w http.ResponseWriter, r *http.Request) error {
	var in api.SocialTokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("code", in.Code, "redirectUri", in.RedirectURI); err != nil {
		return err
	}
	res, err := s.Auth.SocialExchange(r.Context(), s.meta(r, ""), in.Code, in.RedirectURI, in.CodeVerifier)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

// socialConnectors lists the pool's enabled connectors (for an app's
// sign-in buttons): no secret, no endpoint.
func (s *Server) socialConnectors(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.EnabledConnectors(r.Context(), s.meta(r, ""))
	if err != nil {
		return err
	}
	out := api.ConnectorList{Connectors: make([]api.Connector, len(list))}
	for i, c := range list {
		out.Connectors[i] = api.Connector{ID: c.ID, Type: c.Type, Label: c.Label, Icon: c.Icon, Enabled: true, Scopes: []string{}}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.Auth.ListIdentities(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromIdentities(ids))
	return nil
}

func (s *Server) unlinkIdentity(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.UnlinkIdentity(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("provider"), r.PathValue("subject")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) confirmIdentityLink(w http.ResponseWriter, r *http.Request) error {
	var in api.ConfirmLinkRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("linkToken", in.LinkToken); err != nil {
		return err
	}
	ids, err := s.Auth.ConfirmSocialLink(r.Context(), s.meta(r, ""), bearer(r), in.LinkToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromIdentities(ids))
	return nil
}
