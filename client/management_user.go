package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
)

// ListUsersOptions page and filter ListUsers.
type ListUsersOptions struct {
	// Search matches a substring of email, username or phone.
	Search string
	Offset int
	// Limit is 20 when 0, at most 100.
	Limit int
}

// AuditQuery filters ListAudit; zero fields do not filter.
type AuditQuery struct {
	UserID string
	Event  string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	// Limit is 100 when 0, at most 1000.
	Limit int
}

// ListUsers returns one page of a pool's users, newest first.
func (c *ManagementClient) ListUsers(ctx context.Context, poolID string, opts ListUsersOptions) (*UserList, error) {
	q := url.Values{}
	if opts.Search != "" {
		q.Set("search", opts.Search)
	}
	if opts.Offset != 0 {
		q.Set("offset", strconv.Itoa(opts.Offset))
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	path := poolPath(poolID, "users")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out UserList
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	for i := range out.Users {
		if err := decodeCustomData(&out.Users[i]); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

func (c *ManagementClient) userCall(ctx context.Context, method, path string, in any) (*User, error) {
	var u User
	if err := c.do(ctx, method, path, in, &u); err != nil {
		return nil, err
	}
	if err := decodeCustomData(&u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser returns a user with their user-defined data.
func (c *ManagementClient) GetUser(ctx context.Context, poolID, userID string) (*User, error) {
	return c.userCall(ctx, http.MethodGet, poolPath(poolID, "users", userID), nil)
}

// CreateUser creates a user whatever registration methods the pool has
// open; the pool's password policy applies.
func (c *ManagementClient) CreateUser(ctx context.Context, poolID string, in CreateUserRequest) (*User, error) {
	return c.userCall(ctx, http.MethodPost, poolPath(poolID, "users"), in)
}

// UpdateUser sets a user's verified flags.
func (c *ManagementClient) UpdateUser(ctx context.Context, poolID, userID string, in UpdateUserRequest) (*User, error) {
	return c.userCall(ctx, http.MethodPatch, poolPath(poolID, "users", userID), in)
}

// BlockUser blocks a user: their sessions end at once and they cannot log
// in (code 2057) until unblocked.
func (c *ManagementClient) BlockUser(ctx context.Context, poolID, userID string) (*BlockedUser, error) {
	var out BlockedUser
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "users", userID, "block"), nil, &out); err != nil {
		return nil, err
	}
	if err := decodeCustomData(&out.User); err != nil {
		return nil, err
	}
	return &out, nil
}

// UnblockUser lets a blocked user log in again.
func (c *ManagementClient) UnblockUser(ctx context.Context, poolID, userID string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, poolPath(poolID, "users", userID, "unblock"), nil)
}

// DeleteUser deletes a user with their sessions and user-defined data.
func (c *ManagementClient) DeleteUser(ctx context.Context, poolID, userID string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "users", userID), nil, nil)
}

// ListUserSessions returns a user's alive sessions, newest first.
func (c *ManagementClient) ListUserSessions(ctx context.Context, poolID, userID string) ([]Session, error) {
	var out api.SessionList
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "users", userID, "sessions"), nil, &out); err != nil {
		return nil, err
	}
	return out.Sessions, nil
}

// RevokeSession ends one session of a user; its tokens stop working.
func (c *ManagementClient) RevokeSession(ctx context.Context, poolID, userID, sessionID string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "users", userID, "sessions", sessionID), nil, nil)
}

// RevokeUserSessions ends every session of a user and says how many.
func (c *ManagementClient) RevokeUserSessions(ctx context.Context, poolID, userID string) (int, error) {
	var out api.RevokedSessions
	if err := c.do(ctx, http.MethodDelete, poolPath(poolID, "users", userID, "sessions"), nil, &out); err != nil {
		return 0, err
	}
	return out.Revoked, nil
}

// ListAudit returns a pool's audit events matching q, newest first.
func (c *ManagementClient) ListAudit(ctx context.Context, poolID string, q AuditQuery) ([]AuditEvent, error) {
	v := url.Values{}
	if q.UserID != "" {
		v.Set("userId", q.UserID)
	}
	if q.Event != "" {
		v.Set("event", q.Event)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := poolPath(poolID, "audit")
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out api.AuditList
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}
