package importer

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/password"
)

// firebaseDoc is Firebase's documented example hash config.
var firebaseDoc = FirebaseConfig{
	SignerKey:     "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
	SaltSeparator: "Bw==", Rounds: 8, MemCost: 14,
}

type got struct {
	recs    map[int]*api.UserRecord
	refused map[int]string // record -> reason
}

func readAll(t *testing.T, format, path string, opt Options) got {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(format, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	g := got{recs: map[int]*api.UserRecord{}, refused: map[int]string{}}
	for {
		n, rec, err := rd.Next()
		if err == io.EOF {
			return g
		}
		var re *RecordError
		if errors.As(err, &re) {
			g.refused[n] = re.Reason
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rec.PasswordHash != "" {
			if err := password.Check(rec.PasswordHash); err != nil {
				// The server refuses it too; tests below say which.
				g.refused[n] = "hash:" + err.Error()
				continue
			}
		}
		g.recs[n] = rec
	}
}

func TestReaders(t *testing.T) {
	t.Parallel()
	t.Run("auth0", func(t *testing.T) {
		g := readAll(t, "auth0", "testdata/auth0.json", Options{})
		ada := g.recs[1]
		if ada == nil || ada.ExternalID != "5f1e7a2b9c0d" || ada.GivenName != "Ada" || !ada.EmailVerified ||
			string(ada.CustomData["roles"]) != `"[\"admin\",\"billing\"]"` || string(ada.CustomData["seats"]) != "3" {
			t.Fatalf("ada: %+v", ada)
		}
		if g.recs[2] == nil || !strings.HasPrefix(g.recs[2].PasswordHash, `{"algorithm":"md5"`) || len(g.recs[2].Identities) != 1 ||
			g.recs[2].Identities[0].Subject != "104523477632834" {
			t.Fatalf("md5 user: %+v", g.recs[2])
		}
		if g.recs[3] == nil || !g.recs[3].Blocked {
			t.Fatalf("pbkdf2 user: %+v", g.recs[3])
		}
		if g.refused[4] != "invalid_password_hash" || !strings.HasPrefix(g.refused[5], "hash:") {
			t.Fatalf("refused: %v", g.refused)
		}
	})
	t.Run("firebase", func(t *testing.T) {
		g := readAll(t, "firebase", "testdata/firebase.json", Options{Firebase: firebaseDoc})
		u := g.recs[1]
		if u == nil || !strings.HasPrefix(u.PasswordHash, "$firebase-scrypt$rounds=8,mem=14$jxspr8Ki") || u.CreatedAt.UnixMilli() != 1486324080000 ||
			string(u.CustomData["level"]) != "7" || len(u.Identities) != 1 || u.Identities[0].Provider != "google.com" {
			t.Fatalf("user1: %+v", u)
		}
		if p := g.recs[2]; p == nil || p.Phone != "+14155552671" || !p.Blocked || p.PasswordHash != "" {
			t.Fatalf("phone user: %+v", p)
		}
		// Without the hash config a user with a hash is refused, not
		// imported without a password.
		g = readAll(t, "firebase", "testdata/firebase.json", Options{})
		if g.refused[1] != "invalid_password_hash" || g.recs[2] == nil {
			t.Fatalf("no config: %v", g.refused)
		}
	})
	t.Run("keycloak", func(t *testing.T) {
		g := readAll(t, "keycloak", "testdata/keycloak-realm.json", Options{})
		u := g.recs[1]
		if u == nil || u.Username != "kcuser" || u.Phone != "+4930123456" || !strings.Contains(u.PasswordHash, "pbkdf2-sha256") ||
			string(u.CustomData["department"]) != `"R\u0026D"` && string(u.CustomData["department"]) != `"R&D"` || u.Identities[0].Subject != "583231" {
			t.Fatalf("kcuser: %+v", u)
		}
		if g.refused[2] != "service_account" || g.recs[3] == nil || !g.recs[3].Blocked {
			t.Fatalf("refused %v, disabled %+v", g.refused, g.recs[3])
		}
	})
	for _, file := range []string{"testdata/supabase.json", "testdata/supabase.csv"} {
		t.Run(file, func(t *testing.T) {
			g := readAll(t, "supabase", file, Options{})
			first, second := 1, 2
			if strings.HasSuffix(file, ".csv") {
				first, second = 2, 3 // line numbers after the header
			}
			u := g.recs[first]
			if u == nil || u.Email != "sb1@example.com" || !u.EmailVerified || u.Phone != "+14155550123" || !u.PhoneVerified ||
				u.Name != "Supa Base" || string(u.CustomData["newsletter"]) != "true" || u.CreatedAt.IsZero() {
				t.Fatalf("sb1: %+v", u)
			}
			if v := g.recs[second]; v == nil || !v.Blocked || v.EmailVerified {
				t.Fatalf("sb2: %+v", v)
			}
			if !strings.HasSuffix(file, ".csv") && g.refused[3] != "deleted" {
				t.Fatalf("refused: %v", g.refused)
			}
		})
	}
	t.Run("ory", func(t *testing.T) {
		g := readAll(t, "ory", "testdata/ory.json", Options{})
		if u := g.recs[1]; u == nil || u.ExternalID != "ory-argon" || !u.EmailVerified || u.GivenName != "Ory" {
			t.Fatalf("ory1: %+v", u)
		}
		if u := g.recs[2]; u == nil || u.ExternalID != "5b6c2f3e-7f4a-4d1e-9a2b-0c1d2e3f4a5b" || u.Username != "scrypter" || u.Identities[0].Provider != "github" {
			t.Fatalf("ory2: %+v", u)
		}
		if g.refused[3] != "cleartext_password" {
			t.Fatalf("refused: %v", g.refused)
		}
	})
	t.Run("authing", func(t *testing.T) {
		g := readAll(t, "authing", "testdata/authing.json", Options{})
		u := g.recs[1]
		if u == nil || u.Phone != "+8613800138000" || u.Username != "authing_one" || u.Identities[0].Provider != "wechat:6229ab0a8f2a4c7d3e0b1cff" {
			t.Fatalf("authing1: %+v", u)
		}
		if v := g.recs[2]; v == nil || !v.Blocked || v.Gender != "" {
			t.Fatalf("authing2: %+v", v)
		}
		// bcrypt cost 31 is over the cost limit.
		if !strings.Contains(g.refused[3], "cost") {
			t.Fatalf("refused: %v", g.refused)
		}
	})
}

// TestHostileFiles: broken structure stops a reader with an error naming
// the record; a record too large is refused (JSON lines) or stops the
// reader (inside an array) without holding it whole.
func TestHostileFiles(t *testing.T) {
	t.Parallel()
	next := func(format, body string) (int, error) {
		rd, err := NewReader(format, strings.NewReader(body), Options{})
		if err != nil {
			return 0, err
		}
		var n int
		for {
			m, _, err := rd.Next()
			if err == io.EOF {
				return n, nil
			}
			var re *RecordError
			if errors.As(err, &re) {
				n++
				continue
			}
			if err != nil {
				return m, err
			}
		}
	}
	huge := `{"email":"` + strings.Repeat("a", MaxRecordBytes+10) + `@example.com"}`
	if n, err := next("authpool", huge+"\n{\"email\":\"ok@example.com\"}\n"); err != nil || n != 1 {
		t.Fatalf("authpool huge line: refused %d, %v", n, err)
	}
	// The bound holds up to the decoder's read-ahead.
	huger := `{"email":"` + strings.Repeat("a", MaxRecordBytes+128<<10) + `@example.com"}`
	if _, err := next("auth0", "["+huger+"]"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("auth0 huge record: %v", err)
	}
	if _, err := next("auth0", `[{"email":"a@example.com"}, {"email": ]`); err == nil || !strings.Contains(err.Error(), "after record 1") {
		t.Fatalf("invalid JSON: %v", err)
	}
	if _, err := next("firebase", `{"users": [{"email":"a@example.com"}`); err == nil || !strings.Contains(err.Error(), "ends inside record 2") {
		t.Fatalf("truncated: %v", err)
	}
	if n, err := next("auth0", `[{"email": 5}, {"email_verified": "yes"}]`); err != nil || n != 2 {
		t.Fatalf("wrong types: refused %d, %v", n, err)
	}
	if n, err := next("authpool", "not json\n{\"email\":\"x@example.com\",\"bogus\":1}\n{\"end\":true}\n"); err != nil || n != 2 {
		t.Fatalf("authpool junk lines: refused %d, %v", n, err)
	}
	if _, err := NewReader("ldap", strings.NewReader(""), Options{}); err == nil {
		t.Fatal("unknown format accepted")
	}
	if _, err := NewReader("firebase", strings.NewReader(""), Options{Firebase: FirebaseConfig{SignerKey: "!!", Rounds: 8, MemCost: 14}}); err == nil {
		t.Fatal("bad signer key accepted")
	}
}
