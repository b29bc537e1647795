package api

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
}

// PipelineResponse is an HTTP pipeline's answer (HTTP 2xx; an empty body
// accepts without changes). Error rejects the request with that message;
// otherwise the profile fields of User that differ from the request's
// user are applied (other fields are read-only).
type PipelineResponse struct {
	User  map[string]any `json:"user,omitempty"`
	Error string         `json:"error,omitempty"`
}
