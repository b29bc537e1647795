package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// fromPipeline shows a pipeline; its secret only when showSecret (the
// answer of the call that set it), its env by name only.
func fromPipeline(p *userpool.Pipeline, showSecret bool) api.Pipeline {
	out := api.Pipeline{
		ID: p.ID, Stage: string(p.Stage), Order: p.Order, Name: p.Name, Kind: string(p.Kind),
		Script: p.Script, URL: p.URL, Enabled: p.Enabled, AllowedHosts: p.AllowedHosts,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if showSecret {
		out.Secret = p.Secret
	}
	if p.Timeout > 0 {
		out.Timeout = p.Timeout.String()
	}
	for k := range p.Env {
		out.EnvNames = append(out.EnvNames, k)
	}
	slices.Sort(out.EnvNames)
	return out
}

// parseTimeout reads a pipeline's time limit: Go duration text, "" for
// the server's default.
func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_pipeline", "timeout must be Go duration text such as 3s or 500ms")
	}
	return d, nil
}

func (s *Server) adminListPipelines(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Admin.ListPipelines(r.Context(), s.adminMeta(r), r.URL.Query().Get("stage"))
	if err != nil {
		return err
	}
	out := api.PipelineList{Pipelines: make([]api.Pipeline, len(list))}
	for i, p := range list {
		out.Pipelines[i] = fromPipeline(p, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreatePipeline(w http.ResponseWriter, r *http.Request) error {
	var in api.CreatePipelineRequest
	if err := decodeLimit(w, r, &in, api.MaxPipelineBodyBytes); err != nil {
		return err
	}
	if err := required("stage", in.Stage, "name", in.Name, "kind", in.Kind); err != nil {
		return err
	}
	timeout, err := parseTimeout(in.Timeout)
	if err != nil {
		return err
	}
	enabled := in.Enabled == nil || *in.Enabled
	p, err := s.Admin.CreatePipeline(r.Context(), s.adminMeta(r), userpool.Pipeline{
		Stage: userpool.PipelineStage(in.Stage), Name: in.Name, Kind: userpool.PipelineKind(in.Kind),
		Script: in.Script, URL: in.URL, Secret: in.Secret, Enabled: enabled, Timeout: timeout,
		AllowedHosts: in.AllowedHosts, Env: in.Env,
	}, in.Order)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromPipeline(p, true))
	return nil
}

func (s *Server) adminGetPipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Admin.GetPipeline(r.Context(), s.adminMeta(r), r.PathValue("pipelineId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromPipeline(p, false))
	return nil
}

func (s *Server) adminUpdatePipeline(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdatePipelineRequest
	if err := decodeLimit(w, r, &in, api.MaxPipelineBodyBytes); err != nil {
		return err
	}
	up := admin.PipelineUpdate{
		Name: in.Name, Script: in.Script, URL: in.URL, Secret: in.Secret, RotateSecret: in.RotateSecret,
		Order: in.Order, Enabled: in.Enabled, AllowedHosts: in.AllowedHosts, Env: in.Env,
	}
	if in.Timeout != nil {
		d, err := parseTimeout(*in.Timeout)
		if err != nil {
			return err
		}
		up.Timeout = &d
	}
	p, err := s.Admin.UpdatePipeline(r.Context(), s.adminMeta(r), r.PathValue("pipelineId"), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromPipeline(p, in.Secret != nil || in.RotateSecret))
	return nil
}

func (s *Server) adminDeletePipeline(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeletePipeline(r.Context(), s.adminMeta(r), r.PathValue("pipelineId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminReorderPipelines(w http.ResponseWriter, r *http.Request) error {
	var in api.ReorderPipelinesRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("stage", in.Stage); err != nil {
		return err
	}
	list, err := s.Admin.ReorderPipelines(r.Context(), s.adminMeta(r), in.Stage, in.IDs)
	if err != nil {
		return err
	}
	out := api.PipelineList{Pipelines: make([]api.Pipeline, len(list))}
	for i, p := range list {
		out.Pipelines[i] = fromPipeline(p, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminTryPipeline(w http.ResponseWriter, r *http.Request) error {
	var in api.TryPipelineRequest
	if err := decodeLimit(w, r, &in, api.MaxPipelineBodyBytes); err != nil {
		return err
	}
	var sample admin.PipelineSample
	if in.User != nil {
		u := &userpool.User{
			ID: in.User.ID, Email: in.User.Email, EmailVerified: in.User.EmailVerified,
			Phone: in.User.Phone, PhoneVerified: in.User.PhoneVerified, Profile: userpool.Profile(in.User.Profile),
			LoginsCount: in.User.LoginsCount, LastLogin: in.User.LastLogin, SignedUp: in.User.SignedUp,
			Blocked: in.User.Blocked, CreatedAt: in.User.CreatedAt, UpdatedAt: in.User.UpdatedAt,
		}
		data, err := rawCustomData(in.User.CustomData)
		if err != nil {
			return err
		}
		sample.User, sample.Data = u, data
	}
	if in.Context != nil {
		rq := in.Context.Request
		sample.Params = in.Context.Params
		sample.Request = pipeline.Request{IP: rq.IP, UserAgent: rq.UserAgent, Method: rq.Method, Identifier: rq.Identifier}
	}
	tr, err := s.Admin.TryPipeline(r.Context(), s.adminMeta(r), r.PathValue("pipelineId"), sample)
	if err != nil {
		return err
	}
	out := api.PipelineTrial{
		Outcome: string(tr.Outcome), Message: tr.Message, Output: tr.Output, Changes: tr.Changes,
		DurationMs: tr.Duration.Milliseconds(),
	}
	if len(tr.Data) > 0 {
		out.CustomData = make(map[string]any, len(tr.Data))
		for k, v := range tr.Data {
			out.CustomData[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminPipelineLogs(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r.URL.Query(), "limit")
	if err != nil {
		return err
	}
	logs, err := s.Admin.PipelineLogs(r.Context(), s.adminMeta(r), r.PathValue("pipelineId"), limit)
	if err != nil {
		return err
	}
	out := api.PipelineLogList{Logs: make([]api.PipelineLog, len(logs))}
	for i, l := range logs {
		out.Logs[i] = api.PipelineLog{
			ID: l.ID, Stage: string(l.Stage), Outcome: string(l.Outcome), Message: l.Message, Output: l.Output,
			DurationMs: l.Duration.Milliseconds(), CreatedAt: l.CreatedAt,
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
