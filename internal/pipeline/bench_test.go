package pipeline

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

const benchScript = `async function pipe(user, context, callback) {
	user.nickname = user.nickname.toLowerCase(); callback(null, user, context) }`

// BenchmarkScriptInWorker is one run as the server makes it: a slot, a
// warm worker process, the job and its answer over pipes.
func BenchmarkScriptInWorker(b *testing.B) {
	r := NewRunner(nil, Config{}, nil, nil)
	p := script(benchScript)
	p.Timeout = 3 * time.Second
	in := input()
	for b.Loop() {
		if tr := r.Try(context.Background(), p, in); tr.Outcome != userpool.PipelineAccepted {
			b.Fatalf("%s %q", tr.Outcome, tr.Message)
		}
	}
}

// BenchmarkScriptInProcess is the same script run in this process (as
// runs were made before workers): the difference is what a worker costs.
func BenchmarkScriptInProcess(b *testing.B) {
	in := input()
	user, _ := json.Marshal(userDoc(in.User, nil))
	ctx, _ := json.Marshal(map[string]any{"params": in.Params})
	j := &job{Script: benchScript, Limit: 3 * time.Second, Left: 3 * time.Second, User: user, Context: ctx}
	for b.Loop() {
		if tr, _ := execScript(j, nil); tr.Outcome != userpool.PipelineAccepted {
			b.Fatalf("%s %q", tr.Outcome, tr.Message)
		}
	}
}

// BenchmarkScriptColdWorker is a run that starts its worker (no idle one
// is kept): the cost when every warm worker is busy.
func BenchmarkScriptColdWorker(b *testing.B) {
	r := NewRunner(nil, Config{}, nil, nil)
	workers.mu.Lock()
	warm := workers.warm
	workers.warm = 0
	workers.mu.Unlock()
	defer func() {
		workers.mu.Lock()
		workers.warm = warm
		workers.mu.Unlock()
	}()
	p := script(benchScript)
	p.Timeout = 3 * time.Second
	for b.Loop() {
		if tr := r.Try(context.Background(), p, input()); tr.Outcome != userpool.PipelineAccepted {
			b.Fatalf("%s %q", tr.Outcome, tr.Message)
		}
	}
}
