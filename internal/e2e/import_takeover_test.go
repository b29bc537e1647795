package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestImportUnverifiedEmailNeverMerges: a record that would be merged by
// its email alone into an account that exists here is refused unless the
// source says the address is verified. Otherwise whoever signed up in the
// source system with the victim's address (never verified) would give the
// victim's password-less account (social, phone-code, admin-created) their
// own password, profile and identities. Found by review; failed before the
// fix (the attacker's password logged in).
func TestImportUnverifiedEmailNeverMerges(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		// The victim: a verified account without a password.
		must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Email: "victim@example.com", EmailVerified: true}))
		// The source's record: the same address, unverified, the attacker's password ("allmine").
		var reports []client.ImportReport
		line := `{"externalId":"evil-1","email":"victim@example.com","emailVerified":false,"passwordHash":"$2a$10` + bcryptTail + `"}`
		if _, err := mc.ImportUsers(ctx, "default", strings.NewReader(line), client.ImportOptions{Source: "auth0"}, func(r client.ImportReport) error {
			if r.Summary == nil {
				reports = append(reports, r)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := in.client().LoginByEmail(ctx, "victim@example.com", "allmine", nil); err == nil {
			t.Fatal("the source's unverified record gave the existing verified account its password: login with the attacker's password succeeded")
		}
		if len(reports) != 1 || reports[0].Status != "refused" || reports[0].Reason != "email_taken_unverified" {
			t.Fatalf("reports = %+v, want one refused with email_taken_unverified", reports)
		}
		// The same address verified by the source merges (the documented
		// match by email): the account gets the imported password.
		line = `{"externalId":"good-1","email":"victim@example.com","emailVerified":true,"passwordHash":"$2a$10` + bcryptTail + `"}`
		reports = nil
		if _, err := mc.ImportUsers(ctx, "default", strings.NewReader(line), client.ImportOptions{Source: "auth0"}, func(r client.ImportReport) error {
			if r.Summary == nil {
				reports = append(reports, r)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(reports) != 1 || reports[0].Status != "updated" {
			t.Fatalf("reports = %+v, want one updated", reports)
		}
		must[*client.User](t)(in.client().LoginByEmail(ctx, "victim@example.com", "allmine", nil))
	})
}
