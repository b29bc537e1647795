package userpool

import (
	"context"
	"time"
)

// PipelineStage is the point of a flow at which a pipeline runs.
type PipelineStage string

// The stages, in the order a registration with forceLogin meets them
// (pre-authentication runs only for logins).
const (
	StagePreRegister        PipelineStage = "pre-register"
	StagePostRegister       PipelineStage = "post-register"
	StagePreAuthentication  PipelineStage = "pre-authentication"
	StagePostAuthentication PipelineStage = "post-authentication"
)

// Stages lists every stage.
var Stages = []PipelineStage{StagePreRegister, StagePostRegister, StagePreAuthentication, StagePostAuthentication}

// Valid reports whether s is one of Stages.
func (s PipelineStage) Valid() bool {
	for _, v := range Stages {
		if s == v {
			return true
		}
	}
	return false
}

// PipelineKind says how a pipeline runs.
type PipelineKind string

const (
	// PipelineScript runs JavaScript in the server's sandbox.
	PipelineScript PipelineKind = "script"
	// PipelineHTTP posts the stage's input, signed, to a URL.
	PipelineHTTP PipelineKind = "http"
)

// Pipeline is one function of a pool's pipeline: user code that may refuse
// or shape a registration or a login at its stage. Pipelines of a stage
// run in Order (then creation time).
//
// Secret and Env are kept as given, not hashed: the server needs them in
// plain text to sign requests and to hand them to scripts.
type Pipeline struct {
	ID     string
	PoolID string
	Stage  PipelineStage
	Order  int
	Name   string
	Kind   PipelineKind
	// Script is the JavaScript source (kind script).
	Script string
	// URL and Secret are the endpoint and its Standard Webhooks signing
	// secret (kind http).
	URL     string
	Secret  string
	Enabled bool
	// Timeout bounds one run; 0 means the server's default.
	Timeout time.Duration
	// AllowedHosts are the hosts a script's http helper may call; empty
	// means the script has no http helper at all.
	AllowedHosts []string
	// Env is exposed to scripts as the global object env.
	Env       map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PipelineOutcome is how a run of a pipeline ended.
type PipelineOutcome string

const (
	PipelineAccepted PipelineOutcome = "accepted"
	PipelineRejected PipelineOutcome = "rejected"
	// PipelineFailed: the pipeline threw, timed out, was malformed or its
	// endpoint failed; the flow was refused (fail closed).
	PipelineFailed PipelineOutcome = "failed"
)

// PipelineLog is one run of a pipeline worth keeping: what the script
// printed and how the run ended. The store keeps a bounded number per
// pipeline, newest first.
type PipelineLog struct {
	ID         int64 // assigned by the store, increasing
	PoolID     string
	PipelineID string
	Stage      PipelineStage
	Outcome    PipelineOutcome
	// Message is the rejection message or the failure's description.
	Message string
	// Output is the console output of the run, bounded.
	Output    string
	Duration  time.Duration
	CreatedAt time.Time
}

// PipelineStore keeps pipelines and their logs.
type PipelineStore interface {
	// CreatePipeline inserts p, filling ID, CreatedAt and UpdatedAt when
	// empty. A pipeline of an unknown pool gets ErrPoolNotFound.
	CreatePipeline(ctx context.Context, p *Pipeline) error
	// GetPipeline returns the pool's pipeline, or ErrNotFound.
	GetPipeline(ctx context.Context, poolID, id string) (*Pipeline, error)
	// ListPipelines returns the pool's pipelines of stage ("" for every
	// stage), enabled or not, in run order: stage, Order, CreatedAt, ID.
	ListPipelines(ctx context.Context, poolID string, stage PipelineStage) ([]*Pipeline, error)
	// UpdatePipeline reads the pipeline, calls fn and writes it back in one
	// transaction; fn's error aborts the write and is returned as is.
	UpdatePipeline(ctx context.Context, poolID, id string, fn func(*Pipeline) error) (*Pipeline, error)
	// ReorderPipelines sets the Order of the stage's pipelines to their
	// index in ids, in one transaction. ids must name every pipeline of the
	// stage exactly once, else nothing changes and the error is coded 1003.
	ReorderPipelines(ctx context.Context, poolID string, stage PipelineStage, ids []string) error
	// DeletePipeline deletes the pipeline and its logs, or returns ErrNotFound.
	DeletePipeline(ctx context.Context, poolID, id string) error

	// AppendPipelineLog stores l (ID and CreatedAt filled) and deletes the
	// pipeline's older logs beyond the newest keep. A log of an unknown
	// pipeline gets ErrNotFound.
	AppendPipelineLog(ctx context.Context, l *PipelineLog, keep int) error
	// ListPipelineLogs returns the pipeline's newest logs first; limit
	// defaults to 100 and is capped at 1000.
	ListPipelineLogs(ctx context.Context, poolID, pipelineID string, limit int) ([]*PipelineLog, error)
}
