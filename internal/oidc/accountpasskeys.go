package oidc

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
)

// The account page's passkeys and linked identities (docs/ACCOUNT.md).
// Passkeys: the list (name, added, last used), rename, remove, and "Add a
// passkey": static/passkey.js asks the passkey begin route
// (passkeypage.go, pathPasskeysBegin) for the registration's options,
// hands them to navigator.credentials.create and posts the answer to
// /account/passkeys/add. Identities: the social and enterprise identities
// linked to the account, with unlinking (the use case refuses the
// account's last way to sign in). Every form is the API's own use case
// with the browser session's token, like the page's other forms.

// identityRow is one linked identity: the connector's label (its id when
// the connector is gone), the upstream's subject and the address it gave.
type identityRow struct {
	Provider, Subject, Label, Email, Linked string
}

// accountPasskeysAndIdentities fills the page's passkeys and identities;
// a failed read leaves its section empty, as the page's other lists do.
func (s *Service) accountPasskeysAndIdentities(r *http.Request, ac *accountCtx, d *accountData) {
	ctx, tok := r.Context(), ac.b.token
	d.PasskeyBegin, d.PasskeyAdd = ac.p.prefix+pathPasskeysBegin, d.Base+"/passkeys/add"
	// Adding one needs a sign-in of the last minutes (the use case
	// refuses otherwise); the page offers to sign in again instead of a
	// button that would fail.
	d.PasskeyStale = ac.b.sess != nil && s.d.Now().Sub(ac.b.sess.CreatedAt) > auth.FreshSignIn
	if list, err := s.d.Auth.ListPasskeys(ctx, ac.m, tok); err == nil {
		for _, k := range list {
			row := passkeyRow{ID: k.ID, Name: k.Name, Created: k.CreatedAt.UTC().Format(time.DateOnly)}
			if !k.LastUsedAt.IsZero() {
				row.LastUsed = k.LastUsedAt.UTC().Format(time.DateOnly)
			}
			d.Passkeys = append(d.Passkeys, row)
		}
	}
	ids, err := s.d.Auth.ListIdentities(ctx, ac.m, tok)
	if err != nil || len(ids) == 0 {
		return
	}
	labels := map[string]string{}
	if cs, err := s.d.Store.ListConnectors(ctx, ac.p.poolID); err == nil {
		for _, c := range cs {
			labels[c.ID] = c.Label
		}
	}
	for _, id := range ids {
		row := identityRow{Provider: id.Provider, Subject: id.Subject, Label: firstNonEmpty(labels[id.Provider], id.Provider),
			Linked: id.CreatedAt.UTC().Format(time.DateOnly)}
		var claims map[string]any
		if json.Unmarshal([]byte(id.Data), &claims) == nil {
			row.Email, _ = claims["email"].(string)
		}
		d.Identities = append(d.Identities, row)
	}
}

// accountPasskeyAdd finishes the registration the script began, with the
// name typed beside the button ("Passkey" when none).
func (s *Service) accountPasskeyAdd(ac *accountCtx, _ http.ResponseWriter, r *http.Request) (outcome, error) {
	name, cred := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("credential")
	if cred == "" {
		return outcome{}, pageError("error.missing")
	}
	if _, err := s.d.Auth.FinishPasskeyRegistration(r.Context(), ac.m, ac.b.token, name, json.RawMessage(cred)); err != nil {
		return outcome{}, err
	}
	return outcome{done: "passkey_added"}, nil
}

func (s *Service) accountPasskeyRename(ac *accountCtx, _ http.ResponseWriter, r *http.Request) (outcome, error) {
	if err := s.d.Auth.RenamePasskey(r.Context(), ac.m, ac.b.token, r.PostForm.Get("id"), r.PostForm.Get("name")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "passkey_renamed"}, nil
}

func (s *Service) accountPasskeyRemove(ac *accountCtx, _ http.ResponseWriter, r *http.Request) (outcome, error) {
	if err := s.d.Auth.RemovePasskey(r.Context(), ac.m, ac.b.token, r.PostForm.Get("id")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "passkey_removed"}, nil
}

// accountIdentityUnlink unlinks one identity; the account's last way to
// sign in is refused by the use case (last_login_method), whose message
// the page shows.
func (s *Service) accountIdentityUnlink(ac *accountCtx, _ http.ResponseWriter, r *http.Request) (outcome, error) {
	if err := s.d.Auth.UnlinkIdentity(r.Context(), ac.m, ac.b.token, r.PostForm.Get("provider"), r.PostForm.Get("subject")); err != nil {
		return outcome{}, err
	}
	return outcome{done: "identity"}, nil
}

// accountReauth ends the browser session and sends the browser to sign
// in again, back to the account page: a fresh sign-in adds a passkey.
func (s *Service) accountReauth(ac *accountCtx, w http.ResponseWriter, r *http.Request) (outcome, error) {
	s.endBrowserSession(r.Context(), r, ac.p.poolID)
	s.clearSessionCookie(w, ac.p)
	return outcome{redirect: ac.p.prefix + pathLogin + "?authRequestID=" + accountRequest}, nil
}
