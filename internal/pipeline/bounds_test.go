package pipeline

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// bombs are scripts that try to take all the memory or all the time.
var bombs = []struct{ name, body string }{
	{"array push", `var a = []; while (true) a.push({n: a.length, s: "xxxxxxxxxxxxxxxx"})`},
	{"string doubling", `var s = "x"; while (true) s = s + s`},
	{"string doubling kept", `var all = [], s = "xy"; while (true) { s = s + s; all.push(s) }`},
	{"huge ArrayBuffer", `var b = new ArrayBuffer(2 * 1024 * 1024 * 1024); callback(null, user)`},
	{"huge typed array filled", `var b = new Float64Array(256 * 1024 * 1024); b.fill(1); callback(null, user)`},
	{"huge repeat", `var s = "ab".repeat(1 << 30); callback(null, user)`},
	// One call that runs for tens of seconds and that goja's interrupt
	// does not stop: the worker is killed.
	{"uninterruptible replace", `"ab".repeat(4e6).replace(/(a|b)+?/g, "c"); callback(null, user)`},
	{"uninterruptible regexp", `/^(a+)+(?=b)/.test("a".repeat(26) + "!"); callback(null, user)`},
}

// TestScriptBounds: a script that exhausts its memory or time fails (1021)
// within its limit and a grace, and the memory it took goes back: the
// server's heap does not grow, and no worker keeps more than a fresh one.
func TestScriptBounds(t *testing.T) {
	r := NewRunner(nil, Config{Memory: 64 << 20, Concurrency: 8, PoolConcurrency: 8}, nil, nil)
	// Warm up (a worker, the test's own allocations) before the baseline.
	fine := script(`function pipe(u, c, cb) { cb(null, u) }`)
	fine.Timeout = 10 * time.Second // a cold worker under the race detector is slow
	if tr := r.Try(context.Background(), fine, input()); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("warm-up run: %s %q", tr.Outcome, tr.Message)
	}
	before := serverHeap()
	const limit = 2 * time.Second
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			p := script("async function pipe(user, context, callback) {\n" + b.body + "\n}")
			p.Timeout = limit
			start := time.Now()
			tr := r.Try(context.Background(), p, input())
			took := time.Since(start)
			if tr.Outcome != userpool.PipelineFailed {
				t.Fatalf("bomb: %s %q", tr.Outcome, tr.Message)
			}
			if !strings.Contains(tr.Message, "memory limit") && !strings.Contains(tr.Message, "time limit") {
				t.Fatalf("bomb failed for another reason: %q", tr.Message)
			}
			// Generous: the bound is limit + overrunGrace, the rest is
			// a slow shared machine and the race detector.
			if took > limit+overrunGrace+10*time.Second {
				t.Fatalf("bomb ran %v against a limit of %v", took, limit)
			}
			t.Logf("%s: %v, %q", b.name, took.Round(time.Millisecond), tr.Message)
		})
	}
	t.Run("8 in parallel", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				p := script("async function pipe(user, context, callback) {\n" + bombs[i%3].body + "\n}")
				p.Timeout = limit
				if tr := r.Try(context.Background(), p, input()); tr.Outcome != userpool.PipelineFailed {
					t.Errorf("bomb %d: %s %q", i, tr.Outcome, tr.Message)
				}
			})
		}
		wg.Wait()
	})
	// The server is still fine, and its memory is back.
	if tr := r.Try(context.Background(), fine, input()); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("run after the bombs: %s %q", tr.Outcome, tr.Message)
	}
	if after := serverHeap(); after > before+32<<20 {
		t.Fatalf("server heap grew from %d to %d MiB", before>>20, after>>20)
	}
	workers.mu.Lock()
	defer workers.mu.Unlock()
	for _, w := range workers.idle {
		if w.held > retireAbove {
			t.Errorf("an idle worker holds %d MiB", w.held>>20)
		}
		if rss := processRSS(w.cmd.Process.Pid); rss > 0 {
			t.Logf("idle worker %d: RSS %d MiB, Go runtime holds %d MiB", w.cmd.Process.Pid, rss>>20, w.held>>20)
		}
	}
}

// serverHeap is this process's live heap after a collection.
func serverHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// processRSS is a process's resident memory (Linux), or 0.
func processRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(f[1], 10, 64)
	return n * uint64(os.Getpagesize())
}

// TestValidateBounded: validating a script runs its top level in a worker,
// so a top level that the interrupt cannot stop is killed (the bound is
// generous: validateTime + overrunGrace is what it takes).
func TestValidateBounded(t *testing.T) {
	p := script(`/^(a+)+(?=b)/.test("a".repeat(27) + "!"); function pipe(u, c, cb) { cb(null, u) }`)
	start := time.Now()
	err := Validate(p)
	if e := userpool.AsError(err); err == nil || e.Code != userpool.CodeInvalidArgument || !strings.Contains(e.Message, "time limit") {
		t.Fatalf("Validate = %v", err)
	}
	if took := time.Since(start); took > validateTime+overrunGrace+4*time.Second {
		t.Fatalf("validation ran %v", took)
	}
}
