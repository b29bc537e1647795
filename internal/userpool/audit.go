package userpool

import "time"

// AuditEvent is one line of a pool's audit log: who did what, from where.
// Detail never holds a password, code or token.
type AuditEvent struct {
	ID        string
	PoolID    string
	UserID    string // "" when no user is known (e.g. login for an unknown account)
	Event     string // e.g. "login.success", "login.failure", "user.register"
	ClientIP  string
	UserAgent string
	Detail    map[string]string
	CreatedAt time.Time
}

// AuditFilter selects audit events of one pool. Zero fields do not filter.
// Events come newest first; Limit defaults to 100 and is capped at 1000.
type AuditFilter struct {
	PoolID string
	UserID string
	Event  string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Limit  int
}
