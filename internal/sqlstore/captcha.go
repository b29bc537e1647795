package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

const captchaColumns = "id, pool_id, answer_hash, created_at, expires_at"

// CreateCaptcha stores c; on return its times are what a read returns.
func (s *Store) CreateCaptcha(ctx context.Context, c *userpool.Captcha) error {
	c.CreatedAt, c.ExpiresAt = s.d.norm(c.CreatedAt), s.d.norm(c.ExpiresAt)
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO captchas ("+captchaColumns+") VALUES (?, ?, ?, ?, ?)"),
		c.ID, c.PoolID, c.AnswerHash, s.d.timeArg(c.CreatedAt), s.d.timeArg(c.ExpiresAt))
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create captcha: %w", err)
	}
	return nil
}

// TakeCaptcha is one DELETE ... RETURNING: the database hands the row to
// exactly one of several concurrent callers, on every replica, which is
// what makes an answer single-use. An expired row is not returned (and is
// left for PurgeExpired).
func (s *Store) TakeCaptcha(ctx context.Context, poolID, id string, now time.Time) (*userpool.Captcha, error) {
	c := new(userpool.Captcha)
	err := s.write.QueryRowContext(ctx, s.d.q("DELETE FROM captchas WHERE id = ? AND pool_id = ? AND expires_at > ? RETURNING "+captchaColumns),
		id, poolID, s.d.timeArg(s.d.norm(now))).Scan(&c.ID, &c.PoolID, &c.AnswerHash, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take captcha: %w", err)
	}
	return c, nil
}
