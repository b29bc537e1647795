package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// passkeyIDs are the passkey ids the account page lists, in its order.
func passkeyIDs(p *page) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-passkey-id="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// addPasskeyOnPage does what passkey.js does on the account page: the
// add form's fields to its data-begin route, the options to the
// authenticator, its answer in the form's credential field.
func addPasskeyOnPage(t *testing.T, b *browser, p *page, a *softAuthenticator, name string) *page {
	t.Helper()
	f := p.form(t, "passkey-add-form")
	begin := regexp.MustCompile(`id="passkey-add-form"[^>]*data-begin="([^"]+)"`).FindStringSubmatch(p.Body)
	if begin == nil {
		t.Fatalf("the add form has no begin route:\n%s", p.Body)
	}
	opts := b.post(b.in.URL+begin[1], url.Values{"csrf": {f.Fields.Get("csrf")}, "name": {name}})
	var got struct {
		Options json.RawMessage `json:"options"`
	}
	if opts.Status != http.StatusOK || json.Unmarshal([]byte(opts.Body), &got) != nil || len(got.Options) == 0 {
		t.Fatalf("begin: %d %s", opts.Status, opts.Body)
	}
	cred, _ := a.create(t, got.Options)
	return b.submit(p, f, map[string]string{"name": name, "credential": string(cred)})
}

// TestAccountPasskeysForms: the account page's passkeys section as a
// browser without the script sees it and as an attacker would post it:
// the list, a passkey added (the ceremony passkey.js runs, by the test's
// authenticator), renamed (at the name's limit, over it, blank: the default name), removed;
// another user's passkey can be neither renamed nor removed; a form
// without its CSRF token changes nothing; the old /passkeys page sends
// to the section and its forms still work; of two racing removals of one
// passkey, one wins; a sign-in older than 5 minutes is asked to sign in
// again before adding one.
func TestAccountPasskeysForms(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		email := "keys@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		// Another user with a passkey of their own (through the SDK).
		other := in.client()
		must[*client.User](t)(other.RegisterByEmail(ctx, "other@example.com", oidcPassword, nil, &client.RegisterOptions{ForceLogin: true}))
		oa := newSoftAuthenticator(t, in)
		oopts := must[json.RawMessage](t)(other.BeginPasskeyRegistration(ctx))
		ocred, _ := oa.create(t, oopts)
		otherKey := must[*client.Passkey](t)(other.FinishPasskeyRegistration(ctx, "Theirs", ocred))
		issuer := oidcIssuer(in, "")

		b := newBrowser(t, in)
		p := accountSignIn(t, b, issuer, email, oidcPassword)
		if !strings.Contains(p.Body, `id="passkey-none"`) || !strings.Contains(p.Body, `src="/_authpool/static/passkey.js"`) {
			t.Fatalf("the passkeys section:\n%s", p.Body)
		}

		a := newSoftAuthenticator(t, in)
		p = addPasskeyOnPage(t, b, p, a, "Laptop <b>")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The passkey was added.") || !strings.Contains(p.Body, "Laptop &lt;b&gt;") {
			t.Fatalf("after adding: %d\n%s", p.Status, p.Body)
		}
		ids := passkeyIDs(p)
		if len(ids) != 1 {
			t.Fatalf("listed passkeys %v", ids)
		}
		id := ids[0]
		// A replayed answer (the ceremony is spent) and a missing one.
		f := p.form(t, "passkey-add-form")
		if p2 := b.submit(p, f, map[string]string{"credential": ""}); p2.Status != http.StatusBadRequest || !strings.Contains(p2.Body, `role="alert"`) {
			t.Fatalf("no credential: %d", p2.Status)
		}

		// Rename: at the limit, over it, blank.
		rename := func(id, name string) *page {
			t.Helper()
			return b.post(in.URL+"/oidc/account/passkeys/rename", url.Values{"csrf": {f.Fields.Get("csrf")}, "id": {id}, "name": {name}})
		}
		long := strings.Repeat("鍵", 64)
		if p2 := rename(id, long); p2.Status != http.StatusOK || !strings.Contains(p2.Body, "The passkey was renamed.") || !strings.Contains(p2.Body, long) {
			t.Fatalf("rename at the limit: %d\n%s", p2.Status, p2.Body)
		}
		if p2 := rename(id, long+"x"); p2.Status != http.StatusBadRequest || !strings.Contains(p2.Body, `role="alert"`) {
			t.Fatalf("rename over the limit: %d\n%s", p2.Status, p2.Body)
		}
		// A blank name is the default one (docs/MFA.md).
		if p2 := rename(id, "   "); p2.Status != http.StatusOK || !strings.Contains(p2.Body, `class="passkey-name">Passkey<`) {
			t.Fatalf("rename to blanks: %d\n%s", p2.Status, p2.Body)
		}
		p = rename(id, "Laptop")
		rf := p.form(t, "passkey-rename-form-"+id)
		if rf.Fields.Get("name") != "Laptop" {
			t.Fatalf("rename form %v", rf.Fields)
		}

		// Another user's passkey: not found, and it stays as it was.
		if p2 := rename(otherKey.ID, "Mine now"); p2.Status == http.StatusOK || !strings.Contains(p2.Body, `role="alert"`) {
			t.Fatalf("rename another user's passkey: %d", p2.Status)
		}
		rm := p.form(t, "passkey-remove-form-"+id)
		if p2 := b.submit(p, rm, map[string]string{"id": otherKey.ID}); p2.Status == http.StatusOK {
			t.Fatalf("remove another user's passkey: %d", p2.Status)
		}
		if l := must[[]client.Passkey](t)(other.ListPasskeys(ctx)); len(l) != 1 || l[0].Name != "Theirs" {
			t.Fatalf("the other user's passkeys: %+v", l)
		}

		// Without the CSRF token nothing changes.
		rm.Fields.Del("csrf")
		if p2 := b.submit(p, rm, nil); p2.Status != http.StatusForbidden {
			t.Fatalf("remove without CSRF: %d", p2.Status)
		}
		if got := passkeyIDs(b.get(issuer + "/account")); len(got) != 1 {
			t.Fatalf("after a forged removal: %v", got)
		}

		// The old page sends to the section; its forms are the section's.
		if p2 := b.get(issuer + "/passkeys"); !strings.HasSuffix(p2.URL.Path, "/account") || !strings.Contains(p2.Body, `id="passkeys"`) {
			t.Fatalf("/passkeys: %d %s", p2.Status, p2.URL)
		}
		p = b.post(in.URL+"/oidc/passkeys/remove", url.Values{"csrf": {f.Fields.Get("csrf")}, "id": {id}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The passkey was removed.") || len(passkeyIDs(p)) != 0 {
			t.Fatalf("remove through the old route: %d\n%s", p.Status, p.Body)
		}

		// A race: two removals of one passkey, one wins, the other is told
		// it is gone.
		p = addPasskeyOnPage(t, b, b.get(issuer+"/account"), a, "Phone")
		ids = passkeyIDs(p)
		if len(ids) != 1 {
			t.Fatalf("listed passkeys %v", ids)
		}
		statuses := make(chan int, 2)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- b.post(in.URL+"/oidc/account/passkeys/remove", url.Values{"csrf": {f.Fields.Get("csrf")}, "id": {ids[0]}}).Status
			}()
		}
		wg.Wait()
		close(statuses)
		won := 0
		for st := range statuses {
			if st == http.StatusOK {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("two removals of one passkey: %d succeeded", won)
		}

		// A sign-in older than 5 minutes adds no passkey: the page offers
		// to sign in again instead of the button, and the begin route
		// refuses (2206); signing in again from there adds one.
		in.Clock.Advance(5*time.Minute + time.Second)
		p = b.get(issuer + "/account")
		if strings.Contains(p.Body, `id="passkey-add-form"`) || !strings.Contains(p.Body, `id="passkey-stale"`) {
			t.Fatalf("a stale sign-in's passkeys section:\n%s", p.Body)
		}
		if p2 := b.post(in.URL+"/oidc/passkeys/begin", url.Values{"csrf": {f.Fields.Get("csrf")}}); p2.Status == http.StatusOK || !strings.Contains(p2.Body, `"code":2206`) {
			t.Fatalf("begin with a stale sign-in: %d %s", p2.Status, p2.Body)
		}
		p = b.submit(p, p.form(t, "passkey-reauth-form"), nil)
		if !strings.HasSuffix(p.URL.Path, "/login") || p.URL.Query().Get("authRequestID") != "account" {
			t.Fatalf("sign in again: %d %s", p.Status, p.URL)
		}
		p = b.signIn(p, email, oidcPassword)
		p = addPasskeyOnPage(t, b, p, a, "Tablet")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The passkey was added.") || len(passkeyIDs(p)) != 1 {
			t.Fatalf("add after signing in again: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestAccountIdentities (issue 15): a user who signed up with a social
// identity sees it on the account page (the connector's label, the
// upstream's subject and address); unlinking the account's only way to
// sign in is refused with the use case's message; with a password set on
// the page, it unlinks. A forged unlink (another subject, no CSRF token)
// changes nothing.
func TestAccountIdentities(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		sub := s.upstreamUser(t, "ida@example.com", true)
		rp := newRP(t, s.down, "", client.CreateAppRequest{Name: "RP", FirstParty: true})

		b := newSocialBrowser(t, s)
		ar := rp.authURL(nil)
		p := b.get(ar.URL)
		p = b.submit(p, p.form(t, "social-form"), map[string]string{"connector": "upstream"})
		p = b.signIn(p, "ida@example.com", socialPassword)
		q := ar.callback(t, rp, p)
		_, idt := rp.exchange(t, ar, q.Get("code"))
		userID := idt.Subject

		p = b.get(oidcIssuer(s.down, "") + "/account")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="identities"`) {
			t.Fatalf("account page: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		list := p.Body[strings.Index(p.Body, `id="identity-list"`):]
		list = list[:strings.Index(list, "</ul>")]
		for _, want := range []string{"Upstream", sub, "ida@example.com"} {
			if !strings.Contains(list, want) {
				t.Fatalf("the identity list lacks %q:\n%s", want, list)
			}
		}

		// The only way to sign in: refused, with the use case's message.
		f := p.form(t, "unlink-0")
		p2 := b.submit(p, f, nil)
		if p2.Status == http.StatusOK || !strings.Contains(p2.Body, "This is the account&#39;s only way to sign in.") {
			t.Fatalf("unlink the last way to sign in: %d\n%s", p2.Status, p2.Body)
		}
		// Forged: another subject, no CSRF token.
		if p2 = b.submit(p, f, map[string]string{"subject": sub + "x"}); p2.Status == http.StatusOK || !strings.Contains(p2.Body, `role="alert"`) {
			t.Fatalf("unlink an identity the account lacks: %d", p2.Status)
		}
		f2 := p.form(t, "unlink-0")
		f2.Fields.Del("csrf")
		if p2 = b.submit(p, f2, nil); p2.Status != http.StatusForbidden {
			t.Fatalf("unlink without CSRF: %d", p2.Status)
		}
		if u := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", userID)); len(u.Identities) != 1 {
			t.Fatalf("identities after refusals: %+v", u.Identities)
		}

		// A password set on the page; then the identity unlinks.
		pw := "Quiet-Harbor-2077"
		p = b.submit(p, p.form(t, "password-form"), map[string]string{"newPassword": pw, "confirmPassword": pw})
		if !strings.Contains(p.Body, `id="notice"`) {
			t.Fatalf("set a password: %d\n%s", p.Status, p.Body)
		}
		p = b.submit(p, p.form(t, "unlink-0"), nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The account was unlinked.") || strings.Contains(p.Body, `id="identities"`) {
			t.Fatalf("unlink: %d\n%s", p.Status, p.Body)
		}
		if u := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", userID)); len(u.Identities) != 0 {
			t.Fatalf("identities after unlinking: %+v", u.Identities)
		}
	})
}
