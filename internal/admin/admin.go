// Package admin holds authpool's administration use cases: pools and their
// settings, user-defined field definitions, users, sessions, the audit
// log, pipelines and webhook subscriptions, and the administrator key that
// guards them. Transports call it only after CheckKey accepted the
// caller's key; end-user tokens never reach it. It builds on the policy of
// package auth (password rules, identifier and profile checks, custom data,
// webhook events) through auth's exported building blocks, so a user an
// administrator creates is judged like one who registers.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// Service runs the administration use cases: pools and their settings,
// field definitions, users, sessions, the audit log, pipelines and
// webhooks. Transports call it only after CheckKey accepted the caller's
// administrator key; end-user tokens never reach it.
type Service struct {
	auth  *auth.Service
	store userpool.Store
	now   func() time.Time
	log   *slog.Logger

	mu         sync.RWMutex
	configured []byte // SHA-256 of the configured administrator key, if any

	throttle keyThrottle // addresses past KeyFailureLimit (keythrottle.go)

	keys SigningKeys // the token signing keys (signingkey.go)
}

// New returns the administration use cases over store, sharing the
// policy of svc (which must run over the same store, with the same clock).
// now may be nil (time.Now).
func New(svc *auth.Service, store userpool.Store, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{auth: svc, store: store, now: now, log: log}
}

var (
	errAdminKeyRequired = userpool.Errorf(userpool.CodeAdminUnauthorized, "admin_key_required", "the administration API needs an administrator key: Authorization: Bearer <admin key>")
	errAdminKeyInvalid  = userpool.Errorf(userpool.CodeAdminUnauthorized, "admin_key_invalid", "the administrator key is wrong")
	errPoolExists       = userpool.Errorf(userpool.CodePoolExists, "pool_exists", "a user pool with this id already exists")
	errSessionNotFound  = userpool.Errorf(userpool.CodeNotFound, "session_not_found", "the user has no such session")
	errNoSigningKeys    = errors.New("admin: no signing key set given (UseSigningKeys)")
)

// adminKeyPrefix marks generated keys, so that one found in a file or a
// log is recognisable (and scanners can look for it).
const adminKeyPrefix = "apk_"

// UseConfiguredKey makes key the only administrator key accepted; stored
// keys are then ignored. Without it, CheckKey accepts the keys stored in
// the database.
func (a *Service) UseConfiguredKey(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.configured = hashKey(key)
}

// GenerateKeyIfNone stores a new administrator key when none is stored
// and returns it when this call stored it; "" when a key was configured or
// is stored already. Only its SHA-256 is stored, so the caller must show
// the key to the operator at once: call it only when nothing can fail
// before the key is shown (cmd/authpool calls it once the listener is
// bound), or a key nobody saw would be stored. Replicas starting together
// agree on one key, and only the one that stored it gets it back.
func (a *Service) GenerateKeyIfNone(ctx context.Context) (string, error) {
	a.mu.RLock()
	configured := a.configured != nil
	a.mu.RUnlock()
	if configured {
		return "", nil
	}
	key, mine := newAdminKey()
	stored, err := a.store.AddAdminKeyIfNone(ctx, &userpool.AdminKey{ID: newID(), Hash: mine, CreatedAt: a.now().UTC()})
	if err != nil {
		return "", err
	}
	for _, k := range stored {
		if subtle.ConstantTimeCompare(k.Hash, mine) == 1 {
			return key, nil
		}
	}
	if len(stored) == 0 {
		return "", errors.New("admin key: none stored")
	}
	return "", nil
}

// ResetKey replaces every stored administrator key with a new one and
// returns it; the old keys stop working at once on every replica (CheckKey
// reads the store; for an address past the key throttle, within a second). It is recorded in the default pool's audit log, with
// by naming who asked (the command line's operator). It works on the store
// alone, so an operator on the machine can recover a lost key without one.
func ResetKey(ctx context.Context, store userpool.Store, now time.Time, by string) (string, error) {
	key, hash := newAdminKey()
	var recs []userpool.Record
	pools, err := store.ListPools(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range pools {
		if p.IsDefault {
			// Before the first start there is no pool to record it in.
			recs = append(recs, &userpool.AuditEvent{
				PoolID: p.ID, Event: "admin.key.reset", Detail: map[string]string{"by": by}, CreatedAt: now.UTC(),
			})
		}
	}
	if err := store.ReplaceAdminKeys(ctx, &userpool.AdminKey{ID: newID(), Hash: hash, CreatedAt: now.UTC()}, recs...); err != nil {
		return "", err
	}
	return key, nil
}

// newAdminKey returns a fresh key (256 random bits) and its hash.
func newAdminKey() (key string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key = adminKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, hashKey(key)
}

// hashKey is SHA-256: administrator keys are long random strings (or
// configured ones of at least 32 characters), so a fast unsalted hash is
// enough to keep the stored form useless to a reader of the database.
func hashKey(k string) []byte {
	h := sha256.Sum256([]byte(k))
	return h[:]
}

// audit records an administrator's action in the pool's audit log. A
// failure to record is logged, not returned: the action itself is done.
func (a *Service) audit(ctx context.Context, m auth.Meta, poolID, userID, event string, detail map[string]string) {
	err := a.store.AppendAudit(ctx, &userpool.AuditEvent{
		PoolID: poolID, UserID: userID, Event: event, ClientIP: m.ClientIP,
		UserAgent: truncate(m.UserAgent, 512), Detail: withActor(ctx, detail), CreatedAt: a.now().UTC(),
	})
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "audit append failed", slog.String("event", event), slog.String("error", err.Error()))
	}
}

// poolID resolves the pool an administrator addresses ("default" is the
// default pool).
func (a *Service) poolID(ctx context.Context, m auth.Meta) (string, error) {
	if m.PoolID == "" {
		return "", userpool.ErrPoolNotFound
	}
	p, err := a.auth.Pool(ctx, m.PoolID)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// withCustomData adds the user's values to a result, as the end-user
// answers that carry a user show them. It takes the result and error of
// the call it wraps.
func (a *Service) withCustomData(ctx context.Context, res *auth.Result, err error) (*auth.Result, error) {
	if err != nil {
		return nil, err
	}
	res.CustomData, err = a.auth.UserData(ctx, res.User)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// newID returns a random 128-bit identifier in hex, the form of auth's ids.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

func invalid(reason, format string, args ...any) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, reason, format, args...)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ListPools returns every pool, oldest first.
func (a *Service) ListPools(ctx context.Context) ([]*userpool.Pool, error) {
	return a.store.ListPools(ctx)
}

// GetPool returns the pool m addresses with its current settings.
func (a *Service) GetPool(ctx context.Context, m auth.Meta) (*userpool.Pool, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.GetPool(ctx, id)
}

// CreatePool creates a pool with the built-in default settings changed by
// edit (which may be nil); id "" gets a random id.
func (a *Service) CreatePool(ctx context.Context, m auth.Meta, id, name string, edit func(*userpool.PoolSettings) error) (*userpool.Pool, error) {
	if id == "" {
		id = newID()
	}
	if err := checkPoolID(id); err != nil {
		return nil, err
	}
	if err := checkPoolName(name); err != nil {
		return nil, err
	}
	p := &userpool.Pool{ID: id, Name: name, Settings: userpool.DefaultPoolSettings(), CreatedAt: a.now().UTC()}
	if edit != nil {
		if err := edit(&p.Settings); err != nil {
			return nil, err
		}
	}
	if err := ValidateSettings(p.Settings); err != nil {
		return nil, err
	}
	if _, err := a.store.GetPool(ctx, id); err == nil {
		return nil, errPoolExists
	}
	if err := a.store.CreatePool(ctx, p); err != nil {
		// A concurrent create with the same id lost the primary key race.
		if _, gerr := a.store.GetPool(ctx, id); gerr == nil {
			return nil, errPoolExists
		}
		return nil, err
	}
	a.audit(ctx, m, p.ID, "", "admin.pool.create", map[string]string{"name": p.Name})
	return p, nil
}

// UpdatePool changes the name (when name is not nil) and the settings
// (through edit, when not nil) of the pool m addresses. The change is
// stored, so every replica applies it to its next request.
func (a *Service) UpdatePool(ctx context.Context, m auth.Meta, name *string, edit func(*userpool.PoolSettings) error) (*userpool.Pool, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if name != nil {
		if err := checkPoolName(*name); err != nil {
			return nil, err
		}
	}
	var changed []string
	p, err := a.store.UpdatePool(ctx, id, func(p *userpool.Pool) error {
		before := p.Settings
		if name != nil {
			p.Name = *name
		}
		if edit != nil {
			if err := edit(&p.Settings); err != nil {
				return err
			}
		}
		changed = changedSettings(before, p.Settings)
		return ValidateSettings(p.Settings)
	})
	if err != nil {
		return nil, err
	}
	detail := map[string]string{"settings": strings.Join(changed, ",")}
	if name != nil {
		detail["name"] = *name
	}
	a.audit(ctx, m, p.ID, "", "admin.pool.update", detail)
	return p, nil
}

// changedSettings names the settings that differ, for the audit log.
func changedSettings(a, b userpool.PoolSettings) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, SettingName(va.Type().Field(i).Name))
		}
	}
	return out
}

func checkPoolID(id string) error {
	ok := id != "" && len(id) <= 64 && id != "default"
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return invalid("invalid_pool_id", "pool id must be 1 to 64 ASCII letters, digits, _ or -, and not \"default\"")
	}
	return nil
}

func checkPoolName(name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > 128 || !utf8.ValidString(name) || strings.TrimSpace(name) == "" {
		return invalid("invalid_pool_name", "pool name must be 1 to 128 characters")
	}
	return nil
}

// ValidateSettings checks pool settings, reporting every problem in one
// message (code 1003). Every duration and count must be non-negative;
// the fields below have tighter bounds.
func ValidateSettings(s userpool.PoolSettings) error {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		f := v.Field(i)
		if (f.Kind() == reflect.Int || f.Kind() == reflect.Int64) && f.Int() < 0 {
			bad("%s must not be negative", SettingName(v.Type().Field(i).Name))
		}
	}
	if s.TokenTTL < time.Minute || s.TokenTTL > 366*24*time.Hour {
		bad("tokenTTL must be between 1m and 8784h")
	}
	if s.PasswordMinLength < 1 || s.PasswordMinLength > 128 {
		bad("passwordMinLength must be between 1 and 128")
	}
	if s.SMSCodeTTL < time.Second || s.EmailCodeTTL < time.Second {
		bad("smsCodeTTL and emailCodeTTL must be at least 1s")
	}
	if s.CodeMaxAttempts < 1 {
		bad("codeMaxAttempts must be at least 1")
	}
	if s.LoginFailureDetection && (s.LoginFailureThreshold < 1 || s.LoginFailureWindow < time.Second) {
		bad("with loginFailureDetection, loginFailureThreshold must be at least 1 and loginFailureWindow at least 1s")
	}
	if s.LockoutEnabled && (s.LockoutThreshold < 1 || s.LockoutDuration < time.Second) {
		bad("with lockoutEnabled, lockoutThreshold must be at least 1 and lockoutDuration at least 1s")
	}
	switch s.MFAPolicy {
	case userpool.MFAOff, userpool.MFAOptional, userpool.MFARequired:
	default:
		bad("mfaPolicy must be off, optional or required")
	}
	if p := userpool.CheckBranding(s.BrandDisplayName, s.BrandLogoURL, s.BrandPrimaryColor); p != "" {
		bad("%s", p)
	}
	if p := userpool.CheckFrameAncestors(s.FrameAncestors); p != "" {
		bad("%s", p)
	}
	if len(probs) > 0 {
		return invalid("invalid_settings", "invalid settings: %s", strings.Join(probs, "; "))
	}
	return nil
}

// SettingName is the wire name of a PoolSettings field: the Go name with
// its first letter, or a leading initialism, lowered ("TokenTTL" ->
// "tokenTTL", "SMSIPPerHour" -> "smsIPPerHour"). Deriving it keeps the
// admin API in step with the domain: a setting added to PoolSettings is
// readable and writable at once (httpapi's TestSettingNames pins the list).
func SettingName(goName string) string {
	for _, a := range []string{"SMS", "MFA", "OTP", "TOTP", "JWT", "HTTP", "URL", "TTL", "IP", "ID"} {
		rest, ok := strings.CutPrefix(goName, a)
		if ok && (rest == "" || 'A' <= rest[0] && rest[0] <= 'Z') {
			return strings.ToLower(a) + rest
		}
	}
	if goName == "" {
		return ""
	}
	return strings.ToLower(goName[:1]) + goName[1:]
}
