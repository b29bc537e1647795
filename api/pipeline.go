package api

import "time"

// PipelineRequest is what authpool POSTs to an HTTP pipeline, signed like
// a webhook (the HeaderWebhook* headers), and what a script pipeline gets
// as its arguments: pipe(user, context, callback).
type PipelineRequest struct {
	Stage string `json:"stage"`
	// User is the user the stage is about: the registration input at
	// pre-register (no id yet), the stored user after. It is null at
	// pre-authentication, before the account is known.
	User    *User           `json:"user"`
	Context PipelineContext `json:"context"`
}

// PipelineContext is the context argument of a pipeline.
type PipelineContext struct {
	Stage string `json:"stage"`
	// Params is the client's context option (RegisterOptions.Context,
	// LoginOptions.Context), as sent.
	Params  map[string]any      `json:"params"`
	Request PipelineRequestInfo `json:"request"`
	// Connector is the connector of a social sign-in (its id), "" for
	// every other flow.
	Connector string `json:"connector,omitempty"`
}

// PipelineRequestInfo describes the request being processed.
type PipelineRequestInfo struct {
	IP         string `json:"ip"`
	UserAgent  string `json:"userAgent"`
	UserPoolID string `json:"userPoolId"`
	// Method is the registration or login method (email, username, ...).
	Method string `json:"method"`
	// Identifier is the email, username or phone the request names.
	Identifier string `json:"identifier"`
	// Factors are the factors a login passed when it had a second one
	// (docs/MFA.md): its method, then totp, recovery, sms or email.
	Factors []string `json:"factors,omitempty"`
}

// PipelineResponse is an HTTP pipeline's answer (HTTP 2xx; an empty body
// accepts without changes). Error rejects the request with that message;
// otherwise the profile fields of User that differ from the request's
// user are applied (other fields are read-only).
type PipelineResponse struct {
	User  map[string]any `json:"user,omitempty"`
	Error string         `json:"error,omitempty"`
}

// Pipeline is a pipeline as the administration API shows it. Its signing
// secret (http pipelines) appears only in the answer of the call that set
// or generated it; Env shows the names of the pipeline's env variables,
// never their values.
type Pipeline struct {
	ID    string `json:"id"`
	Stage string `json:"stage"`
	// Order is the pipeline's place within its stage (lower runs first).
	Order   int    `json:"order"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // script or http
	Script  string `json:"script,omitempty"`
	URL     string `json:"url,omitempty"`
	Secret  string `json:"secret,omitempty"`
	Enabled bool   `json:"enabled"`
	// Timeout is Go duration text ("3s"); empty means the server's default.
	Timeout      string    `json:"timeout,omitempty"`
	AllowedHosts []string  `json:"allowedHosts,omitempty"`
	EnvNames     []string  `json:"envNames,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// PipelineList answers GET .../pipelines, in run order (stage, order).
type PipelineList struct {
	Pipelines []Pipeline `json:"pipelines"`
}

// CreatePipelineRequest creates a pipeline. A script pipeline has Script
// (and may have AllowedHosts and Env); an http pipeline has URL and may
// have Secret (generated when empty). Order defaults to after the
// stage's last pipeline, Enabled to true, Timeout to the server's.
type CreatePipelineRequest struct {
	Stage        string            `json:"stage"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Script       string            `json:"script,omitempty"`
	URL          string            `json:"url,omitempty"`
	Secret       string            `json:"secret,omitempty"`
	Order        *int              `json:"order,omitempty"`
	Enabled      *bool             `json:"enabled,omitempty"`
	Timeout      string            `json:"timeout,omitempty"`
	AllowedHosts []string          `json:"allowedHosts,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
}

// UpdatePipelineRequest changes what it names; absent fields stay. Stage
// and kind cannot change. Env sets the variables it names and removes
// those set to null. RotateSecret gives an http pipeline a new generated
// secret (shown in this answer only).
type UpdatePipelineRequest struct {
	Name         *string            `json:"name,omitempty"`
	Script       *string            `json:"script,omitempty"`
	URL          *string            `json:"url,omitempty"`
	Secret       *string            `json:"secret,omitempty"`
	RotateSecret bool               `json:"rotateSecret,omitempty"`
	Order        *int               `json:"order,omitempty"`
	Enabled      *bool              `json:"enabled,omitempty"`
	Timeout      *string            `json:"timeout,omitempty"`
	AllowedHosts *[]string          `json:"allowedHosts,omitempty"`
	Env          map[string]*string `json:"env,omitempty"`
}

// ReorderPipelinesRequest sets the order of a stage's pipelines: IDs
// must name every pipeline of the stage exactly once, first to run first.
type ReorderPipelinesRequest struct {
	Stage string   `json:"stage"`
	IDs   []string `json:"ids"`
}

// TryPipelineRequest is a test run of one pipeline (enabled or not)
// against a sample user: User (with its customData) stands for the user of
// the pipeline's stage (ignored at pre-authentication), Context for the
// request. Nothing is stored and no log is kept.
type TryPipelineRequest struct {
	User    *User               `json:"user,omitempty"`
	Context *TryPipelineContext `json:"context,omitempty"`
}

// TryPipelineContext is the context of a test run: the client's context
// option and the request.
type TryPipelineContext struct {
	Params  map[string]any      `json:"params,omitempty"`
	Request PipelineRequestInfo `json:"request"`
}

// PipelineTrial is the result of a test run: how it ended, the message of
// a rejection or failure, the console output, and the changes it made
// (profile fields by name; user-defined values as JSON, null removes).
type PipelineTrial struct {
	Outcome    string            `json:"outcome"` // accepted, rejected or failed
	Message    string            `json:"message,omitempty"`
	Output     string            `json:"output,omitempty"`
	Changes    map[string]string `json:"changes,omitempty"`
	CustomData map[string]any    `json:"customData,omitempty"`
	DurationMs int64             `json:"durationMs"`
}

// PipelineLog is one run a pipeline's log kept: one that printed
// something or did not accept.
type PipelineLog struct {
	ID         int64     `json:"id"`
	Stage      string    `json:"stage"`
	Outcome    string    `json:"outcome"`
	Message    string    `json:"message,omitempty"`
	Output     string    `json:"output,omitempty"`
	DurationMs int64     `json:"durationMs"`
	CreatedAt  time.Time `json:"createdAt"`
}

// PipelineLogList answers GET .../pipelines/{pipelineId}/logs, newest first.
type PipelineLogList struct {
	Logs []PipelineLog `json:"logs"`
}
