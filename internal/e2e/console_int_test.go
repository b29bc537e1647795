package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestAdminAuditKeepsFieldKey: the acting key's name is audited as
// adminKey, so the field's own key survives in admin.field.* (through the
// SDK) and admin.user.value_* (through the console) events; before, the
// key's name overwrote it.
func TestAdminAuditKeepsFieldKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		// A key named "key" and a field named "adminKey": the worst names.
		alice := must[*client.CreatedNamedAdminKey](t)(adm.CreateAdminKey(ctx, "key", false))
		ak := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: alice.Key, Timeout: 30 * time.Second})
		for _, fk := range []string{"nick", "adminKey"} {
			must[*client.Field](t)(ak.DefineField(ctx, "default", client.DefineFieldRequest{Key: fk, DataType: "STRING"}))
			label := "Label " + fk
			must[*client.Field](t)(ak.UpdateField(ctx, "default", fk, client.UpdateFieldRequest{Label: &label}))
		}
		u, _ := consoleUser(t, in, "audited@example.com")
		c := newConsoleClient(t, in)
		c.signIn(alice.Key)
		userPath := "/pools/default/users/" + u.ID
		c.get(userPath)
		for _, fk := range []string{"nick", "adminKey"} {
			if a := c.post(userPath+"/values", url.Values{"key": {fk}, "value": {"x"}}); a.Status != http.StatusSeeOther {
				t.Fatalf("set %s: %d\n%s", fk, a.Status, a.Body)
			}
			if a := c.post(userPath+"/values/remove", url.Values{"key": {fk}}); a.Status != http.StatusSeeOther {
				t.Fatalf("remove %s: %d\n%s", fk, a.Status, a.Body)
			}
		}
		must[struct{}](t)(struct{}{}, ak.DeleteField(ctx, "default", "nick"))

		want := map[string]int{"admin.field.define": 2, "admin.field.update": 2, "admin.field.delete": 1, "admin.user.value_set": 2, "admin.user.value_remove": 2}
		for ev, n := range want {
			evs := must[[]client.AuditEvent](t)(adm.ListAudit(ctx, "default", client.AuditQuery{Event: ev}))
			fields := map[string]bool{}
			for _, e := range evs {
				if e.Detail["adminKey"] != "key" {
					t.Errorf("%s: acting key %q, want the key named \"key\": %v", ev, e.Detail["adminKey"], e.Detail)
				}
				fields[e.Detail["key"]] = true
			}
			if len(evs) != n || !fields["nick"] || (n == 2 && !fields["adminKey"]) {
				t.Errorf("%s: %d events with field keys %v, want %d naming nick (and adminKey)", ev, len(evs), fields, n)
			}
		}
	})
}

// TestConsoleAuditExportIsAudited: downloading the log writes
// admin.audit.export naming the key and the filter, for a read-only key
// too (it may export); the worst filter values are bounded in the event.
func TestConsoleAuditExportIsAudited(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		ro := must[*client.CreatedNamedAdminKey](t)(adm.CreateAdminKey(ctx, "auditor", true))
		c := newConsoleClient(t, in)
		c.signIn(ro.Key)
		long := "a" + strings.Repeat("é", 400) // 256 bytes end inside an é
		q := url.Values{"event": {"login.success"}, "user": {long}, "since": {"2026-01-01"}, "until": {"2036-01-31T12:00"}}
		if a := c.get("/pools/default/audit/export?" + q.Encode()); a.Status != http.StatusOK {
			t.Fatalf("export: %d\n%s", a.Status, a.Body)
		}
		if a := c.get("/pools/default/audit/export"); a.Status != http.StatusOK {
			t.Fatalf("export: %d", a.Status)
		}
		// A refused filter downloads nothing and records nothing.
		if a := c.get("/pools/default/audit/export?since=2026-02-01&until=2026-01-01"); a.Status != http.StatusBadRequest {
			t.Fatalf("refused export: %d", a.Status)
		}
		evs := must[[]client.AuditEvent](t)(adm.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.audit.export"}))
		if len(evs) != 2 {
			t.Fatalf("%d export events, want 2: %+v", len(evs), evs)
		}
		plain, filtered := evs[0], evs[1]
		if plain.Detail["event"] != "" {
			plain, filtered = filtered, plain
		}
		if plain.Detail["adminKey"] != "auditor" || len(plain.Detail) != 1 {
			t.Errorf("unfiltered export: %v", plain.Detail)
		}
		d := filtered.Detail
		if d["adminKey"] != "auditor" || d["event"] != "login.success" || d["since"] != "2026-01-01T00:00:00Z" || d["until"] != "2036-01-31T12:00:00Z" ||
			len(d["user"]) == 0 || len(d["user"]) > 256 || !strings.HasPrefix(long, d["user"]) || strings.ContainsRune(d["user"], '\uFFFD') {
			t.Errorf("filtered export: %v", d)
		}
	})
}

// TestConsoleFieldUserEditable: the fields page's checkbox defines and
// changes whether users may set their own value, and the end user's SDK
// call follows it; the user page says which values the user may edit.
func TestConsoleFieldUserEditable(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		u, token := consoleUser(t, in, "editor@example.com")
		uc := in.client()
		uc.SetToken(token)
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		c.get("/pools/default/fields")
		if a := c.post("/pools/default/fields", url.Values{"key": {"nick"}, "dataType": {"STRING"}, "label": {"Nick"}, "userEditable": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("define: %d\n%s", a.Status, a.Body)
		}
		if a := c.post("/pools/default/fields", url.Values{"key": {"tier"}, "dataType": {"STRING"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("define: %d\n%s", a.Status, a.Body)
		}
		// A refused definition keeps the ticked box.
		if a := c.post("/pools/default/fields", url.Values{"key": {"bad key"}, "dataType": {"STRING"}, "userEditable": {"1"}}); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, `id="f-editable" name="userEditable" value="1" checked`) {
			t.Fatalf("refused define: %d\n%s", a.Status, a.Body)
		}
		if f := must[*client.Field](t)(adm.GetField(ctx, "default", "nick")); !f.UserEditable {
			t.Fatal("nick is not user-editable")
		}
		if f := must[*client.Field](t)(adm.GetField(ctx, "default", "tier")); f.UserEditable {
			t.Fatal("tier is user-editable")
		}
		must[[]client.UserDefinedData](t)(uc.SetUdv(ctx, "nick", "me"))
		_, err := uc.SetUdv(ctx, "tier", "gold")
		wantCode(t, err, api.CodeNoPermission)

		a := c.get("/pools/default/users/" + u.ID)
		if !strings.Contains(a.Body, `id="ue-nick">the user may edit it too<`) || !strings.Contains(a.Body, `id="ue-tier">administrators only<`) {
			t.Fatalf("the user page does not say who may edit:\n%s", a.Body)
		}

		// The row's form: an unticked box takes the right away, a ticked one gives it.
		c.get("/pools/default/fields")
		if a := c.post("/pools/default/fields/nick", url.Values{"label": {"Nick"}, "description": {""}}); a.Status != http.StatusSeeOther {
			t.Fatalf("update: %d\n%s", a.Status, a.Body)
		}
		if a := c.post("/pools/default/fields/tier", url.Values{"label": {"Tier"}, "userEditable": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("update: %d\n%s", a.Status, a.Body)
		}
		_, err = uc.SetUdv(ctx, "nick", "again")
		wantCode(t, err, api.CodeNoPermission)
		must[[]client.UserDefinedData](t)(uc.SetUdv(ctx, "tier", "gold"))
		a = c.get("/pools/default/fields")
		if !strings.Contains(a.Body, `id="ue-tier" name="userEditable" value="1" checked`) || strings.Contains(a.Body, `id="ue-nick" name="userEditable" value="1" checked`) {
			t.Fatalf("the fields page's boxes:\n%s", a.Body)
		}
	})
}

// TestConsoleUsersNextPageKeepsFilter: the users list's "next page" link
// is built whole in Go (html/template would percent-encode a query
// written after "?" in the template), carries the filter, and following
// it shows the rest of the filtered users once each.
func TestConsoleUsersNextPageKeepsFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		for i := range 27 {
			must[*client.User](t)(adm.CreateUser(ctx, "default", client.CreateUserRequest{Email: fmt.Sprintf("u%02d@example.com", i)}))
		}
		for i := range 3 {
			must[*client.User](t)(adm.CreateUser(ctx, "default", client.CreateUserRequest{Email: fmt.Sprintf("v%02d@example.com", i), EmailVerified: true}))
		}
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		link := regexp.MustCompile(`<a href="([^"]*)" rel="next" id="next-page">`)
		seen := map[string]int{}
		path, pages := "/pools/default/users?unverified=1", 0
		for path != "" {
			if pages++; pages > 3 {
				t.Fatalf("paging does not end at %s", path)
			}
			a := c.get(path)
			if a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, a.Status)
			}
			for _, m := range regexp.MustCompile(`>([uv]\d\d)@example\.com<`).FindAllStringSubmatch(a.Body, -1) {
				seen[m[1]]++
			}
			path = ""
			if m := link.FindStringSubmatch(a.Body); m != nil {
				href := strings.ReplaceAll(m[1], "&amp;", "&")
				u, err := url.Parse(href)
				if err != nil || !strings.HasPrefix(u.Path, "/console/pools/") || !strings.HasSuffix(u.Path, "/users") || u.Query().Get("unverified") != "1" || u.Query().Get("after") == "" {
					t.Fatalf("next page link %q", m[1])
				}
				path = strings.TrimPrefix(href, "/console")
			}
		}
		if pages != 2 || len(seen) != 27 {
			t.Fatalf("%d pages showed %d users: %v", pages, len(seen), seen)
		}
		for k, n := range seen {
			if n != 1 || k[0] != 'u' {
				t.Fatalf("%s shown %d times", k, n)
			}
		}
	})
}
