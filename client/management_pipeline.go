package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/authpool/authpool/api"
)

// Types of the pipeline and webhook administration, reachable from this
// package.
type (
	Pipeline              = api.Pipeline
	CreatePipelineRequest = api.CreatePipelineRequest
	UpdatePipelineRequest = api.UpdatePipelineRequest
	TryPipelineRequest    = api.TryPipelineRequest
	TryPipelineContext    = api.TryPipelineContext
	PipelineRequestInfo   = api.PipelineRequestInfo
	PipelineTrial         = api.PipelineTrial
	PipelineLog           = api.PipelineLog
	WebhookSubscription   = api.WebhookSubscription
	CreateWebhookRequest  = api.CreateWebhookRequest
	UpdateWebhookRequest  = api.UpdateWebhookRequest
	Delivery              = api.Delivery
	DeliveryDetail        = api.DeliveryDetail
	DeliveryAttempt       = api.DeliveryAttempt
	WebhookEvent          = api.WebhookEvent
)

// Pipeline stages and kinds.
const (
	StagePreRegister        = "pre-register"
	StagePostRegister       = "post-register"
	StagePreAuthentication  = "pre-authentication"
	StagePostAuthentication = "post-authentication"
	PipelineKindScript      = "script"
	PipelineKindHTTP        = "http"
)

// ListPipelines returns the pool's pipelines of stage ("" for every
// stage) in run order: stage, then order within it.
func (c *ManagementClient) ListPipelines(ctx context.Context, poolID, stage string) ([]Pipeline, error) {
	path := poolPath(poolID, "pipelines")
	if stage != "" {
		path += "?" + url.Values{"stage": {stage}}.Encode()
	}
	var out api.PipelineList
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Pipelines, nil
}

// GetPipeline returns one pipeline (without its secret or env values).
func (c *ManagementClient) GetPipeline(ctx context.Context, poolID, pipelineID string) (*Pipeline, error) {
	var p Pipeline
	if err := c.do(ctx, http.MethodGet, poolPath(poolID, "pipelines", pipelineID), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreatePipeline creates a pipeline; the answer of an http pipeline
// carries its signing secret (generated when in.Secret is empty), the
// only time it is shown.
func (c *ManagementClient) CreatePipeline(ctx context.Context, poolID string, in CreatePipelineRequest) (*Pipeline, error) {
	var p Pipeline
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "pipelines"), in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdatePipeline changes what in names; with in.Secret or
// in.RotateSecret the answer carries the new secret.
func (c *ManagementClient) UpdatePipeline(ctx context.Context, poolID, pipelineID string, in UpdatePipelineRequest) (*Pipeline, error) {
	var p Pipeline
	if err := c.do(ctx, http.MethodPatch, poolPath(poolID, "pipelines", pipelineID), in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// EnablePipeline enables (or, with enabled false, disables) a pipeline.
func (c *ManagementClient) EnablePipeline(ctx context.Context, poolID, pipelineID string, enabled bool) (*Pipeline, error) {
	return c.UpdatePipeline(ctx, poolID, pipelineID, UpdatePipelineRequest{Enabled: &enabled})
}

// ReorderPipelines sets the run order of a stage: ids must name every
// pipeline of the stage once, first to run first. It returns the stage's
// pipelines in their new order.
func (c *ManagementClient) ReorderPipelines(ctx context.Context, poolID, stage string, ids []string) ([]Pipeline, error) {
	var out api.PipelineList
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "pipelines", "reorder"), api.ReorderPipelinesRequest{Stage: stage, IDs: ids}, &out); err != nil {
		return nil, err
	}
	return out.Pipelines, nil
}

// DeletePipeline deletes a pipeline with its log.
func (c *ManagementClient) DeletePipeline(ctx context.Context, poolID, pipelineID string) error {
	return c.do(ctx, http.MethodDelete, poolPath(poolID, "pipelines", pipelineID), nil, nil)
}

// TryPipeline runs a pipeline once (enabled or not) against a sample
// user and request, storing nothing.
func (c *ManagementClient) TryPipeline(ctx context.Context, poolID, pipelineID string, in TryPipelineRequest) (*PipelineTrial, error) {
	var out PipelineTrial
	if err := c.do(ctx, http.MethodPost, poolPath(poolID, "pipelines", pipelineID, "try"), in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PipelineLogs returns the newest runs the pipeline's log kept (limit 0
// means 100, at most 1000).
func (c *ManagementClient) PipelineLogs(ctx context.Context, poolID, pipelineID string, limit int) ([]PipelineLog, error) {
	path := poolPath(poolID, "pipelines", pipelineID, "logs")
	if limit != 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out api.PipelineLogList
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Logs, nil
}
