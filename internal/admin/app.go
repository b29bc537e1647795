package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

var errAppNotFound = userpool.Errorf(userpool.CodeNotFound, "app_not_found", "no such application in this user pool")

// ErrInvalidClient answers VerifyAppSecret for every failure alike (an
// unknown client, a public client, a wrong secret), so a caller learns
// nothing about which it was. The provider turns it into OAuth's
// invalid_client.
var ErrInvalidClient = userpool.Errorf(userpool.CodeTokenInvalid, "invalid_client", "client authentication failed")

// appSecretPrefix marks client secrets, so that one found in a file or a
// log is recognisable (and secret scanners can look for it).
const appSecretPrefix = "apcs_"

// newAppSecret returns a fresh client secret (256 random bits) and its
// SHA-256, the only form stored.
func newAppSecret() (secret string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = appSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, hashKey(secret)
}

// newClientID returns a client id: 128 random bits in hex, like every
// other id of the server, url-safe and unguessable.
func newClientID() string { return newID() }

// AppUpdate changes an application; nil leaves a part as it is. Type may
// be given only with the app's own type: it never changes.
type AppUpdate struct {
	Name                   *string
	Type                   *userpool.AppType
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	Scopes                 *[]string
	FirstParty             *bool
	AccessTokenTTL         *time.Duration
	IDTokenTTL             *time.Duration
	RefreshTokenTTL        *time.Duration
}

func (a *Service) appAudit(ctx context.Context, m auth.Meta, poolID, event, appID string) *userpool.AuditEvent {
	return &userpool.AuditEvent{
		PoolID: poolID, Event: event, ClientIP: m.ClientIP, UserAgent: truncate(m.UserAgent, 512),
		Detail: withActor(ctx, map[string]string{"appId": appID}), CreatedAt: a.now().UTC(),
	}
}

// ListApps returns the pool's applications, oldest first.
func (a *Service) ListApps(ctx context.Context, m auth.Meta) ([]*userpool.App, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.ListApps(ctx, id)
}

// GetApp returns one application of the pool.
func (a *Service) GetApp(ctx context.Context, m auth.Meta, appID string) (*userpool.App, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	app, err := a.store.GetApp(ctx, id, appID)
	return app, notFound(err, errAppNotFound)
}

// CreateApp validates and stores an application (in.Name, Type, the URI
// lists, Scopes, FirstParty and the lifetimes are read; zero lifetimes and
// nil scopes get the defaults). A web or machine app gets a client
// secret, returned here and never again: only its hash is stored.
func (a *Service) CreateApp(ctx context.Context, m auth.Meta, in userpool.App) (*userpool.App, string, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, "", err
	}
	now := a.now().UTC()
	app := &userpool.App{
		ID: newClientID(), PoolID: id, Name: in.Name, Type: in.Type,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, Scopes: in.Scopes,
		FirstParty: in.FirstParty, AccessTokenTTL: in.AccessTokenTTL, IDTokenTTL: in.IDTokenTTL, RefreshTokenTTL: in.RefreshTokenTTL,
		CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if app.Type.Confidential() {
		secret, app.SecretHash = newAppSecret()
	}
	userpool.NormalizeApp(app)
	if err := userpool.ValidateApp(app); err != nil {
		return nil, "", err
	}
	if err := a.store.CreateApp(ctx, app, a.appAudit(ctx, m, id, "admin.app.create", app.ID)); err != nil {
		return nil, "", err
	}
	return app, secret, nil
}

// UpdateApp applies up and validates the result in one transaction.
func (a *Service) UpdateApp(ctx context.Context, m auth.Meta, appID string, up AppUpdate) (*userpool.App, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	// The event is completed inside fn, before the store writes it.
	ev := a.appAudit(ctx, m, id, "admin.app.update", appID)
	app, err := a.store.UpdateApp(ctx, id, appID, func(app *userpool.App) error {
		var changed []string
		if up.Type != nil && *up.Type != app.Type {
			return invalid("app_type_immutable", "an application's type cannot change (it is %s); create a new application instead", app.Type)
		}
		set := func(name string, ok bool, apply func()) {
			if ok {
				apply()
				changed = append(changed, name)
			}
		}
		set("name", up.Name != nil, func() { app.Name = *up.Name })
		set("redirectUris", up.RedirectURIs != nil, func() { app.RedirectURIs = *up.RedirectURIs })
		set("postLogoutRedirectUris", up.PostLogoutRedirectURIs != nil, func() { app.PostLogoutRedirectURIs = *up.PostLogoutRedirectURIs })
		set("scopes", up.Scopes != nil, func() { app.Scopes = *up.Scopes })
		set("firstParty", up.FirstParty != nil, func() { app.FirstParty = *up.FirstParty })
		set("accessTokenTTL", up.AccessTokenTTL != nil, func() { app.AccessTokenTTL = *up.AccessTokenTTL })
		set("idTokenTTL", up.IDTokenTTL != nil, func() { app.IDTokenTTL = *up.IDTokenTTL })
		set("refreshTokenTTL", up.RefreshTokenTTL != nil, func() { app.RefreshTokenTTL = *up.RefreshTokenTTL })
		ev.Detail["changed"] = strings.Join(changed, ",")
		userpool.NormalizeApp(app)
		app.UpdatedAt = a.now().UTC()
		return userpool.ValidateApp(app)
	}, ev)
	if err != nil {
		return nil, notFound(err, errAppNotFound)
	}
	return app, nil
}

// DeleteApp deletes an application; its client id and secret stop
// working at once.
func (a *Service) DeleteApp(ctx context.Context, m auth.Meta, appID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	return notFound(a.store.DeleteApp(ctx, id, appID, a.appAudit(ctx, m, id, "admin.app.delete", appID)), errAppNotFound)
}

// RotateAppSecret gives a web or machine app a new client secret,
// returned here and never again; the old one stops working the moment
// the new hash is stored.
func (a *Service) RotateAppSecret(ctx context.Context, m auth.Meta, appID string) (*userpool.App, string, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, "", err
	}
	app, err := a.store.GetApp(ctx, id, appID)
	if err != nil {
		return nil, "", notFound(err, errAppNotFound)
	}
	if !app.Type.Confidential() {
		return nil, "", invalid("app_has_no_secret", "a %s app is a public client and has no secret to rotate", app.Type)
	}
	secret, hash := newAppSecret()
	app, err = a.store.SetAppSecret(ctx, id, appID, hash, a.now().UTC(), a.appAudit(ctx, m, id, "admin.app.rotate_secret", appID))
	if err != nil {
		return nil, "", notFound(err, errAppNotFound)
	}
	return app, secret, nil
}

// VerifyAppSecret authenticates a confidential client of the pool: it
// returns the app when secret is its current client secret, compared in
// constant time, and ErrInvalidClient otherwise (unknown client, public
// client, wrong secret alike). poolID is the pool's id as stored.
func (a *Service) VerifyAppSecret(ctx context.Context, poolID, clientID, secret string) (*userpool.App, error) {
	app, err := a.store.GetApp(ctx, poolID, clientID)
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, ErrInvalidClient
	}
	if err != nil {
		return nil, err
	}
	if !app.Type.Confidential() || len(app.SecretHash) == 0 || secret == "" {
		return nil, ErrInvalidClient
	}
	if subtle.ConstantTimeCompare(hashKey(secret), app.SecretHash) != 1 {
		return nil, ErrInvalidClient
	}
	return app, nil
}
