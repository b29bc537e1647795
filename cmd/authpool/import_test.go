package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/storetest"
)

const testdata = "../../internal/importer/testdata/"

// firebaseFlags are Firebase's documented example hash config.
var firebaseFlags = []string{"-hash-key", "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
	"-salt-separator", "Bw==", "-rounds", "8", "-mem-cost", "14"}

type login struct{ email, password string }

// importCases are the sample export of each source, what the import
// must report, and users who must then log in with their original
// passwords (blocked ones must be refused with 2057).
var importCases = []struct {
	format, file    string
	flags           []string
	imported        int
	refused         []string // reasons, in order
	logins, blocked []login
}{
	{format: "auth0", file: "auth0.json", imported: 3, refused: []string{"invalid_password_hash", "invalid_password_hash"},
		logins:  []login{{"ada@example.com", "allmine"}, {"grace@example.com", "password"}},
		blocked: []login{{"linus@example.com", "password"}}},
	{format: "firebase", file: "firebase.json", flags: firebaseFlags, imported: 2,
		logins: []login{{"user1@example.com", "user1password"}}},
	{format: "keycloak", file: "keycloak-realm.json", imported: 2, refused: []string{"service_account"},
		logins: []login{{"kcuser@example.com", "Keycloak-Pass1"}}},
	{format: "supabase", file: "supabase.json", imported: 2, refused: []string{"deleted"},
		logins:  []login{{"sb1@example.com", "allmine"}},
		blocked: []login{{"sb2@example.com", "rasmuslerdorf"}}},
	{format: "ory", file: "ory.json", imported: 2, refused: []string{"cleartext_password"},
		logins: []login{{"ory1@example.com", "password"}, {"ory2@example.com", "password"}}},
	{format: "authing", file: "authing.json", imported: 2, refused: []string{"invalid_password_hash"},
		logins:  []login{{"authing1@example.com", "hunter2"}},
		blocked: []login{{"authing2@example.com", "allmine"}}},
}

// cliCtx is cli with a context and the standard error.
func cliCtx(ctx context.Context, url string, args ...string) (string, string, error) {
	env := map[string]string{"AUTHPOOL_ADMIN_URL": url, "AUTHPOOL_ADMIN_KEY": cliKey}
	var out, errb bytes.Buffer
	err := run(ctx, append([]string{"admin"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

// jsonReport parses `users import --json`: per-record reports and the
// summary.
func jsonReport(t *testing.T, out string) (map[int]importLine, client.ImportSummary) {
	t.Helper()
	recs := map[int]importLine{}
	var sum client.ImportSummary
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l struct {
			importLine
			Summary *client.ImportSummary `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		if l.Summary != nil {
			sum = *l.Summary
			continue
		}
		recs[l.Record] = l.importLine
	}
	return recs, sum
}

func userCount(t *testing.T, url, pool string) int {
	t.Helper()
	mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})
	l, err := mc.ListUsers(context.Background(), pool, client.ListUsersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Total
}

// TestImportEachFormatCLI: every reader's sample through `authpool admin
// users import`, then logins through the Go SDK with the original
// passwords; a dry run writes nothing; a second run updates every user
// and creates none.
func TestImportEachFormatCLI(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			c := client.NewAuthenticationClient(client.Options{AppHost: url})
			total := 0
			for _, tc := range importCases {
				t.Run(tc.format, func(t *testing.T) {
					cp := filepath.Join(t.TempDir(), "cp")
					args := append([]string{"users", "import", testdata + tc.file, "-format", tc.format, "-checkpoint", cp, "--json"}, tc.flags...)
					out, _, err := cliCtx(ctx, url, append(args, "-dry-run")...)
					if err != nil {
						t.Fatal(err)
					}
					if _, sum := jsonReport(t, out); sum.Imported != tc.imported || !sum.DryRun || userCount(t, url, "default") != total {
						t.Fatalf("dry run: %+v, %d users", sum, userCount(t, url, "default"))
					}

					out, _, err = cliCtx(ctx, url, args...)
					if err != nil {
						t.Fatal(err)
					}
					recs, sum := jsonReport(t, out)
					var reasons []string
					for n := 1; n <= 10; n++ {
						if r, ok := recs[n]; ok && r.Status == "refused" {
							reasons = append(reasons, r.Reason)
						}
					}
					if sum.Imported != tc.imported || sum.Updated != 0 || strings.Join(reasons, ",") != strings.Join(tc.refused, ",") {
						t.Fatalf("import: %+v, refused %v; want %d imported, refused %v\n%s", sum, reasons, tc.imported, tc.refused, out)
					}
					total += tc.imported
					if n := userCount(t, url, "default"); n != total {
						t.Fatalf("%d users after the import; want %d", n, total)
					}
					for _, l := range tc.logins {
						u, err := c.LoginByEmail(ctx, l.email, l.password, nil)
						if err != nil || u.Token == "" {
							t.Fatalf("login %s: %v", l.email, err)
						}
					}
					for _, l := range tc.blocked {
						_, err := c.LoginByEmail(ctx, l.email, l.password, nil)
						if ce, ok := err.(*client.Error); !ok || ce.Code != 2057 {
							t.Fatalf("blocked %s: %v", l.email, err)
						}
					}

					// Again: every user is updated, none created; the
					// logins above rehashed some passwords, and the
					// import does not put the old hashes back.
					out, _, err = cliCtx(ctx, url, args...)
					if err != nil {
						t.Fatal(err)
					}
					if _, sum := jsonReport(t, out); sum.Imported != 0 || sum.Updated != tc.imported {
						t.Fatalf("second run: %+v", sum)
					}
					if n := userCount(t, url, "default"); n != total {
						t.Fatalf("%d users after the second run; want %d", n, total)
					}
					for _, l := range tc.logins {
						if _, err := c.LoginByEmail(ctx, l.email, l.password, nil); err != nil {
							t.Fatalf("login %s after the second run: %v", l.email, err)
						}
					}
				})
			}
			// Users keep their source ids (free here).
			mc := client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: cliKey})
			for _, id := range []string{"5f1e7a2b9c0d", "Ky2sVO6Kh3RkH3xA3nUTiKzSYyz2", "1e7f7bb3-5b4f-4c3e-8a0e-8d7b3f0f6a11", "6229ab0a8f2a4c7d3e0b1c01"} {
				if _, err := mc.GetUser(ctx, "default", id); err != nil {
					t.Errorf("user %s: %v", id, err)
				}
			}
			// The dashboard's CSV of the same Supabase users updates them.
			cp := filepath.Join(t.TempDir(), "cp")
			out := mustCLI(t, url, "users", "import", testdata+"supabase.csv", "-format", "supabase", "-checkpoint", cp)
			if !strings.Contains(out, "import: 0 imported, 2 updated, 0 refused") {
				t.Fatalf("supabase CSV: %s", out)
			}
		})
	}
}

// TestExportImportSecondServer: users imported into one server, some
// of whom logged in there (their hashes are now argon2id), are exported
// with their hashes, values and identities and imported into a second
// server, where the same passwords log in.
func TestExportImportSecondServer(t *testing.T) {
	urls := storetest.DatabaseURLs(t)
	for backend, dbURL := range urls {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			a := startServer(t, dbURL)
			b := startServer(t, storetest.DatabaseURLs(t)[backend])
			dir := t.TempDir()
			mustCLI(t, a, "users", "import", testdata+"auth0.json", "-format", "auth0", "-checkpoint", filepath.Join(dir, "cp"))
			mustCLI(t, a, "users", "import", testdata+"keycloak-realm.json", "-format", "keycloak", "-checkpoint", filepath.Join(dir, "cp"))
			ca := client.NewAuthenticationClient(client.Options{AppHost: a})
			if _, err := ca.LoginByEmail(ctx, "ada@example.com", "allmine", nil); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "users.jsonl")
			// Without -include-hashes the file has no hash.
			mustCLI(t, a, "users", "export", "-o", file)
			if raw, _ := os.ReadFile(file); bytes.Contains(raw, []byte("passwordHash")) || bytes.Count(raw, []byte("\n")) != 5 {
				t.Fatalf("export without hashes:\n%s", raw)
			}
			mustCLI(t, a, "users", "export", "-o", file, "-include-hashes")
			raw, _ := os.ReadFile(file)
			if !bytes.Contains(raw, []byte(`"passwordHash":"$argon2id$`)) || !bytes.Contains(raw, []byte(`"provider":"github","subject":"583231"`)) {
				t.Fatalf("export:\n%s", raw)
			}
			out := mustCLI(t, b, "users", "import", file, "-format", "authpool", "-checkpoint", filepath.Join(dir, "cp2"))
			if !strings.Contains(out, "5 imported, 0 updated, 0 refused") {
				t.Fatalf("import into b: %s", out)
			}
			cb := client.NewAuthenticationClient(client.Options{AppHost: b})
			for _, l := range []login{{"ada@example.com", "allmine"}, {"grace@example.com", "password"}, {"kcuser@example.com", "Keycloak-Pass1"}} {
				if _, err := cb.LoginByEmail(ctx, l.email, l.password, nil); err != nil {
					t.Fatalf("login %s on the second server: %v", l.email, err)
				}
			}
			// Same ids, values with their types.
			var ua, ub client.User
			mca := client.NewManagementClient(client.ManagementOptions{Host: a, AdminKey: cliKey})
			mcb := client.NewManagementClient(client.ManagementOptions{Host: b, AdminKey: cliKey})
			la, _ := mca.ListUsers(ctx, "default", client.ListUsersOptions{Search: "ada@"})
			lb, _ := mcb.ListUsers(ctx, "default", client.ListUsersOptions{Search: "ada@"})
			if len(la.Users) != 1 || len(lb.Users) != 1 || la.Users[0].ID != lb.Users[0].ID {
				t.Fatalf("ids: %+v %+v", la, lb)
			}
			pa, _ := mca.GetUser(ctx, "default", la.Users[0].ID)
			pb, _ := mcb.GetUser(ctx, "default", lb.Users[0].ID)
			ua, ub = *pa, *pb
			if fmt.Sprint(ua.CustomData) != fmt.Sprint(ub.CustomData) || ub.CustomDataTypes["seats"] != "NUMBER" || ub.CustomData["beta"] != true {
				t.Fatalf("values: %v / %v %v", ua.CustomData, ub.CustomData, ub.CustomDataTypes)
			}
		})
	}
}

// TestImportResume: an import of 100,000 lines interrupted part way
// resumes from its checkpoint; nothing is duplicated and every user is
// there.
func TestImportResume(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 users")
	}
	const n = 100_000
	dir := t.TempDir()
	file := filepath.Join(dir, "big.jsonl")
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"externalId":"u%d","email":"u%d@example.com","emailVerified":true,"nickname":"n%d"}`+"\n", i, i, i)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			url := startServer(t, dbURL)
			cp := filepath.Join(t.TempDir(), "cp")
			args := []string{"users", "import", file, "-format", "authpool", "-source", "legacy", "-checkpoint", cp}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { _, _, err := cliCtx(ctx, url, args...); done <- err }()
			// Interrupt once a checkpoint says part of the file is in.
			re := regexp.MustCompile(`"record":(\d+)`)
			for {
				raw, _ := os.ReadFile(cp)
				if m := re.FindSubmatch(raw); m != nil && string(m[1]) >= "1" && len(m[1]) >= 5 {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("the import ended before it was interrupted: %v", err)
				case <-time.After(20 * time.Millisecond):
				}
			}
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the interrupted import reported success")
			}
			part := userCount(t, url, "default")
			if part == 0 || part >= n {
				t.Fatalf("%d users after the interruption", part)
			}
			if _, _, err := cliCtx(context.Background(), url, args...); err == nil || !strings.Contains(err.Error(), "-resume") {
				t.Fatalf("a second run without -resume: %v", err)
			}
			out, _, err := cliCtx(context.Background(), url, append(args, "-resume")...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "resumed after record") {
				t.Fatalf("resume printed %s", out)
			}
			if got := userCount(t, url, "default"); got != n {
				t.Fatalf("%d users after resuming; want %d", got, n)
			}
			if _, err := os.Stat(cp); !os.IsNotExist(err) {
				t.Fatalf("checkpoint left after a finished import: %v", err)
			}
		})
	}
}
