package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

const pipelineColumns = "id, pool_id, stage, position, name, kind, script, url, secret, enabled, timeout_ms, allowed_hosts, env, created_at, updated_at"

func (d dialect) pipelineArgs(p *userpool.Pipeline) ([]any, error) {
	hosts := p.AllowedHosts
	if hosts == nil {
		hosts = []string{}
	}
	env := p.Env
	if env == nil {
		env = map[string]string{}
	}
	h, err := json.Marshal(hosts)
	if err != nil {
		return nil, err
	}
	e, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	return []any{
		p.ID, p.PoolID, string(p.Stage), p.Order, p.Name, string(p.Kind), p.Script, p.URL, p.Secret,
		p.Enabled, p.Timeout.Milliseconds(), string(h), string(e), d.timeArg(p.CreatedAt), d.timeArg(p.UpdatedAt),
	}, nil
}

// pipelineRow scans one pipelines row.
type pipelineRow struct {
	p           userpool.Pipeline
	stage, kind string
	timeoutMS   int64
	hosts, env  string
}

func (r *pipelineRow) dest() []any {
	p := &r.p
	return []any{&p.ID, &p.PoolID, &r.stage, &p.Order, &p.Name, &r.kind, &p.Script, &p.URL, &p.Secret,
		boolDest{&p.Enabled}, &r.timeoutMS, &r.hosts, &r.env, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt}}
}

func (r *pipelineRow) pipeline() (*userpool.Pipeline, error) {
	p := r.p
	p.Stage, p.Kind = userpool.PipelineStage(r.stage), userpool.PipelineKind(r.kind)
	p.Timeout = time.Duration(r.timeoutMS) * time.Millisecond
	if err := json.Unmarshal([]byte(r.hosts), &p.AllowedHosts); err != nil {
		return nil, fmt.Errorf("sqlstore: pipeline %s allowed hosts: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(r.env), &p.Env); err != nil {
		return nil, fmt.Errorf("sqlstore: pipeline %s env: %w", p.ID, err)
	}
	if len(p.AllowedHosts) == 0 {
		p.AllowedHosts = nil
	}
	if len(p.Env) == 0 {
		p.Env = nil
	}
	return &p, nil
}

// normPipeline makes p's times and timeout what the database returns.
func (d dialect) normPipeline(p *userpool.Pipeline) {
	p.CreatedAt, p.UpdatedAt = d.norm(p.CreatedAt), d.norm(p.UpdatedAt)
	p.Timeout = p.Timeout.Truncate(time.Millisecond)
}

// CreatePipeline inserts p; see userpool.PipelineStore.
func (s *Store) CreatePipeline(ctx context.Context, p *userpool.Pipeline) error {
	defer s.localPool(p.PoolID)
	if p.ID == "" {
		p.ID = uuid.NewString()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	s.d.normPipeline(p)
	args, err := s.d.pipelineArgs(p)
	if err != nil {
		return fmt.Errorf("sqlstore: create pipeline: %w", err)
	}
	_, err = s.write.ExecContext(ctx, s.d.q("INSERT INTO pipelines ("+pipelineColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
	if s.d.foreignKeyViolation(err) {
		return userpool.ErrPoolNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create pipeline: %w", err)
	}
	return nil
}

// GetPipeline returns the pool's pipeline, or ErrNotFound.
func (s *Store) GetPipeline(ctx context.Context, poolID, id string) (*userpool.Pipeline, error) {
	return s.getPipeline(ctx, s.read, "", poolID, id)
}

func (s *Store) getPipeline(ctx context.Context, q queryer, lock, poolID, id string) (*userpool.Pipeline, error) {
	var r pipelineRow
	err := q.QueryRowContext(ctx, s.d.q("SELECT "+pipelineColumns+" FROM pipelines WHERE pool_id = ? AND id = ?"+lock), poolID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get pipeline: %w", err)
	}
	return r.pipeline()
}

// ListPipelines returns the pool's pipelines of stage ("" for all) in run
// order.
func (s *Store) ListPipelines(ctx context.Context, poolID string, stage userpool.PipelineStage) ([]*userpool.Pipeline, error) {
	query, args := "SELECT "+pipelineColumns+" FROM pipelines WHERE pool_id = ?", []any{poolID}
	if stage != "" {
		query, args = query+" AND stage = ?", append(args, string(stage))
	}
	rows, err := s.read.QueryContext(ctx, s.d.q(query+" ORDER BY stage, position, created_at, id"), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list pipelines: %w", err)
	}
	defer rows.Close()
	var out []*userpool.Pipeline
	for rows.Next() {
		var r pipelineRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: list pipelines: %w", err)
		}
		p, err := r.pipeline()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list pipelines: %w", err)
	}
	return out, nil
}

// UpdatePipeline reads, calls fn and writes back in one transaction, the
// row locked from read to write. UpdatedAt is set to now unless fn set it.
func (s *Store) UpdatePipeline(ctx context.Context, poolID, id string, fn func(*userpool.Pipeline) error) (*userpool.Pipeline, error) {
	defer s.localPool(poolID)
	var p *userpool.Pipeline
	err := s.inTx(ctx, "update pipeline", func(tx *sql.Tx) error {
		var err error
		if p, err = s.getPipeline(ctx, tx, s.d.forUpdate, poolID, id); err != nil {
			return err
		}
		createdAt, updatedAt := p.CreatedAt, p.UpdatedAt
		if err := fn(p); err != nil {
			return err
		}
		if p.ID != id || p.PoolID != poolID {
			return errors.New("sqlstore: update pipeline: fn changed the pipeline's ID or PoolID")
		}
		p.CreatedAt = createdAt
		if p.UpdatedAt.IsZero() || p.UpdatedAt.Equal(updatedAt) {
			p.UpdatedAt = s.now()
		}
		s.d.normPipeline(p)
		args, err := s.d.pipelineArgs(p)
		if err != nil {
			return fmt.Errorf("sqlstore: update pipeline: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE pipelines SET stage = ?, position = ?, name = ?, kind = ?, script = ?,
			url = ?, secret = ?, enabled = ?, timeout_ms = ?, allowed_hosts = ?, env = ?, updated_at = ?
			WHERE pool_id = ? AND id = ?`), append(args[2:13], args[14], poolID, id)...)
		if err != nil {
			return fmt.Errorf("sqlstore: update pipeline: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

var errReorder = userpool.Errorf(userpool.CodeInvalidArgument, "invalid_order", "the new order must list every pipeline of the stage exactly once")

// ReorderPipelines sets the stage's order to ids in one transaction.
func (s *Store) ReorderPipelines(ctx context.Context, poolID string, stage userpool.PipelineStage, ids []string) error {
	defer s.localPool(poolID)
	return s.inTx(ctx, "reorder pipelines", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q("SELECT id FROM pipelines WHERE pool_id = ? AND stage = ?"+s.d.forUpdate), poolID, string(stage))
		if err != nil {
			return fmt.Errorf("sqlstore: reorder pipelines: %w", err)
		}
		have := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: reorder pipelines: %w", err)
			}
			have[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: reorder pipelines: %w", err)
		}
		if len(ids) != len(have) {
			return errReorder
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if !have[id] || seen[id] {
				return errReorder
			}
			seen[id] = true
		}
		for i, id := range ids {
			if _, err := tx.ExecContext(ctx, s.d.q("UPDATE pipelines SET position = ? WHERE pool_id = ? AND id = ?"), i, poolID, id); err != nil {
				return fmt.Errorf("sqlstore: reorder pipelines: %w", err)
			}
		}
		return nil
	})
}

// DeletePipeline deletes the pipeline and, through the foreign key, its logs.
func (s *Store) DeletePipeline(ctx context.Context, poolID, id string) error {
	defer s.localPool(poolID)
	res, err := s.write.ExecContext(ctx, s.d.q("DELETE FROM pipelines WHERE pool_id = ? AND id = ?"), poolID, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete pipeline: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete pipeline: %w", err)
	} else if n == 0 {
		return userpool.ErrNotFound
	}
	return nil
}

const pipelineLogColumns = "id, pool_id, pipeline_id, stage, outcome, message, output, duration_ms, created_at"

// AppendPipelineLog stores l and trims the pipeline's logs to the newest
// keep, in one transaction, so the table stays bounded per pipeline.
func (s *Store) AppendPipelineLog(ctx context.Context, l *userpool.PipelineLog, keep int) error {
	if keep < 1 {
		return errors.New("sqlstore: append pipeline log: keep must be positive")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	l.CreatedAt = s.d.norm(l.CreatedAt)
	l.Duration = l.Duration.Truncate(time.Millisecond)
	return s.inTx(ctx, "append pipeline log", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM pipelines WHERE pool_id = ? AND id = ?"), l.PoolID, l.PipelineID).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: append pipeline log: %w", err)
		}
		if n == 0 {
			return userpool.ErrNotFound
		}
		err := tx.QueryRowContext(ctx, s.d.q("INSERT INTO pipeline_logs (pool_id, pipeline_id, stage, outcome, message, output, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
			l.PoolID, l.PipelineID, string(l.Stage), string(l.Outcome), l.Message, l.Output, l.Duration.Milliseconds(), s.d.timeArg(l.CreatedAt)).Scan(&l.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: append pipeline log: %w", err)
		}
		// Everything at or below the keep+1-th newest id goes; with fewer
		// rows the subquery is NULL and nothing is deleted.
		_, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM pipeline_logs WHERE pipeline_id = ? AND id <=
			(SELECT id FROM pipeline_logs WHERE pipeline_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`), l.PipelineID, l.PipelineID, keep)
		if err != nil {
			return fmt.Errorf("sqlstore: trim pipeline logs: %w", err)
		}
		return nil
	})
}

// ListPipelineLogs returns the pipeline's newest logs first.
func (s *Store) ListPipelineLogs(ctx context.Context, poolID, pipelineID string, limit int) ([]*userpool.PipelineLog, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+pipelineLogColumns+" FROM pipeline_logs WHERE pool_id = ? AND pipeline_id = ? ORDER BY id DESC LIMIT ?"),
		poolID, pipelineID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list pipeline logs: %w", err)
	}
	defer rows.Close()
	var out []*userpool.PipelineLog
	for rows.Next() {
		l := new(userpool.PipelineLog)
		var stage, outcome string
		var ms int64
		if err := rows.Scan(&l.ID, &l.PoolID, &l.PipelineID, &stage, &outcome, &l.Message, &l.Output, &ms, timeDest{&l.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list pipeline logs: %w", err)
		}
		l.Stage, l.Outcome, l.Duration = userpool.PipelineStage(stage), userpool.PipelineOutcome(outcome), time.Duration(ms)*time.Millisecond
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list pipeline logs: %w", err)
	}
	return out, nil
}
