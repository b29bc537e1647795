package admin

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// UserPage returns one page of the pool's users for the console (see
// userpool.UserPage: keyset paging, prefix search, filters).
func (a *Service) UserPage(ctx context.Context, m auth.Meta, q userpool.UserPage) ([]*userpool.User, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	q.PoolID = id
	q.Search = strings.TrimSpace(q.Search)
	if len(q.Search) > 256 || len(q.AfterID) > 256 {
		return nil, invalid("invalid_search", "search must be at most 256 bytes")
	}
	if q.Limit < 0 || q.Limit > 100 {
		return nil, invalid("invalid_paging", "limit must be between 0 (the default, 20) and 100")
	}
	return a.store.ListUserPage(ctx, q)
}

// PoolStats returns the overview figures of the pool over days days.
func (a *Service) PoolStats(ctx context.Context, m auth.Meta, days int) (*userpool.PoolStats, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	return a.store.PoolStats(ctx, id, a.now(), days)
}

// SetUserValue sets a user's value of a defined field, checked against
// its type as the user's own SetUdv is, and reported the same way
// (user.udv_changed); audited under the acting key.
func (a *Service) SetUserValue(ctx context.Context, m auth.Meta, userID, key string, raw json.RawMessage) ([]auth.UDV, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetUser(ctx, id, userID)
	if err != nil {
		return nil, err
	}
	out, err := a.auth.SetUserValue(ctx, m, u, key, raw)
	if err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, u.ID, "admin.user.value_set", map[string]string{"key": key})
	return out, nil
}

// RemoveUserValue removes a user's value of a defined field.
func (a *Service) RemoveUserValue(ctx context.Context, m auth.Meta, userID, key string) ([]auth.UDV, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetUser(ctx, id, userID)
	if err != nil {
		return nil, err
	}
	out, err := a.auth.RemoveUserValue(ctx, m, u, key)
	if err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, u.ID, "admin.user.value_remove", map[string]string{"key": key})
	return out, nil
}
