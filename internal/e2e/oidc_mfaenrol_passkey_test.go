package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestOIDCMFAEnrolPasskeyHosted: the hosted enrolment step's "Use a
// passkey instead", driven form by form with the software authenticator:
// the begin route needs the CSRF token, an answer that does not verify
// (user not verified) shows the same step again (same TOTP secret) with 4
// attempts left, an empty answer spends nothing, the right one lands at
// the app (amr pwd hwk mfa) and the spent token enrols nothing more.
func TestOIDCMFAEnrolPasskeyHosted(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "required")
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, "pat@example.com", "passw0rd!", nil, nil)).ID
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})

		b := newBrowser(t, in)
		ar := rp.authURL(nil)
		p, secret := enrolPage(t, b, ar, "pat@example.com")
		if !strings.Contains(p.Body, `data-passkey="create"`) || !strings.Contains(p.Body, `id="mfa-enrol-passkey-button"`) {
			t.Fatalf("no passkey choice on the enrolment step:\n%s", p.Body)
		}
		f := p.form(t, "mfa-enrol-passkey-form")
		if f.Fields.Get("mfaToken") == "" || f.Fields.Get("csrf") == "" {
			t.Fatalf("passkey form fields: %v", f.Fields)
		}
		begin := func(withCSRF bool) json.RawMessage {
			t.Helper()
			vals := map[string]string{}
			if !withCSRF {
				vals["csrf"] = ""
			}
			r := b.submit(p, &htmlForm{Action: f.Action + "/begin", Fields: f.Fields}, vals)
			if !withCSRF {
				if r.Status != 403 {
					t.Fatalf("begin without CSRF: status %d", r.Status)
				}
				return nil
			}
			var out struct {
				Options json.RawMessage `json:"options"`
			}
			if r.Status != 200 || json.Unmarshal([]byte(r.Body), &out) != nil || len(out.Options) == 0 {
				t.Fatalf("begin: status %d\n%s", r.Status, r.Body)
			}
			return out.Options
		}
		begin(false)

		// Not verified: the same step, the same secret, 4 attempts left.
		weak := newSoftAuthenticator(t, in)
		weak.noUV = true
		wcred, _ := weak.create(t, begin(true))
		r := b.submit(p, f, map[string]string{"credential": string(wcred)})
		if r.Location != "" || !strings.Contains(r.Body, `id="mfa-enrol-passkey-form"`) {
			t.Fatalf("unverified passkey: status %d, location %q\n%s", r.Status, r.Location, r.Body)
		}
		if m := enrolSecretRE.FindStringSubmatch(r.Body); m == nil || m[1] != secret {
			t.Fatalf("the secret changed after a wrong passkey: %v, want %s", m, secret)
		}
		if !regexp.MustCompile(`id="mfa-attempts-left">[^<]*<strong>4</strong>`).MatchString(r.Body) {
			t.Fatalf("attempts left not shown as 4:\n%s", r.Body)
		}
		// An empty answer spends nothing.
		if e := b.submit(r, r.form(t, "mfa-enrol-passkey-form"), map[string]string{"credential": ""}); e.Location != "" || !strings.Contains(e.Body, secret) {
			t.Fatalf("empty answer: status %d\n%s", e.Status, e.Body)
		}

		auth := newSoftAuthenticator(t, in)
		cred, _ := auth.create(t, begin(true))
		q := ar.callback(t, rp, b.submit(r, r.form(t, "mfa-enrol-passkey-form"), map[string]string{"credential": string(cred)}))
		_, idt := rp.exchange(t, ar, q.Get("code"))
		if got := amrOfToken(t, idt); got != "pwd hwk mfa" {
			t.Errorf("amr %q, want \"pwd hwk mfa\"", got)
		}
		if idt.Subject != uid {
			t.Errorf("sub %s, want %s", idt.Subject, uid)
		}
		// The spent token (and finished request): no redirect, nothing
		// more stored.
		if x := b.submit(p, f, map[string]string{"credential": string(cred)}); x.Location != "" || x.Status == 200 {
			t.Fatalf("a spent MFA token: status %d, location %q\n%s", x.Status, x.Location, x.Body)
		}
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		n := 0
		for _, fa := range st.Factors {
			if fa.Kind == "passkey" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the user's factors: %+v", st.Factors)
		}
	})
}
