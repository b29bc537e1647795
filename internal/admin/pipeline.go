package admin

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

var errPipelineNotFound = userpool.Errorf(userpool.CodeNotFound, "pipeline_not_found", "no such pipeline in this user pool")

// pipelineError names the pipeline in the store's not-found sentinel.
func pipelineError(err error) error {
	if errors.Is(err, userpool.ErrNotFound) {
		return errPipelineNotFound
	}
	return err
}

// PipelineUpdate changes a pipeline; nil leaves a part as it is. Env sets
// the variables it names and removes those mapped to nil (values cannot
// be read back, so the map is a patch, not a replacement). RotateSecret
// gives an http pipeline a new generated secret.
type PipelineUpdate struct {
	Name, Script, URL, Secret *string
	RotateSecret              bool
	Order                     *int
	Enabled                   *bool
	Timeout                   *time.Duration
	AllowedHosts              *[]string
	Env                       map[string]*string
}

// ListPipelines returns the pool's pipelines of stage ("" for all), in
// run order: the stages in the order a registration with forceLogin meets
// them (userpool.Stages), each in its own order.
func (a *Service) ListPipelines(ctx context.Context, m auth.Meta, stage string) ([]*userpool.Pipeline, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if stage != "" && !userpool.PipelineStage(stage).Valid() {
		return nil, errInvalidStage
	}
	list, err := a.store.ListPipelines(ctx, id, userpool.PipelineStage(stage))
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(list, func(x, y *userpool.Pipeline) int {
		return slices.Index(userpool.Stages, x.Stage) - slices.Index(userpool.Stages, y.Stage)
	})
	return list, nil
}

var errInvalidStage = invalid("invalid_pipeline", "stage must be one of pre-register, post-register, pre-authentication, post-authentication")

// GetPipeline returns one pipeline of the pool.
func (a *Service) GetPipeline(ctx context.Context, m auth.Meta, pipelineID string) (*userpool.Pipeline, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	p, err := a.store.GetPipeline(ctx, id, pipelineID)
	return p, pipelineError(err)
}

// CreatePipeline validates p (pipeline.Validate) and stores it in the pool.
// An http pipeline without a secret gets a generated one; order nil puts
// the pipeline after the stage's last one.
func (a *Service) CreatePipeline(ctx context.Context, m auth.Meta, p userpool.Pipeline, order *int) (*userpool.Pipeline, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	if !p.Stage.Valid() {
		return nil, errInvalidStage
	}
	if p.Kind == userpool.PipelineHTTP && p.Secret == "" {
		p.Secret = pipeline.NewSecret()
	}
	if order != nil {
		p.Order = *order
	} else {
		// Concurrent creations may share a place; they then run in
		// creation order, which is what "after the last one" means anyway.
		existing, err := a.store.ListPipelines(ctx, id, p.Stage)
		if err != nil {
			return nil, err
		}
		for _, x := range existing {
			p.Order = max(p.Order, x.Order+1)
		}
	}
	now := a.now().UTC()
	p.ID, p.PoolID, p.CreatedAt, p.UpdatedAt = newID(), id, now, now
	if err := pipeline.Validate(&p); err != nil {
		return nil, err
	}
	if err := a.store.CreatePipeline(ctx, &p); err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, "", "admin.pipeline.create", map[string]string{"pipelineId": p.ID, "stage": string(p.Stage), "kind": string(p.Kind)})
	return &p, nil
}

// UpdatePipeline applies up and validates the result in one store
// transaction; stage and kind never change. Disabling or moving a
// pipeline needs no validation, so that one stored before a rule was
// tightened (or written to the store directly) can always be switched
// off. The audit event names the parts changed, never their values
// (scripts and env hold secrets).
func (a *Service) UpdatePipeline(ctx context.Context, m auth.Meta, pipelineID string, up PipelineUpdate) (*userpool.Pipeline, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	var changed []string
	set := func(name string, ok bool) {
		if ok {
			changed = append(changed, name)
		}
	}
	set("name", up.Name != nil)
	set("script", up.Script != nil)
	set("url", up.URL != nil)
	set("secret", up.Secret != nil || up.RotateSecret)
	set("order", up.Order != nil)
	set("enabled", up.Enabled != nil)
	set("timeout", up.Timeout != nil)
	set("allowedHosts", up.AllowedHosts != nil)
	set("env", up.Env != nil)
	p, err := a.store.UpdatePipeline(ctx, id, pipelineID, func(p *userpool.Pipeline) error {
		if up.Name != nil {
			p.Name = *up.Name
		}
		if up.Script != nil {
			p.Script = *up.Script
		}
		if up.URL != nil {
			p.URL = *up.URL
		}
		if up.Secret != nil && up.RotateSecret {
			return invalid("invalid_pipeline", "give secret or rotateSecret, not both")
		}
		if up.Secret != nil {
			p.Secret = *up.Secret
		}
		if up.RotateSecret {
			if p.Kind != userpool.PipelineHTTP {
				return invalid("invalid_pipeline", "only an http pipeline has a secret to rotate")
			}
			p.Secret = pipeline.NewSecret()
		}
		if up.Order != nil {
			if *up.Order < 0 {
				return invalid("invalid_pipeline", "order must not be negative")
			}
			p.Order = *up.Order
		}
		if up.Enabled != nil {
			p.Enabled = *up.Enabled
		}
		if up.Timeout != nil {
			p.Timeout = *up.Timeout
		}
		if up.AllowedHosts != nil {
			p.AllowedHosts = slices.Clone(*up.AllowedHosts)
		}
		if up.Env != nil {
			env := maps.Clone(p.Env)
			if env == nil {
				env = map[string]string{}
			}
			for k, v := range up.Env {
				if v == nil {
					delete(env, k)
				} else {
					env[k] = *v
				}
			}
			p.Env = env
		}
		p.UpdatedAt = a.now().UTC()
		if slices.ContainsFunc(changed, func(c string) bool { return c != "order" && c != "enabled" }) || p.Enabled && up.Enabled != nil {
			return pipeline.Validate(p)
		}
		return nil
	})
	if err != nil {
		return nil, pipelineError(err)
	}
	detail := map[string]string{"pipelineId": p.ID}
	for _, c := range changed {
		detail[c] = "changed"
	}
	a.audit(ctx, m, id, "", "admin.pipeline.update", detail)
	return p, nil
}

// ReorderPipelines sets the order of the stage's pipelines to ids (every
// pipeline of the stage, once) and returns the stage in its new order.
func (a *Service) ReorderPipelines(ctx context.Context, m auth.Meta, stage string, ids []string) ([]*userpool.Pipeline, error) {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	st := userpool.PipelineStage(stage)
	if !st.Valid() {
		return nil, errInvalidStage
	}
	if err := a.store.ReorderPipelines(ctx, id, st, ids); err != nil {
		return nil, err
	}
	a.audit(ctx, m, id, "", "admin.pipeline.reorder", map[string]string{"stage": stage, "pipelines": strconv.Itoa(len(ids))})
	return a.store.ListPipelines(ctx, id, st)
}

// DeletePipeline deletes a pipeline with its log.
func (a *Service) DeletePipeline(ctx context.Context, m auth.Meta, pipelineID string) error {
	id, err := a.poolID(ctx, m)
	if err != nil {
		return err
	}
	if err := a.store.DeletePipeline(ctx, id, pipelineID); err != nil {
		return pipelineError(err)
	}
	a.audit(ctx, m, id, "", "admin.pipeline.delete", map[string]string{"pipelineId": pipelineID})
	return nil
}

// PipelineLogs returns the newest runs the pipeline's log kept (limit 0
// means 100, at most 1000).
func (a *Service) PipelineLogs(ctx context.Context, m auth.Meta, pipelineID string, limit int) ([]*userpool.PipelineLog, error) {
	p, err := a.GetPipeline(ctx, m, pipelineID)
	if err != nil {
		return nil, err
	}
	if limit < 0 || limit > 1000 {
		return nil, invalid("invalid_paging", "limit must be between 0 (the default, 100) and 1000")
	}
	return a.store.ListPipelineLogs(ctx, p.PoolID, p.ID, limit)
}

// PipelineSample is the input of a test run: a user (nil: an empty one)
// with user-defined values, the client's context option and the request.
type PipelineSample struct {
	User    *userpool.User
	Data    map[string]json.RawMessage
	Params  map[string]any
	Request pipeline.Request
}

// TryPipeline runs one pipeline of the pool, enabled or not, once against
// the sample, with the very checks of a real run of its stage (the user is
// not shown at pre-authentication), and records nothing: no pipeline log,
// no audit event, no change.
func (a *Service) TryPipeline(ctx context.Context, m auth.Meta, pipelineID string, sample PipelineSample) (pipeline.Trial, error) {
	p, err := a.GetPipeline(ctx, m, pipelineID)
	if err != nil {
		return pipeline.Trial{}, err
	}
	return a.auth.TryPipeline(ctx, p, sample.User, sample.Data, sample.Request, sample.Params)
}
