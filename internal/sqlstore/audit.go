package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

const auditColumns = "id, pool_id, user_id, event, client_ip, user_agent, detail, created_at"

// AppendAudit inserts one audit event.
func (s *Store) AppendAudit(ctx context.Context, e *userpool.AuditEvent) error {
	return s.insertAudit(ctx, s.write, e)
}

// insertAudit inserts e through q: the writer, or the transaction of the
// change e records.
func (s *Store) insertAudit(ctx context.Context, q queryer, e *userpool.AuditEvent) error {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	e.CreatedAt = s.d.norm(e.CreatedAt)
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("sqlstore: append audit: %w", err)
	}
	if e.Detail == nil {
		detail = []byte("{}")
	}
	_, err = q.ExecContext(ctx, s.d.q("INSERT INTO audit_events ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		e.ID, e.PoolID, e.UserID, e.Event, e.ClientIP, e.UserAgent, string(detail), s.d.timeArg(e.CreatedAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: append audit: %w", err)
	}
	return nil
}

// PurgeAudit deletes events older than before (audit retention).
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM audit_events WHERE created_at < ?"), s.d.timeArg(s.d.norm(before)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge audit: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge audit: %w", err)
	}
	return n, nil
}

// ListAudit returns a pool's events matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f userpool.AuditFilter) ([]*userpool.AuditEvent, error) {
	where := []string{"pool_id = ?"}
	args := []any{f.PoolID}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Event != "" {
		where, args = append(where, "event = ?"), append(args, f.Event)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, s.d.timeArg(s.d.norm(f.Since)))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, s.d.timeArg(s.d.norm(f.Until)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+auditColumns+" FROM audit_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY created_at DESC, id DESC LIMIT ?"), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	defer rows.Close()
	var out []*userpool.AuditEvent
	for rows.Next() {
		e := new(userpool.AuditEvent)
		var detail string
		if err := rows.Scan(&e.ID, &e.PoolID, &e.UserID, &e.Event, &e.ClientIP, &e.UserAgent, &detail, timeDest{&e.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list audit: %w", err)
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlstore: list audit: detail: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	return out, nil
}
