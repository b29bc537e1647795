package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func newPipeline(t *testing.T, s userpool.Store, poolID, id string, stage userpool.PipelineStage, order int) *userpool.Pipeline {
	t.Helper()
	p := &userpool.Pipeline{
		ID: id, PoolID: poolID, Stage: stage, Order: order, Name: "pipeline " + id,
		Kind: userpool.PipelineScript, Script: "async function pipe(user, context, callback) { callback(null, user, context) }",
		Enabled: true, CreatedAt: t0, UpdatedAt: t0,
	}
	checkNoErr(t, "CreatePipeline "+id, s.CreatePipeline(ctx(t), p))
	return p
}

func pipelineIDs(ps []*userpool.Pipeline) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func testPipelines(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	want := &userpool.Pipeline{
		ID: "full", PoolID: p.ID, Stage: userpool.StagePostAuthentication, Order: 3, Name: "Verified email only",
		Kind: userpool.PipelineHTTP, URL: "https://hooks.example.com/pipe", Secret: "whsec_c2VjcmV0",
		Enabled: true, Timeout: 1500 * time.Millisecond,
		AllowedHosts: []string{"api.example.com", "127.0.0.1:8080"},
		Env:          map[string]string{"API_KEY": "k-123", "REGION": "eu"},
		CreatedAt:    t0, UpdatedAt: t0.Add(time.Second),
	}
	got := *want
	checkNoErr(t, "CreatePipeline", s.CreatePipeline(ctx(t), &got))
	read, err := s.GetPipeline(ctx(t), p.ID, "full")
	checkNoErr(t, "GetPipeline", err)
	checkEqual(t, "pipeline round trip", want, read)

	_, err = s.GetPipeline(ctx(t), other.ID, "full")
	checkErr(t, "GetPipeline other pool", err, userpool.ErrNotFound)
	_, err = s.GetPipeline(ctx(t), p.ID, "missing")
	checkErr(t, "GetPipeline missing", err, userpool.ErrNotFound)
	checkErr(t, "CreatePipeline unknown pool", s.CreatePipeline(ctx(t), &userpool.Pipeline{
		PoolID: "nope", Stage: userpool.StagePreRegister, Name: "x", Kind: userpool.PipelineScript, CreatedAt: t0,
	}), userpool.ErrPoolNotFound)

	// Run order: stage, then Order, then creation.
	newPipeline(t, s, p.ID, "b", userpool.StagePreRegister, 2)
	newPipeline(t, s, p.ID, "a", userpool.StagePreRegister, 1)
	newPipeline(t, s, p.ID, "c", userpool.StagePreRegister, 2)
	newPipeline(t, s, other.ID, "o", userpool.StagePreRegister, 0)
	pre, err := s.ListPipelines(ctx(t), p.ID, userpool.StagePreRegister)
	checkNoErr(t, "ListPipelines", err)
	checkEqual(t, "pre-register order", []string{"a", "b", "c"}, pipelineIDs(pre))
	all, err := s.ListPipelines(ctx(t), p.ID, "")
	checkNoErr(t, "ListPipelines all", err)
	checkEqual(t, "all stages", []string{"full", "a", "b", "c"}, pipelineIDs(all))
	none, err := s.ListPipelines(ctx(t), p.ID, userpool.StagePostRegister)
	checkNoErr(t, "ListPipelines empty stage", err)
	if len(none) != 0 {
		t.Errorf("post-register has %d pipelines, want 0", len(none))
	}

	// Update: every field but the key, CAS in one transaction.
	up, err := s.UpdatePipeline(ctx(t), p.ID, "full", func(x *userpool.Pipeline) error {
		x.Enabled = false
		x.Kind, x.Script, x.URL, x.Secret = userpool.PipelineScript, "async function pipe(u, c, cb) { cb(null, u, c) }", "", ""
		x.Env = map[string]string{"ONLY": "one"}
		x.AllowedHosts = nil
		x.Timeout = 0
		x.UpdatedAt = t0.Add(time.Minute)
		return nil
	})
	checkNoErr(t, "UpdatePipeline", err)
	read, err = s.GetPipeline(ctx(t), p.ID, "full")
	checkNoErr(t, "GetPipeline after update", err)
	checkEqual(t, "pipeline after update", up, read)
	if read.Enabled || read.URL != "" || read.Env["ONLY"] != "one" || len(read.Env) != 1 || read.AllowedHosts != nil {
		t.Errorf("update not stored: %+v", read)
	}
	_, err = s.UpdatePipeline(ctx(t), p.ID, "full", func(x *userpool.Pipeline) error {
		x.Enabled = true
		return userpool.ErrNotFound
	})
	checkErr(t, "UpdatePipeline fn error", err, userpool.ErrNotFound)
	if read, _ = s.GetPipeline(ctx(t), p.ID, "full"); read.Enabled {
		t.Error("aborted UpdatePipeline changed the pipeline")
	}
	_, err = s.UpdatePipeline(ctx(t), other.ID, "full", func(*userpool.Pipeline) error { return nil })
	checkErr(t, "UpdatePipeline other pool", err, userpool.ErrNotFound)

	// Reorder needs the stage's exact set.
	checkNoErr(t, "ReorderPipelines", s.ReorderPipelines(ctx(t), p.ID, userpool.StagePreRegister, []string{"c", "a", "b"}))
	pre, _ = s.ListPipelines(ctx(t), p.ID, userpool.StagePreRegister)
	checkEqual(t, "order after reorder", []string{"c", "a", "b"}, pipelineIDs(pre))
	for _, ids := range [][]string{{"c", "a"}, {"c", "a", "b", "b"}, {"c", "a", "full"}, {"c", "a", "o"}, {"c", "a", "b", "x"}} {
		err := s.ReorderPipelines(ctx(t), p.ID, userpool.StagePreRegister, ids)
		if e, ok := err.(*userpool.Error); !ok || e.Code != userpool.CodeInvalidArgument {
			t.Errorf("ReorderPipelines(%v): got %v, want code 1003", ids, err)
		}
	}
	pre, _ = s.ListPipelines(ctx(t), p.ID, userpool.StagePreRegister)
	checkEqual(t, "order after refused reorders", []string{"c", "a", "b"}, pipelineIDs(pre))

	checkNoErr(t, "DeletePipeline", s.DeletePipeline(ctx(t), p.ID, "a"))
	checkErr(t, "DeletePipeline again", s.DeletePipeline(ctx(t), p.ID, "a"), userpool.ErrNotFound)
	checkErr(t, "DeletePipeline other pool", s.DeletePipeline(ctx(t), p.ID, "o"), userpool.ErrNotFound)
	pre, _ = s.ListPipelines(ctx(t), p.ID, userpool.StagePreRegister)
	checkEqual(t, "after delete", []string{"c", "b"}, pipelineIDs(pre))
}

func testPipelineLogs(t *testing.T, s userpool.Store) {
	p := newPool(t, s, "p1")
	other := newPool(t, s, "p2")
	pl := newPipeline(t, s, p.ID, "pl", userpool.StagePostAuthentication, 0)
	newPipeline(t, s, p.ID, "quiet", userpool.StagePostAuthentication, 1)
	const keep = 5
	var last *userpool.PipelineLog
	for i := range 8 {
		l := &userpool.PipelineLog{
			PoolID: p.ID, PipelineID: pl.ID, Stage: pl.Stage, Outcome: userpool.PipelineAccepted,
			Output: fmt.Sprintf("run %d", i), Duration: time.Duration(i) * time.Millisecond, CreatedAt: t0.Add(time.Duration(i) * time.Second),
		}
		if i == 7 {
			l.Outcome, l.Message = userpool.PipelineFailed, "time limit of 3s exceeded"
		}
		checkNoErr(t, "AppendPipelineLog", s.AppendPipelineLog(ctx(t), l, keep))
		if last != nil && l.ID <= last.ID {
			t.Fatalf("log ids not increasing: %d after %d", l.ID, last.ID)
		}
		last = l
	}
	logs, err := s.ListPipelineLogs(ctx(t), p.ID, pl.ID, 0)
	checkNoErr(t, "ListPipelineLogs", err)
	if len(logs) != keep {
		t.Fatalf("%d logs kept, want the newest %d", len(logs), keep)
	}
	checkEqual(t, "newest log", last, logs[0])
	if logs[keep-1].Output != "run 3" {
		t.Errorf("oldest kept log is %q, want run 3", logs[keep-1].Output)
	}
	limited, _ := s.ListPipelineLogs(ctx(t), p.ID, pl.ID, 2)
	if len(limited) != 2 || limited[0].ID != last.ID {
		t.Errorf("limit 2: %d logs", len(limited))
	}
	if quiet, _ := s.ListPipelineLogs(ctx(t), p.ID, "quiet", 0); len(quiet) != 0 {
		t.Errorf("another pipeline has %d logs", len(quiet))
	}
	if wrong, _ := s.ListPipelineLogs(ctx(t), other.ID, pl.ID, 0); len(wrong) != 0 {
		t.Errorf("another pool sees %d logs", len(wrong))
	}
	bad := &userpool.PipelineLog{PoolID: other.ID, PipelineID: pl.ID, Stage: pl.Stage, Outcome: userpool.PipelineAccepted, CreatedAt: t0}
	checkErr(t, "AppendPipelineLog wrong pool", s.AppendPipelineLog(ctx(t), bad, keep), userpool.ErrNotFound)
	bad.PoolID, bad.PipelineID = p.ID, "missing"
	checkErr(t, "AppendPipelineLog unknown pipeline", s.AppendPipelineLog(ctx(t), bad, keep), userpool.ErrNotFound)

	// Deleting the pipeline deletes its logs; a new pipeline with the same
	// id starts empty.
	checkNoErr(t, "DeletePipeline", s.DeletePipeline(ctx(t), p.ID, pl.ID))
	newPipeline(t, s, p.ID, "pl", userpool.StagePostAuthentication, 0)
	if logs, _ := s.ListPipelineLogs(ctx(t), p.ID, pl.ID, 0); len(logs) != 0 {
		t.Errorf("%d logs survived their pipeline", len(logs))
	}
}
