package admin

import (
	"context"
	"crypto/subtle"
	"strings"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// Principal is the administrator key a request was made with: the
// administrator key itself (KeyID "", Name "admin") or a named key.
type Principal struct {
	KeyID    string
	Name     string
	ReadOnly bool
}

// Administrator is the principal of the administrator key.
var Administrator = Principal{Name: "admin"}

type principalKey struct{}

// WithPrincipal is ctx carrying p: the audit events of the use cases
// called with it name p's key.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the principal WithPrincipal put in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

var (
	// ErrReadOnly refuses a change to a read-only key (HTTP 403).
	ErrReadOnly = userpool.Errorf(userpool.CodeNoPermission, "admin_key_read_only", "this administrator key is read-only: it may look, not change")
	// errAdministratorOnly: named keys are managed with the
	// administrator key alone, so an operator's key cannot make itself
	// a successor before it is revoked.
	errAdministratorOnly = userpool.Errorf(userpool.CodeNoPermission, "administrator_key_required", "only the administrator key manages named keys")
	errKeyNotFound       = userpool.Errorf(userpool.CodeNotFound, "admin_key_not_found", "no such named key (or it is revoked)")
)

// Authenticate is CheckKey that also says whose key presented is.
func (a *Service) Authenticate(ctx context.Context, m auth.Meta, presented string) (Principal, error) {
	if presented == "" {
		return Principal{}, errAdminKeyRequired
	}
	now := a.now()
	if until, throttled := a.throttle.get(auth.IPKey(m.ClientIP), now); throttled {
		keys, err := a.throttle.keys.get(now, func() ([]acceptedKey, error) { return a.acceptedKeys(ctx) })
		if err != nil {
			return Principal{}, err
		}
		if p, ok := match(presented, keys); ok {
			return p, nil
		}
		return Principal{}, keyThrottled(until.Sub(now))
	}
	keys, err := a.acceptedKeys(ctx)
	if err != nil {
		return Principal{}, err
	}
	if p, ok := match(presented, keys); ok {
		return p, nil
	}
	return Principal{}, a.keyFailure(ctx, m)
}

// acceptedKey is the hash of a key that works and whose it is.
type acceptedKey struct {
	hash []byte
	who  Principal
}

// acceptedKeys are the administrator key's hashes (configured, or stored)
// and the named keys not revoked, read on every call so that a key made
// or revoked on another replica counts at once.
func (a *Service) acceptedKeys(ctx context.Context) ([]acceptedKey, error) {
	hashes, err := a.keyHashes(ctx)
	if err != nil {
		return nil, err
	}
	named, err := a.store.NamedAdminKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]acceptedKey, 0, len(hashes)+len(named))
	for _, h := range hashes {
		out = append(out, acceptedKey{h, Administrator})
	}
	for _, k := range named {
		if k.RevokedAt.IsZero() {
			out = append(out, acceptedKey{k.Hash, Principal{KeyID: k.ID, Name: k.Name, ReadOnly: k.ReadOnly}})
		}
	}
	return out, nil
}

// match compares presented's hash with every accepted hash in constant
// time (all of them, whichever matches).
func match(presented string, keys []acceptedKey) (Principal, bool) {
	h := hashKey(presented)
	var who Principal
	found := false
	for _, k := range keys {
		if subtle.ConstantTimeCompare(h, k.hash) == 1 {
			who, found = k.who, true
		}
	}
	return who, found
}

// CheckWrite refuses a change to a read-only principal in ctx.
func CheckWrite(ctx context.Context) error {
	if p, ok := PrincipalFrom(ctx); ok && p.ReadOnly {
		return ErrReadOnly
	}
	return nil
}

func administratorOnly(ctx context.Context) error {
	if p, ok := PrincipalFrom(ctx); !ok || p.KeyID != "" {
		return errAdministratorOnly
	}
	return nil
}

func checkKeyName(name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 || !utf8.ValidString(name) || strings.TrimSpace(name) != name ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) || name == Administrator.Name {
		return invalid("invalid_key_name", "a key's name must be 1 to 64 characters without control characters or surrounding spaces, and not %q", Administrator.Name)
	}
	return nil
}

// CreateNamedKey makes a key for one operator and returns it: it is shown
// only in this answer, and stored as its SHA-256. Administrator key only.
func (a *Service) CreateNamedKey(ctx context.Context, m auth.Meta, name string, readOnly bool) (string, *userpool.NamedAdminKey, error) {
	if err := administratorOnly(ctx); err != nil {
		return "", nil, err
	}
	if err := checkKeyName(name); err != nil {
		return "", nil, err
	}
	key, hash := newAdminKey()
	k := &userpool.NamedAdminKey{ID: newID(), Name: name, Hash: hash, ReadOnly: readOnly, CreatedAt: a.now().UTC()}
	var recs []userpool.Record
	if ev := a.defaultPoolEvent(ctx, m, "admin.key.create", map[string]string{"name": name, "readOnly": boolText(readOnly)}); ev != nil {
		recs = append(recs, ev)
	}
	if err := a.store.CreateNamedAdminKey(ctx, k, recs...); err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// ListNamedKeys returns the named keys, revoked ones too, oldest first.
func (a *Service) ListNamedKeys(ctx context.Context) ([]*userpool.NamedAdminKey, error) {
	return a.store.NamedAdminKeys(ctx)
}

// RevokeNamedKey stops key id at once on every replica and ends its
// console sessions. Administrator key only.
func (a *Service) RevokeNamedKey(ctx context.Context, m auth.Meta, id string) error {
	if err := administratorOnly(ctx); err != nil {
		return err
	}
	name := ""
	keys, err := a.store.NamedAdminKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == id && k.RevokedAt.IsZero() {
			name = k.Name
		}
	}
	if name == "" {
		return errKeyNotFound
	}
	var recs []userpool.Record
	if ev := a.defaultPoolEvent(ctx, m, "admin.key.revoke", map[string]string{"name": name}); ev != nil {
		recs = append(recs, ev)
	}
	if err := a.store.RevokeNamedAdminKey(ctx, id, a.now().UTC(), recs...); err != nil {
		if err == userpool.ErrNotFound {
			return errKeyNotFound
		}
		return err
	}
	return nil
}

// defaultPoolEvent is an audit event for the default pool's log (keys
// belong to no pool), naming the acting key; nil when there is no
// default pool yet.
func (a *Service) defaultPoolEvent(ctx context.Context, m auth.Meta, event string, detail map[string]string) *userpool.AuditEvent {
	poolID, err := a.poolID(ctx, auth.Meta{PoolID: "default"})
	if err != nil {
		return nil
	}
	return &userpool.AuditEvent{
		PoolID: poolID, Event: event, ClientIP: m.ClientIP, UserAgent: truncate(m.UserAgent, 512),
		Detail: withActor(ctx, detail), CreatedAt: a.now().UTC(),
	}
}

// withActor adds the acting key's name to an audit event's detail, as
// "adminKey": a name no use case's own detail uses ("key" is a field's
// key in admin.field.* and admin.user.value_* events).
func withActor(ctx context.Context, detail map[string]string) map[string]string {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return detail
	}
	out := make(map[string]string, len(detail)+1)
	for k, v := range detail {
		out[k] = v
	}
	out["adminKey"] = p.Name
	return out
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
