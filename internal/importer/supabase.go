package importer

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
)

// supabaseUser is a row of auth.users, as `psql -c "\copy (select
// row_to_json(u) from auth.users u) to users.json"` writes it (JSON lines;
// a JSON array is read too), or as the dashboard's CSV export has it
// (a header line naming the columns).
type supabaseUser struct {
	ID                string                     `json:"id"`
	Email             string                     `json:"email"`
	EncryptedPassword string                     `json:"encrypted_password"`
	EmailConfirmedAt  string                     `json:"email_confirmed_at"`
	Phone             string                     `json:"phone"`
	PhoneConfirmedAt  string                     `json:"phone_confirmed_at"`
	CreatedAt         string                     `json:"created_at"`
	BannedUntil       string                     `json:"banned_until"`
	DeletedAt         string                     `json:"deleted_at"`
	IsAnonymous       bool                       `json:"is_anonymous"`
	IsSSOUser         bool                       `json:"is_sso_user"`
	RawAppMetaData    map[string]json.RawMessage `json:"raw_app_meta_data"`
	RawUserMetaData   map[string]json.RawMessage `json:"raw_user_meta_data"`
}

type supabaseReader struct {
	js  *jsonStream
	csv *csv.Reader
	col map[string]int
	n   int
	now func() time.Time
}

func newSupabase(r io.Reader, _ Options) (Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	c, err := firstByte(br)
	if err != nil && err != io.EOF {
		return nil, err
	}
	s := &supabaseReader{now: time.Now}
	if c == '{' || c == '[' || err == io.EOF {
		s.js = newJSONStream(br, "")
		return s, nil
	}
	s.csv = csv.NewReader(&budget{r: br, left: 1 << 62})
	s.csv.ReuseRecord = true
	head, err := s.csv.Read()
	if err != nil {
		return nil, fmt.Errorf("importer: supabase CSV header: %w", err)
	}
	s.col = map[string]int{}
	for i, h := range head {
		s.col[strings.TrimSpace(h)] = i
	}
	if _, ok := s.col["id"]; !ok {
		return nil, fmt.Errorf("importer: supabase CSV: no id column")
	}
	s.n = 1
	return s, nil
}

func (s *supabaseReader) Next() (int, *api.UserRecord, error) {
	var u supabaseUser
	var n int
	if s.js != nil {
		var err error
		if n, err = s.js.next(&u); err != nil {
			return n, nil, err
		}
	} else {
		row, err := s.csv.Read()
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		s.n++
		n = s.n
		if err != nil {
			if _, ok := err.(*csv.ParseError); ok {
				return n, nil, fmt.Errorf("importer: supabase CSV line %d: %w", n, err)
			}
			return n, nil, err
		}
		get := func(k string) string {
			if i, ok := s.col[k]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		u = supabaseUser{ID: get("id"), Email: get("email"), EncryptedPassword: get("encrypted_password"),
			EmailConfirmedAt: get("email_confirmed_at"), Phone: get("phone"), PhoneConfirmedAt: get("phone_confirmed_at"),
			CreatedAt: get("created_at"), BannedUntil: get("banned_until"), DeletedAt: get("deleted_at"),
			IsAnonymous: get("is_anonymous") == "true"}
		for k, dst := range map[string]*map[string]json.RawMessage{"raw_app_meta_data": &u.RawAppMetaData, "raw_user_meta_data": &u.RawUserMetaData} {
			if v := get(k); v != "" {
				if err := json.Unmarshal([]byte(v), dst); err != nil {
					return n, nil, refuse(n, "invalid_record", "%s is not a JSON object", k)
				}
			}
		}
	}
	if u.DeletedAt != "" {
		return n, nil, refuse(n, "deleted", "the user was deleted in Supabase")
	}
	if u.IsAnonymous {
		return n, nil, refuse(n, "anonymous", "anonymous users are not imported")
	}
	rec := &api.UserRecord{ID: u.ID, ExternalID: u.ID, Email: u.Email, EmailVerified: u.EmailConfirmedAt != "",
		Phone: plusPhone(u.Phone), PhoneVerified: u.PhoneConfirmedAt != "", PasswordHash: u.EncryptedPassword}
	if t, ok := pgTime(u.CreatedAt); ok {
		rec.CreatedAt = t
	}
	if t, ok := pgTime(u.BannedUntil); ok && t.After(s.now()) {
		rec.Blocked = true
	}
	meta := map[string]json.RawMessage{}
	for k, v := range u.RawUserMetaData {
		var str string
		if json.Unmarshal(v, &str) == nil {
			switch k {
			case "full_name", "name":
				rec.Name = str
				continue
			case "avatar_url", "picture":
				rec.Photo = str
				continue
			case "email", "email_verified", "phone_verified", "sub", "iss":
				continue // copies of columns and of the provider's claims
			}
		}
		if k == "email_verified" || k == "phone_verified" {
			continue
		}
		meta[k] = v
	}
	rec.CustomData = customData(nil, meta)
	var provider string
	_ = json.Unmarshal(u.RawAppMetaData["provider"], &provider)
	_ = provider // the identities themselves are in auth.identities, which this file does not hold
	return n, rec, nil
}

// pgTime reads a timestamptz as row_to_json (RFC 3339) or psql/CSV
// ("2024-01-02 03:04:05.123456+00") write it.
func pgTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
