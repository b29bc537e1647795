package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

const bcryptTail = "$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga" // "allmine"

// TestImportRouteWorstInput: the streamed import route answers one
// report per non-empty line, in order, for the worst lines a client can
// send (too long, not JSON, wrong types, unknown members, hashes at and
// past the cost limits or in no known format, duplicate emails within
// the file, identifiers another user holds, values of the wrong type,
// NUL); the good lines around them are imported.
func TestImportRouteWorstInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil).withoutFailureDetection(t)
		mc, c := in.admin(), in.client()
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "age", DataType: "NUMBER"}))
		must[*client.User](t)(c.RegisterByUsername(ctx, "taken", "passw0rd!", nil, nil))

		pad := func(n int) string { // a line of exactly n bytes
			head := `{"email":"pad@example.com","nickname":"`
			return head + strings.Repeat("x", n-len(head)-2) + `"}`
		}
		lines := []string{
			`{"externalId":"1","email":"ok1@example.com","passwordHash":"$2a$13` + bcryptTail + `"}`,  // 1 at the cost limit
			`{"externalId":"2","email":"over@example.com","passwordHash":"$2a$14` + bcryptTail + `"}`, // 2 over it
			pad(api.MaxImportLineBytes + 1),                             // 3 too long
			`{"email": "broken@example.com"`,                            // 4 not JSON
			`{"email": 5}`,                                              // 5 wrong type
			`{"externalId":"6","email":"OK1@example.com"}`,              // 6 same email, other record
			`{"externalId":"7","email":"x@example.com","isAdmin":true}`, // 7 unknown member
			``, // 8 empty: no report
			`{"externalId":"9","email":"sha@example.com","passwordHash":"$6$rounds=5000$salt$abcdef"}`,                                                   // 9 unknown format
			`{"externalId":"10","customData":{"age":3}}`,                                                                                                 // 10 no identifier
			`{"externalId":"11","email":"age@example.com","customData":{"age":"old"}}`,                                                                   // 11 wrong value type
			`{"externalId":"12","email":"id@example.com","identities":[{"provider":"github","subject":""}]}`,                                             // 12 bad identity
			`{"externalId":"13","username":"taken"}`,                                                                                                     // 13 username taken
			`{"externalId":"14","email":"ok2@example.com","customData":{"age":41,"plan":"pro"}}`,                                                         // 14 fine, defines plan
			`{"externalId":"15","email":"pb@example.com","passwordHash":"$pbkdf2-sha256$i=3000000$c2FsdA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"}`,  // 15 at the limit
			`{"externalId":"16","email":"pb2@example.com","passwordHash":"$pbkdf2-sha256$i=3000001$c2FsdA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"}`, // 16 over
			`{"externalId":"17","email":"nul@example.com","nickname":"a\u0000b"}`,                                                                        // 17 NUL
			pad(api.MaxImportLineBytes), // 18 at the line limit: read, judged
		}
		want := map[int]string{1: "imported", 2: "invalid_password_hash", 3: "line_too_long", 4: "invalid_json", 5: "invalid_json",
			6: "duplicate_in_source", 7: "invalid_json", 9: "invalid_password_hash", 10: "missing_field", 11: "field_type_mismatch",
			12: "invalid_identities", 13: "username_taken", 14: "imported", 15: "imported", 16: "invalid_password_hash", 17: "bad_request"}
		var got []client.ImportReport
		sum, err := mc.ImportUsers(ctx, "default", strings.NewReader(strings.Join(lines, "\n")), client.ImportOptions{Source: "test"},
			func(r client.ImportReport) error { got = append(got, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(lines)-1 {
			t.Fatalf("%d reports for %d non-empty lines: %+v", len(got), len(lines)-1, got)
		}
		for i, r := range got {
			if i > 0 && r.Line <= got[i-1].Line {
				t.Fatalf("reports out of order: %+v", got)
			}
			w, ok := want[r.Line]
			if !ok {
				if r.Status != "refused" || r.Reason == "line_too_long" {
					t.Errorf("line %d: %+v; want refused on its content", r.Line, r)
				}
				continue
			}
			if w == "imported" && r.Status != "imported" || w != "imported" && r.Reason != w {
				t.Errorf("line %d: %+v; want %s", r.Line, r, w)
			}
		}
		if sum.Imported != 3 || sum.Refused != len(lines)-1-3 {
			t.Fatalf("summary %+v", sum)
		}
		l := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{}))
		if l.Total != 4 { // taken + 3
			t.Fatalf("%d users", l.Total)
		}
		// The cost-13 hash is stored as given (its tail is another cost's,
		// so no password matches it; that it is there is the point).
		if u, err := in.Srv.Store().GetUserByEmail(ctx, in.Srv.DefaultPoolID(), "ok1@example.com"); err != nil || !strings.HasPrefix(u.PasswordHash, "$2a$13$") {
			t.Fatalf("ok1: %v", err)
		}

		// Without the administrator key: refused before anything is read.
		bad := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: "wrong"})
		_, err = bad.ImportUsers(ctx, "default", strings.NewReader(lines[0]), client.ImportOptions{}, nil)
		if ce := wantCode(t, err, 1401); ce.HTTPStatus != http.StatusUnauthorized {
			t.Fatalf("without the key: %+v", ce)
		}
		_, err = mc.ImportUsers(ctx, "default", strings.NewReader(lines[0]), client.ImportOptions{Source: "Bad Source"}, nil)
		wantCode(t, err, 1003)
		err = bad.ExportUsers(ctx, "default", client.ExportOptions{IncludeHashes: true}, func(client.UserRecord) error { return nil })
		wantCode(t, err, 1401)
	})
}

// TestImportKeepsNewerPassword: running an import again replaces the
// hash only while the stored one is still the imported one; the argon2id
// hash a login made (or a password the user set) stays, and the
// password keeps working.
func TestImportKeepsNewerPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil).withoutFailureDetection(t)
		mc, c, st, pool := in.admin(), in.client(), in.Srv.Store(), in.Srv.DefaultPoolID()
		rec := func(hash string) []client.UserRecord {
			return []client.UserRecord{{ExternalID: "x1", Email: "keep@example.com", PasswordHash: hash, EmailVerified: true}}
		}
		imp := func(hash string) *client.ImportSummary {
			t.Helper()
			return must[*client.ImportSummary](t)(mc.ImportRecords(ctx, "default", rec(hash), client.ImportOptions{Source: "legacy"}, nil))
		}
		stored := func() string {
			u, err := st.GetUserByEmail(ctx, pool, "keep@example.com")
			if err != nil {
				t.Fatal(err)
			}
			return u.PasswordHash
		}
		imp("$2a$10" + bcryptTail)
		// Still the imported hash: a newer export's hash replaces it.
		const md5 = `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`
		if s := imp(md5); s.Updated != 1 || stored() != md5 {
			t.Fatalf("second import: %+v, stored %q", s, stored())
		}
		must[*client.User](t)(c.LoginByEmail(ctx, "keep@example.com", "password", nil))
		after := stored()
		if !strings.HasPrefix(after, "$argon2id$") {
			t.Fatalf("not rehashed: %q", after)
		}
		if s := imp("$2a$10" + bcryptTail); s.Updated != 1 || stored() != after {
			t.Fatalf("third import put an old hash back: %q", stored())
		}
		must[*client.User](t)(c.LoginByEmail(ctx, "keep@example.com", "password", nil))
		_, err := c.LoginByEmail(ctx, "keep@example.com", "allmine", nil)
		wantCode(t, err, 2006)
		// A source that says "not verified" does not undo a verification.
		must[*client.ImportSummary](t)(mc.ImportRecords(ctx, "default", []client.UserRecord{{ExternalID: "x1", Email: "keep@example.com"}},
			client.ImportOptions{Source: "legacy"}, nil))
		if u, err := st.GetUserByEmail(ctx, pool, "keep@example.com"); err != nil || !u.EmailVerified || u.PasswordHash != after {
			t.Fatalf("after an import without the flag: %+v %v", u, err)
		}
	})
}

// TestExportRoute: the export streams every user (more than one page),
// hashes only when asked, and the search narrows it.
func TestExportRoute(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		var recs []client.UserRecord
		for i := range 1203 {
			recs = append(recs, client.UserRecord{Email: fmt.Sprintf("e%04d@example.com", i), PasswordHash: "$2a$10" + bcryptTail,
				Identities: []client.Identity{{Provider: "google", Subject: fmt.Sprint(i), Data: json.RawMessage(`{"hd":"example.com"}`)}}})
		}
		if s := must[*client.ImportSummary](t)(mc.ImportRecords(ctx, "default", recs, client.ImportOptions{}, nil)); s.Imported != 1203 {
			t.Fatalf("%+v", s)
		}
		var out []client.UserRecord
		collect := func(r client.UserRecord) error { out = append(out, r); return nil }
		if err := mc.ExportUsers(ctx, "default", client.ExportOptions{}, collect); err != nil {
			t.Fatal(err)
		}
		if len(out) != 1203 || out[0].PasswordHash != "" || len(out[7].Identities) != 1 || !bytes.Equal(out[7].Identities[0].Data, []byte(`{"hd":"example.com"}`)) {
			t.Fatalf("export: %d users, first %+v", len(out), out[0])
		}
		out = nil
		if err := mc.ExportUsers(ctx, "default", client.ExportOptions{Search: "e12", IncludeHashes: true}, collect); err != nil {
			t.Fatal(err)
		}
		if len(out) != 3 || out[0].PasswordHash != "$2a$10"+bcryptTail {
			t.Fatalf("search: %+v", out)
		}
		// Each export is in the audit log, with its search and whether it
		// carried the hashes (both in one second: compared as a set).
		evs := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.users.export"}))
		var got []string
		for _, e := range evs {
			got = append(got, e.Detail["search"]+"|"+e.Detail["includeHashes"])
		}
		slices.Sort(got)
		if strings.Join(got, " ") != "e12|true |false" {
			t.Fatalf("export audit events: %+v", evs)
		}
	})
}
