package admin

import (
	"context"
	"strconv"

	"github.com/authpool/authpool/internal/auth"
)

// UserMFA returns the user's second factors (never their secrets), the
// unused recovery codes and the "MFA required" flag.
func (a *Service) UserMFA(ctx context.Context, m auth.Meta, userID string) (*auth.MFAStatus, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if _, err := a.store.GetUser(ctx, id, userID); err != nil {
		return nil, err
	}
	return a.auth.MFAStatusOf(ctx, id, userID)
}

// SetUserMFARequired requires MFA of the user whatever the pool's policy
// (or stops requiring it): the next login of a user without a factor
// enrols one.
func (a *Service) SetUserMFARequired(ctx context.Context, m auth.Meta, userID string, required bool) (*auth.MFAStatus, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if _, err := a.store.GetUser(ctx, id, userID); err != nil {
		return nil, err
	}
	if err := a.store.SetMFARequired(ctx, id, userID, required); err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, userID, "admin.user.mfa_required", map[string]string{"required": strconv.FormatBool(required)})
	return a.auth.MFAStatusOf(ctx, id, userID)
}

// ResetUserMFA removes every factor and recovery code of the user (lost
// phone) and ends the user's sessions; it says how many of each.
func (a *Service) ResetUserMFA(ctx context.Context, m auth.Meta, userID string) (factors, sessions int, err error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return 0, 0, err
	}
	u, err := a.store.GetUser(ctx, id, userID)
	if err != nil {
		return 0, 0, err
	}
	before, err := a.store.ListMFAFactors(ctx, id, userID)
	if err != nil {
		return 0, 0, err
	}
	if err := a.auth.RemoveFactors(ctx, m, u, "", "admin"); err != nil {
		return 0, 0, err
	}
	n, err := a.store.RevokeUserSessions(ctx, id, userID, a.now().UTC())
	if err != nil {
		return 0, 0, err
	}
	a.audit(ctx, m, id, userID, "admin.user.mfa_reset", map[string]string{
		"factorsRemoved": strconv.Itoa(len(before)), "sessionsRevoked": strconv.Itoa(n),
	})
	return len(before), n, nil
}
