package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/udf"
	"github.com/authpool/authpool/internal/userpool"
)

// sourceRE is what an import's source name may be: it is part of the key
// that makes imports idempotent (docs/MIGRATION.md).
var sourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// CheckImportSource refuses a source name that is not a short lower-case
// word.
func CheckImportSource(source string) error {
	if !sourceRE.MatchString(source) {
		return invalid("invalid_source", "source must be 1-32 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit")
	}
	return nil
}

// ImportSession carries what one import run learns across its batches:
// the pool and its fields, so that a batch does not read them again.
type ImportSession struct {
	PoolID string
	Source string
	DryRun bool
	fields map[string]*userpool.Field
	// pending are the fields a dry run would have defined.
	pending map[string]bool
}

// StartImport checks the source and resolves the pool for an import.
func (a *Service) StartImport(ctx context.Context, m auth.Meta, source string, dryRun bool) (*ImportSession, error) {
	if err := CheckImportSource(source); err != nil {
		return nil, err
	}
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	fields, err := a.store.ListFields(ctx, id)
	if err != nil {
		return nil, err
	}
	s := &ImportSession{PoolID: id, Source: source, DryRun: dryRun, fields: map[string]*userpool.Field{}, pending: map[string]bool{}}
	for _, f := range fields {
		s.fields[f.Key] = f
	}
	return s, nil
}

// ImportBatch checks every record, writes the valid ones in one store
// transaction (none with DryRun) and returns one report per record, in
// order (Line is left for the caller). No password is hashed: hashes are
// stored as given, after password.Check. Imports emit no webhook events
// (a move is not a registration); one audit event per batch records it.
func (a *Service) ImportBatch(ctx context.Context, m auth.Meta, s *ImportSession, recs []*api.UserRecord) ([]api.ImportReport, error) {
	out := make([]api.ImportReport, len(recs))
	items := make([]*userpool.ImportItem, 0, len(recs))
	at := make([]int, 0, len(recs))
	for i, r := range recs {
		it, err := a.importItem(ctx, s, r)
		if err != nil {
			out[i] = refused(err)
			continue
		}
		out[i].ExternalID = it.ExternalID
		items = append(items, it)
		at = append(at, i)
	}
	if len(items) > 0 {
		if err := a.store.ImportUsers(ctx, s.PoolID, s.Source, items, s.DryRun); err != nil {
			return nil, err
		}
	}
	counts := map[userpool.ImportStatus]int{}
	for j, it := range items {
		counts[it.Status]++
		r := &out[at[j]]
		if it.Status == userpool.ImportRefused {
			ext := r.ExternalID
			*r = refused(it.Err)
			r.ExternalID = ext
			continue
		}
		r.Status, r.UserID = string(it.Status), it.UserID
	}
	if !s.DryRun && len(items) > 0 {
		a.audit(ctx, m, s.PoolID, "", "admin.users.import", map[string]string{
			"source":   s.Source,
			"imported": strconv.Itoa(counts[userpool.ImportCreated]),
			"updated":  strconv.Itoa(counts[userpool.ImportUpdated]),
			"refused":  strconv.Itoa(len(recs) - counts[userpool.ImportCreated] - counts[userpool.ImportUpdated]),
		})
	}
	return out, nil
}

func refused(err error) api.ImportReport {
	var ue *userpool.Error
	if !errors.As(err, &ue) {
		ue = &userpool.Error{Code: userpool.CodeInvalidArgument, Reason: "invalid_record", Message: err.Error()}
	}
	return api.ImportReport{Status: api.ImportStatusRefused, Code: int(ue.Code), Reason: ue.Reason, Message: ue.Message}
}

// importItem checks one record as CreateUser checks a new user (email,
// phone, profile, user-defined values), except the password policy: a
// hash is stored as given once password.Check accepts it.
func (a *Service) importItem(ctx context.Context, s *ImportSession, r *api.UserRecord) (*userpool.ImportItem, error) {
	u := &userpool.User{
		ID: r.ID, Profile: userpool.Profile(r.Profile), EmailVerified: r.EmailVerified, PhoneVerified: r.PhoneVerified,
		Blocked: r.Blocked, SignedUp: r.SignedUp, CreatedAt: r.CreatedAt,
	}
	if len(r.ID) > 128 || !utf8.ValidString(r.ID) || strings.ContainsFunc(r.ID, unicode.IsControl) || strings.ContainsAny(r.ID, "/?#%") {
		return nil, invalid("invalid_id", "id must be at most 128 bytes of UTF-8 without control characters, '/', '?', '#' or '%%'")
	}
	var err error
	if r.Email != "" {
		if u.Email, err = auth.NormalizeEmail(r.Email); err != nil {
			return nil, err
		}
	}
	if r.Phone != "" {
		if u.Phone, err = a.auth.NormalizePhone(r.Phone); err != nil {
			return nil, err
		}
	}
	if err := auth.ValidateProfile(&u.Profile); err != nil {
		return nil, err
	}
	if u.Email == "" && u.Username == "" && u.Phone == "" {
		return nil, invalid("missing_field", "a user needs an email, a username or a phone number")
	}
	if r.PasswordHash != "" {
		if err := password.Check(r.PasswordHash); err != nil {
			return nil, invalid("invalid_password_hash", "passwordHash is refused: %s", strings.TrimPrefix(err.Error(), "password: malformed hash: "))
		}
		u.PasswordHash = r.PasswordHash
	}
	if u.CreatedAt.Year() < 1970 && !u.CreatedAt.IsZero() || u.CreatedAt.Year() > 9999 || u.SignedUp.Year() > 9999 {
		return nil, invalid("invalid_time", "createdAt and signedUp must be between 1970 and 9999")
	}
	if u.SignedUp.IsZero() {
		u.SignedUp = u.CreatedAt
	}

	ext := r.ExternalID
	if ext == "" {
		ext = r.ID
	}
	switch {
	case ext != "":
	case u.Email != "":
		ext = "email:" + userpool.EmailKey(u.Email)
	case u.Phone != "":
		ext = "phone:" + u.Phone
	default:
		ext = "username:" + userpool.UsernameKey(u.Username)
	}
	if len(ext) > 256 || !utf8.ValidString(ext) || strings.ContainsRune(ext, 0) {
		return nil, invalid("invalid_external_id", "externalId must be at most 256 bytes of UTF-8 without NUL")
	}
	it := &userpool.ImportItem{User: u, ExternalID: ext}

	if len(r.CustomData) > udf.MaxFieldsPerPool {
		return nil, invalid("invalid_custom_data", "customData may hold at most %d keys", udf.MaxFieldsPerPool)
	}
	for key, raw := range r.CustomData {
		f, err := a.importField(ctx, s, key, raw, r.CustomDataTypes[key])
		if err != nil {
			return nil, err
		}
		stored, err := udf.Parse(f, raw)
		if err != nil {
			return nil, err
		}
		if s.pending[key] {
			continue // a dry run's field that was not stored: the value was checked
		}
		it.Values = append(it.Values, &userpool.UserValue{Key: key, DataType: f.DataType, Value: stored})
	}

	if len(r.Identities) > api.MaxImportIdentities {
		return nil, invalid("invalid_identities", "a user may bring at most %d identities", api.MaxImportIdentities)
	}
	for _, id := range r.Identities {
		if id.Provider == "" || id.Subject == "" || len(id.Provider) > 128 || len(id.Subject) > 256 ||
			!utf8.ValidString(id.Provider+id.Subject) || strings.ContainsRune(id.Provider+id.Subject, 0) {
			return nil, invalid("invalid_identities", "an identity needs a provider (at most 128 bytes) and a subject (at most 256 bytes)")
		}
		data := "{}"
		if len(id.Data) > 0 && !bytes.Equal(id.Data, []byte("null")) {
			var b bytes.Buffer
			if err := json.Compact(&b, id.Data); err != nil || b.Len() > 4096 || b.Bytes()[0] != '{' {
				return nil, invalid("invalid_identities", "an identity's data must be a JSON object of at most 4096 bytes")
			}
			data = b.String()
		}
		it.Identities = append(it.Identities, &userpool.Identity{Provider: id.Provider, Subject: id.Subject, Data: data})
	}
	return it, nil
}

// importField returns the field for key, defining it when the pool has
// none, with the type of the value's JSON kind (a string is STRING, never
// DATETIME: define the field first to import dates). In a dry run the
// definition is only remembered.
func (a *Service) importField(ctx context.Context, s *ImportSession, key string, raw json.RawMessage, typ string) (*userpool.Field, error) {
	if f := s.fields[key]; f != nil {
		return f, nil
	}
	if err := udf.CheckKey(key); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	var dt userpool.DataType
	switch {
	case typ != "":
		t, err := udf.ParseType(typ)
		if err != nil {
			return nil, err
		}
		dt = t
	case len(raw) == 0:
		return nil, invalid("invalid_custom_data", "customData %q has no value", key)
	case raw[0] == '"':
		dt = userpool.TypeString
	case raw[0] == '{':
		dt = userpool.TypeObject
	case raw[0] == 't' || raw[0] == 'f':
		dt = userpool.TypeBoolean
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		dt = userpool.TypeNumber
	default:
		return nil, invalid("invalid_custom_data", "customData %q: a new field's type follows its value, which must be a string, number, boolean or object", key)
	}
	if len(s.fields) >= udf.MaxFieldsPerPool {
		return nil, invalid("too_many_fields", "the pool already has %d fields", udf.MaxFieldsPerPool)
	}
	f := &userpool.Field{PoolID: s.PoolID, Key: key, DataType: dt, Label: key, CreatedAt: a.now().UTC()}
	f.UpdatedAt = f.CreatedAt
	if s.DryRun {
		s.pending[key] = true
	} else {
		err := a.store.CreateField(ctx, f)
		if errors.Is(err, userpool.ErrFieldExists) {
			f, err = a.store.GetField(ctx, s.PoolID, key)
		}
		if err != nil {
			return nil, fmt.Errorf("define field %s: %w", key, err)
		}
	}
	s.fields[key] = f
	return f, nil
}

// AuditExport records that an export of the pool's users starts (with
// the search and whether password hashes are included): the whole user
// base leaving is an event the audit log must show.
func (a *Service) AuditExport(ctx context.Context, m auth.Meta, search string, hashes bool) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	a.audit(ctx, m, id, "", "admin.users.export", map[string]string{"search": truncateDetail(search), "includeHashes": strconv.FormatBool(hashes)})
	return nil
}

func truncateDetail(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}

// ExportPage returns up to limit users after afterID (id order) matching
// search, for an export.
func (a *Service) ExportPage(ctx context.Context, m auth.Meta, search, afterID string, limit int) ([]*userpool.ExportedUser, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if len(search) > 256 || len(afterID) > 256 {
		return nil, invalid("invalid_search", "search and after must be at most 256 bytes")
	}
	return a.store.ExportUsers(ctx, userpool.ExportQuery{PoolID: id, Search: strings.TrimSpace(search), AfterID: afterID, Limit: limit})
}
