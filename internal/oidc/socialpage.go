package oidc

import (
	"net/http"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// Social sign-in on the hosted page (docs/SOCIAL.md): the page shows a
// button per enabled connector; a button posts here (CSRF-checked like
// every form), the browser goes upstream, and the native API's one
// callback hands the outcome back (FinishSocial), which ends like a
// password sign-in: the MFA step, the browser session, consent or the
// redirect to the app.

const pathSocial = "/login/social"

// socialButton is one connector's button.
type socialButton struct {
	ID, Label, Icon string
}

func (s *Service) socialButtons(r *http.Request, pc *pageCtx) []socialButton {
	list, err := s.d.Auth.EnabledConnectors(r.Context(), auth.Meta{PoolID: pc.p.poolID})
	if err != nil {
		return nil
	}
	out := make([]socialButton, len(list))
	for i, c := range list {
		out[i] = socialButton{ID: c.ID, Label: c.Label, Icon: c.Icon}
	}
	return out
}

// socialStart sends the browser to the chosen connector's upstream.
func (s *Service) socialStart(w http.ResponseWriter, r *http.Request, p *poolOP) {
	pc, ok := s.parseForm(w, r, p)
	if !ok {
		return
	}
	if pc.req == nil {
		// The account page's own sign-in offers no connectors (its
		// completion is not an authorization request's).
		s.renderSignin(w, r, pc, http.StatusBadRequest, "password", web.T(pc.lang, "error.request"), signinData{})
		return
	}
	start, err := s.d.Auth.SocialAuthorize(r.Context(), s.meta(r, pc), r.PostForm.Get("connector"), auth.SocialTarget{AuthRequestID: pc.req.GetID()})
	if err != nil {
		s.renderSignin(w, r, pc, statusOf(userpool.AsError(err)), "password", web.ErrorMessage(pc.lang, err), signinData{})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: auth.SocialCookiePrefix + start.Tag, Value: start.Binding, Path: auth.SocialCookiePath, MaxAge: int(start.TTL.Seconds()),
		HttpOnly: true, Secure: s.secure || start.CrossSitePost, SameSite: socialSameSite(start.CrossSitePost),
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, start.URL, http.StatusSeeOther)
}

// socialSameSite: Lax, or None for an upstream that posts back (Apple's
// form_post, a cross-site POST); browsers take None only with Secure.
func socialSameSite(crossSitePost bool) http.SameSite {
	if crossSitePost {
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// FinishSocial ends a social sign-in that started on the hosted page (the
// native API's callback calls it once the state verified).
func (s *Service) FinishSocial(w http.ResponseWriter, r *http.Request, out *auth.SocialOutcome) {
	id := out.PoolID
	if pool, err := s.d.Store.GetPool(r.Context(), id); err == nil && pool.IsDefault {
		id = "" // the default pool's provider is addressed as ""
	}
	p, err := s.provider(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pc, ok := s.load(r, p, out.Target.AuthRequestID)
	if !ok {
		s.errorPage(w, r, p, web.Lang(r, ""), http.StatusBadRequest, web.T(web.Lang(r, ""), "error.request"))
		return
	}
	if out.Err != nil {
		e := userpool.AsError(out.Err)
		d := signinData{}
		switch e.Code {
		case userpool.CodeMFARequired:
			s.mfaStep(w, r, pc, e, "password", d)
			return
		case userpool.CodeSocialLinkRequired:
			// The password form carries the link token: signing in to
			// the existing account confirms the link.
			d.LinkToken, _ = e.Data["linkToken"].(string)
		}
		s.renderSignin(w, r, pc, statusOf(e), "password", web.ErrorMessage(pc.lang, out.Err), d)
		return
	}
	s.signedIn(w, r, pc, out.Result, []string{"fed"}, "password", signinData{})
}
