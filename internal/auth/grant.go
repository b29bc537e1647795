package auth

import (
	"context"
	"errors"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// GrantedApp is an application the user consented to.
type GrantedApp struct {
	AppID, Name          string
	Scopes               []string
	GrantedAt, UpdatedAt time.Time
}

var errConsentNotFound = userpool.Errorf(userpool.CodeNotFound, "consent_not_found", "you have not granted access to this application")

// ListGrantedApps lists the applications the caller consented to on the
// hosted consent page (the OpenID provider's consents), oldest first.
func (s *Service) ListGrantedApps(ctx context.Context, m Meta, tok string) ([]GrantedApp, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListOIDCConsents(ctx, u.PoolID, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]GrantedApp, 0, len(list))
	for _, c := range list {
		g := GrantedApp{AppID: c.ClientID, Scopes: c.Scopes, GrantedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
		if a, err := s.store.GetApp(ctx, u.PoolID, c.ClientID); err == nil {
			g.Name = a.Name
		} else if !errors.Is(err, userpool.ErrNotFound) {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// RevokeGrantedApp withdraws the caller's consent to an application and
// revokes every token the application holds for the caller (its grants:
// access and refresh tokens), so the next sign-in asks again.
func (s *Service) RevokeGrantedApp(ctx context.Context, m Meta, tok, appID string) error {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	if appID == "" || len(appID) > 64 {
		return errConsentNotFound
	}
	err = s.store.DeleteOIDCConsent(ctx, u.PoolID, u.ID, appID)
	if errors.Is(err, userpool.ErrNotFound) {
		return errConsentNotFound
	}
	if err != nil {
		return err
	}
	if _, err := s.store.RevokeOIDCClientGrants(ctx, u.PoolID, u.ID, appID, s.now().UTC()); err != nil {
		return err
	}
	return s.store.AppendAudit(ctx, s.auditEvent(m, u.PoolID, u.ID, "oidc.consent.revoke", map[string]string{"app": appID}))
}
