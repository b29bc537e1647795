package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/pipeline"
	"github.com/authpool/authpool/internal/userpool"
)

// pipelineBody bounds a pipeline form: a script of pipeline.MaxScriptBytes
// percent-encoded (3 bytes a byte at worst) with the other fields.
const pipelineBody = 3*pipeline.MaxScriptBytes + 16<<10

// pipelineTemplate is the new pipeline editor's starting script.
const pipelineTemplate = `async function pipe(user, context, callback) {
  callback(null, user, context)
}
`

// stageList is one stage's pipelines in run order.
type stageList struct {
	Stage     userpool.PipelineStage
	Pipelines []pipelineRow
}

// pipelineRow is a pipeline in its stage's list; the first has no up
// button, the last no down button.
type pipelineRow struct {
	*userpool.Pipeline
	First, Last bool
}

// pipelinesData is the pipelines page: each stage's list and the create
// form (kept as typed when it is refused).
type pipelinesData struct {
	Stages              []stageList
	AllStages           []userpool.PipelineStage
	Stage, Name, Script string
}

var pipelineNotices = map[string]bool{"pipeline_deleted": true, "pipeline_moved": true, "pipeline_enabled": true, "pipeline_disabled": true}

func (s *Service) pipelinesPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d pipelinesData, msg string) error {
	list, err := s.d.Admin.ListPipelines(r.Context(), c.meta, "")
	if err != nil {
		return err
	}
	d.AllStages = userpool.Stages
	for _, st := range userpool.Stages {
		sl := stageList{Stage: st}
		for _, x := range list {
			if x.Stage == st {
				sl.Pipelines = append(sl.Pipelines, pipelineRow{Pipeline: x, First: len(sl.Pipelines) == 0})
			}
		}
		if n := len(sl.Pipelines); n > 0 {
			sl.Pipelines[n-1].Last = true
		}
		d.Stages = append(d.Stages, sl)
	}
	pg := Page{Title: "nav.pipelines", Section: "nav.pipelines", Pool: p, Data: d, Error: msg}
	if k := r.URL.Query().Get("done"); pipelineNotices[k] && msg == "" {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, status, "pipelines", pg)
	return nil
}

// pipelines lists the pool's pipelines per stage in run order.
func (s *Service) pipelines(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.pipelinesPage(w, r, c, p, http.StatusOK, pipelinesData{Stage: string(userpool.StagePreRegister), Script: pipelineTemplate}, "")
}

// createPipeline creates a script pipeline, enabled, last in its stage;
// the use case's validation compiles the script (the syntax check), and a
// refusal shows the editor again with the script as typed.
func (s *Service) createPipeline(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := pipelinesData{Stage: f.Get("stage"), Name: f.Get("name"), Script: f.Get("script")}
	np, err := s.d.Admin.CreatePipeline(r.Context(), c.meta, userpool.Pipeline{
		Stage: userpool.PipelineStage(d.Stage), Name: d.Name, Kind: userpool.PipelineScript, Script: d.Script, Enabled: f.Get("enabled") == "1",
	}, nil)
	if err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.pipelinesPage(w, r, c, p, http.StatusBadRequest, d, formError(c.lang, err))
		}
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/pipelines/"+url.PathEscape(np.ID)+"?done=pipeline_created")
	return nil
}

// trySample is the test run form (kept as typed).
type trySample struct {
	Email, Username, Phone string
	EmailVerified          bool
	Method, Identifier, IP string
	Params                 string // a JSON object
}

// pipelineData is one pipeline's page: the editor, the test run and the
// recent log.
type pipelineData struct {
	P      *userpool.Pipeline
	Script string // as typed when a save was refused
	Sample trySample
	Trial  *pipeline.Trial
	Logs   []*userpool.PipelineLog
}

var onePipelineNotices = map[string]bool{"pipeline_created": true, "pipeline_saved": true}

func (s *Service) pipelinePage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d pipelineData, msg string) error {
	var err error
	if d.P == nil {
		if d.P, err = s.d.Admin.GetPipeline(r.Context(), c.meta, r.PathValue("pipelineId")); err != nil {
			return err
		}
	}
	if d.Script == "" {
		d.Script = d.P.Script
	}
	if d.Logs, err = s.d.Admin.PipelineLogs(r.Context(), c.meta, d.P.ID, 20); err != nil {
		return err
	}
	if d.Sample.Method == "" && d.Sample.Params == "" {
		d.Sample = trySample{Email: "sample@example.com", Method: "email", Identifier: "sample@example.com", IP: "203.0.113.7", Params: "{}"}
	}
	pg := Page{Title: "pipelines.pipeline", Section: "nav.pipelines", Pool: p, Data: d, Error: msg}
	if k := r.URL.Query().Get("done"); onePipelineNotices[k] && msg == "" {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, status, "pipeline", pg)
	return nil
}

// pipelinePageGet shows one pipeline.
func (s *Service) pipelinePageGet(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.pipelinePage(w, r, c, p, http.StatusOK, pipelineData{}, "")
}

// savePipeline saves name and script through the admin use case, whose
// validation compiles the script: a syntax error comes back on the page
// with the script as typed, and nothing is changed.
func (s *Service) savePipeline(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	name, script := r.PostForm.Get("name"), r.PostForm.Get("script")
	up := admin.PipelineUpdate{Name: &name}
	if r.PostForm.Has("script") {
		up.Script = &script
	}
	if _, err := s.d.Admin.UpdatePipeline(r.Context(), c.meta, r.PathValue("pipelineId"), up); err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.pipelinePage(w, r, c, p, http.StatusBadRequest, pipelineData{Script: script}, formError(c.lang, err))
		}
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/pipelines/"+url.PathEscape(r.PathValue("pipelineId"))+"?done=pipeline_saved")
	return nil
}

func (s *Service) pipelinesDone(w http.ResponseWriter, r *http.Request, c *call, notice string) {
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/pipelines?done="+notice)
}

// setPipelineEnabled switches a pipeline on or off (no validation: one
// stored before a rule was tightened can always be switched off).
func (s *Service) setPipelineEnabled(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	on := r.PostForm.Get("enabled") == "1"
	if _, err := s.d.Admin.UpdatePipeline(r.Context(), c.meta, r.PathValue("pipelineId"), admin.PipelineUpdate{Enabled: &on}); err != nil {
		return err
	}
	if on {
		s.pipelinesDone(w, r, c, "pipeline_enabled")
	} else {
		s.pipelinesDone(w, r, c, "pipeline_disabled")
	}
	return nil
}

// movePipeline moves a pipeline one place up or down in its stage: the
// stage's whole order is written at once (ReorderPipelines), so two
// moves at once leave an order with every pipeline once.
func (s *Service) movePipeline(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	x, err := s.d.Admin.GetPipeline(r.Context(), c.meta, r.PathValue("pipelineId"))
	if err != nil {
		return err
	}
	list, err := s.d.Admin.ListPipelines(r.Context(), c.meta, string(x.Stage))
	if err != nil {
		return err
	}
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	i := slices.Index(ids, x.ID)
	j := i - 1
	if r.PostForm.Get("dir") == "down" {
		j = i + 1
	}
	if i >= 0 && j >= 0 && j < len(ids) {
		ids[i], ids[j] = ids[j], ids[i]
		if _, err := s.d.Admin.ReorderPipelines(r.Context(), c.meta, string(x.Stage), ids); err != nil {
			return err
		}
	}
	s.pipelinesDone(w, r, c, "pipeline_moved")
	return nil
}

// deletePipeline deletes a pipeline with its log once the box is ticked.
func (s *Service) deletePipeline(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.DeletePipeline(r.Context(), c.meta, r.PathValue("pipelineId")); err != nil {
		return err
	}
	s.pipelinesDone(w, r, c, "pipeline_deleted")
	return nil
}

// tryPipeline runs the pipeline once against the sample user and context
// through the admin API's test-run use case (nothing is recorded) and
// shows the outcome on its page.
func (s *Service) tryPipeline(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	f := r.PostForm
	sm := trySample{Email: f.Get("email"), Username: f.Get("username"), Phone: f.Get("phone"), EmailVerified: f.Get("emailVerified") == "1",
		Method: f.Get("method"), Identifier: f.Get("identifier"), IP: f.Get("ip"), Params: f.Get("params")}
	var params map[string]any
	if strings.TrimSpace(sm.Params) != "" {
		if err := json.Unmarshal([]byte(sm.Params), &params); err != nil {
			return s.pipelinePage(w, r, c, p, http.StatusBadRequest, pipelineData{Sample: sm}, T(c.lang, "pipelines.bad_params"))
		}
	}
	now := s.d.Now().UTC()
	sample := admin.PipelineSample{
		User:    &userpool.User{ID: "sample-user", Email: sm.Email, Profile: userpool.Profile{Username: sm.Username}, Phone: sm.Phone, EmailVerified: sm.EmailVerified, CreatedAt: now, UpdatedAt: now},
		Params:  params,
		Request: pipeline.Request{IP: sm.IP, UserAgent: r.UserAgent(), Method: sm.Method, Identifier: sm.Identifier},
	}
	tr, err := s.d.Admin.TryPipeline(r.Context(), c.meta, r.PathValue("pipelineId"), sample)
	if err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.pipelinePage(w, r, c, p, http.StatusBadRequest, pipelineData{Sample: sm}, formError(c.lang, err))
		}
		return err
	}
	return s.pipelinePage(w, r, c, p, http.StatusOK, pipelineData{Sample: sm, Trial: &tr}, "")
}
