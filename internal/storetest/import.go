package storetest

import (
	"errors"
	"testing"

	"github.com/authpool/authpool/internal/userpool"
)

// importItem is a new user of an import batch with the source's id ext.
func importItem(ext, email, username string) *userpool.ImportItem {
	return &userpool.ImportItem{
		ExternalID: ext,
		User: &userpool.User{
			Email: email, EmailVerified: true,
			Profile:   userpool.Profile{Username: username, Nickname: "nick " + ext},
			CreatedAt: t0, UpdatedAt: t0,
		},
	}
}

// testImportUsers: a batch creates what is new and updates what the
// source's external id (or a verified email) matches, never duplicates;
// an item the store cannot write is refused alone; a dry run writes
// nothing but reports what a real run would do; a hash the user replaced
// since is not put back by a re-import.
func testImportUsers(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	newField(t, s, p.ID, "age", userpool.TypeNumber)
	held := newUser(t, s, p.ID, "held", "held@example.com", "taken", "")
	unverified := newUser(t, s, p.ID, "plain", "plain@example.com", "", "")

	// The fast path: new users with nothing but their row.
	batch := []*userpool.ImportItem{
		importItem("e1", "one@example.com", "one"),
		importItem("e2", "two@example.com", "two"),
	}
	batch[0].User.PasswordHash = "$2a$04$abcdefghijklmnopqrstuuMnZ0ePc5wJgmJGRkTQ0Tk1g4CbNoNTS"
	checkNoErr(t, "ImportUsers", s.ImportUsers(ctx(t), p.ID, "src", batch, false))
	ids := map[string]string{}
	for _, it := range batch {
		if it.Status != userpool.ImportCreated || it.UserID == "" || it.Err != nil {
			t.Fatalf("item %s: status %q, id %q, err %v; want imported", it.ExternalID, it.Status, it.UserID, it.Err)
		}
		ids[it.ExternalID] = it.UserID
	}
	u, err := s.GetUser(ctx(t), p.ID, ids["e1"])
	checkNoErr(t, "GetUser e1", err)
	if u.Email != "one@example.com" || !u.EmailVerified || u.Username != "one" || u.PasswordHash != batch[0].User.PasswordHash {
		t.Errorf("imported user = %+v", u)
	}

	// The slow path: values, an identity, a preferred id; one refused item
	// (a username another user holds) leaves the others written.
	withMore := importItem("e3", "three@example.com", "three")
	withMore.User.ID = "preferred-id"
	withMore.Values = []*userpool.UserValue{{Key: "age", DataType: userpool.TypeNumber, Value: "42", UpdatedAt: t0}}
	withMore.Identities = []*userpool.Identity{{Provider: "github", Subject: "12345", Data: `{"login":"three"}`, CreatedAt: t0}}
	refused := importItem("e4", "four@example.com", held.Username)
	again := importItem("e1", "one@example.com", "one")
	again.User.Nickname = "renamed"
	batch = []*userpool.ImportItem{withMore, refused, again}
	checkNoErr(t, "ImportUsers mixed", s.ImportUsers(ctx(t), p.ID, "src", batch, false))
	if withMore.Status != userpool.ImportCreated || withMore.UserID != "preferred-id" {
		t.Errorf("e3: status %q id %q err %v, want imported as preferred-id", withMore.Status, withMore.UserID, withMore.Err)
	}
	var uerr *userpool.Error
	if refused.Status != userpool.ImportRefused || !errors.As(refused.Err, &uerr) || refused.UserID != "" {
		t.Errorf("e4 (username taken): status %q id %q err %v, want refused with a userpool.Error", refused.Status, refused.UserID, refused.Err)
	}
	if again.Status != userpool.ImportUpdated || again.UserID != ids["e1"] {
		t.Errorf("e1 again: status %q id %q, want updated %s", again.Status, again.UserID, ids["e1"])
	}
	u, err = s.GetUser(ctx(t), p.ID, ids["e1"])
	checkNoErr(t, "GetUser e1 after update", err)
	if u.Nickname != "renamed" {
		t.Errorf("re-import did not update the nickname: %q", u.Nickname)
	}

	// A hash the user replaced since the import (a login's rehash, a
	// password change) is not put back by a re-import.
	_, err = s.UpdateUser(ctx(t), p.ID, ids["e1"], func(u *userpool.User) error { u.PasswordHash = "$argon2id$changed"; return nil })
	checkNoErr(t, "UpdateUser hash", err)
	again = importItem("e1", "one@example.com", "one")
	again.User.PasswordHash = "$2a$04$anotherhashanotherhashanotherhashanotherhashanotherha"
	checkNoErr(t, "ImportUsers e1 third", s.ImportUsers(ctx(t), p.ID, "src", []*userpool.ImportItem{again}, false))
	u, _ = s.GetUser(ctx(t), p.ID, ids["e1"])
	if u.PasswordHash != "$argon2id$changed" {
		t.Errorf("re-import replaced the hash the user has now: %q", u.PasswordHash)
	}

	// Matching by email: an unverified address never merges into an
	// existing account; a verified one does.
	byEmail := importItem("e5", unverified.Email, "")
	byEmail.User.EmailVerified = false
	checkNoErr(t, "ImportUsers unverified email", s.ImportUsers(ctx(t), p.ID, "src", []*userpool.ImportItem{byEmail}, false))
	if byEmail.Status != userpool.ImportRefused {
		t.Errorf("unverified email match: status %q, want refused", byEmail.Status)
	}
	byEmail = importItem("e5", unverified.Email, "")
	checkNoErr(t, "ImportUsers verified email", s.ImportUsers(ctx(t), p.ID, "src", []*userpool.ImportItem{byEmail}, false))
	if byEmail.Status != userpool.ImportUpdated || byEmail.UserID != unverified.ID {
		t.Errorf("verified email match: status %q id %q, want updated %s", byEmail.Status, byEmail.UserID, unverified.ID)
	}
	// Another record of the same source with that email is refused.
	dup := importItem("e6", unverified.Email, "")
	checkNoErr(t, "ImportUsers duplicate in source", s.ImportUsers(ctx(t), p.ID, "src", []*userpool.ImportItem{dup}, false))
	if dup.Status != userpool.ImportRefused {
		t.Errorf("second record of the source with one email: status %q, want refused", dup.Status)
	}

	// A dry run reports and writes nothing.
	dry := importItem("e7", "seven@example.com", "seven")
	checkNoErr(t, "ImportUsers dry run", s.ImportUsers(ctx(t), p.ID, "src", []*userpool.ImportItem{dry}, true))
	if dry.Status != userpool.ImportCreated {
		t.Errorf("dry run: status %q, want imported", dry.Status)
	}
	if _, err := s.GetUser(ctx(t), p.ID, dry.UserID); !errors.Is(err, userpool.ErrUserNotFound) {
		t.Errorf("dry run wrote the user: GetUser err = %v", err)
	}

	// Export: pages in id order, with values and identities, and a search.
	var all []*userpool.ExportedUser
	after := ""
	for {
		page, err := s.ExportUsers(ctx(t), userpool.ExportQuery{PoolID: p.ID, AfterID: after, Limit: 2})
		checkNoErr(t, "ExportUsers", err)
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d users, limit 2", len(page))
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if len(all) != 5 { // held, plain, e1, e2, e3
		t.Fatalf("exported %d users, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Errorf("export not in id order: %s before %s", all[i-1].ID, all[i].ID)
		}
	}
	for _, e := range all {
		if e.ID != "preferred-id" {
			continue
		}
		if len(e.Values) != 1 || e.Values[0].Key != "age" || e.Values[0].Value != "42" {
			t.Errorf("exported values = %+v", e.Values)
		}
		if len(e.Identities) != 1 || e.Identities[0].Provider != "github" || e.Identities[0].Subject != "12345" {
			t.Errorf("exported identities = %+v", e.Identities)
		}
	}
	found, err := s.ExportUsers(ctx(t), userpool.ExportQuery{PoolID: p.ID, Search: "THREE@", Limit: 10})
	checkNoErr(t, "ExportUsers search", err)
	if len(found) != 1 || found[0].ID != "preferred-id" {
		t.Errorf("search THREE@ found %d users", len(found))
	}
}
