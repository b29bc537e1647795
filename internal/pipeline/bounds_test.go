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
// within its limit, overrunGrace and a margin for a loaded machine, and
// the memory it took goes back: the process that ran it has exited (seen
// from outside, in /proc), no worker process left alive holds more than a
// worker may keep between runs, and the server's own heap (the frames it
// read) does not grow.
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
	// What a worker left alive may hold: what it may keep between runs
	// (retireAbove) beyond what a fresh one holds. A bomb takes more than
	// the 64 MiB limit; a worker that kept it would be above.
	fresh := freshWorkerRSS(t, r.cfg.Memory)
	keepable := fresh + retireAbove
	t.Logf("a fresh worker's RSS: %d MiB; a live worker may hold up to %d MiB", fresh>>20, keepable>>20)
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			p := script("async function pipe(user, context, callback) {\n" + b.body + "\n}")
			p.Timeout = limit
			pid := plantWorker(t, r.cfg.Memory) // the run takes this worker
			start := time.Now()
			tr := r.Try(context.Background(), p, input())
			took := time.Since(start)
			if tr.Outcome != userpool.PipelineFailed {
				t.Fatalf("bomb: %s %q", tr.Outcome, tr.Message)
			}
			if !strings.Contains(tr.Message, "memory limit") && !strings.Contains(tr.Message, "time limit") {
				t.Fatalf("bomb failed for another reason: %q", tr.Message)
			}
			// The bound is limit + overrunGrace; 3 s more is room for a
			// worker to start and die on a loaded 2-core machine (or
			// under the race detector), far less than an overrun.
			if took > limit+overrunGrace+3*time.Second {
				t.Fatalf("bomb ran %v against a limit of %v (+%v grace)", took, limit, overrunGrace)
			}
			// Its worker has exited, or (stopped by its own interrupt)
			// holds no more than any worker may keep.
			if rss := waitReleased(pid, keepable, 3*time.Second); rss > keepable {
				t.Fatalf("the bomb's worker %d is alive and resident with %d MiB (a worker may keep %d MiB)", pid, rss>>20, keepable>>20)
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
	// The server is still fine, and the memory is back.
	if tr := r.Try(context.Background(), fine, input()); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("run after the bombs: %s %q", tr.Outcome, tr.Message)
	}
	for _, pid := range childPids(t) {
		// A worker killed or retiring a moment ago may still be exiting.
		if rss := waitReleased(pid, keepable, 3*time.Second); rss > keepable {
			t.Errorf("worker process %d is resident with %d MiB, more than a worker may keep (%d MiB)", pid, rss>>20, keepable>>20)
		}
	}
	if after := serverHeap(); after > before+32<<20 {
		t.Fatalf("server heap grew from %d to %d MiB", before>>20, after>>20)
	}
}

// plantWorker leaves one fresh idle worker with the memory limit, and no
// other, so that the next run takes it; it returns the worker's pid.
func plantWorker(t *testing.T, memory int64) int {
	t.Helper()
	for {
		workers.mu.Lock()
		if !workers.starting { // a prestart would add a worker of its own
			idle := workers.idle
			workers.idle = nil
			workers.mu.Unlock()
			for _, w := range idle {
				w.close()
			}
			break
		}
		workers.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	w, err := workers.start(memory)
	if err != nil {
		t.Fatal(err)
	}
	workers.mu.Lock()
	workers.idle = append(workers.idle, w)
	workers.mu.Unlock()
	return w.cmd.Process.Pid
}

// freshWorkerRSS is the resident memory of a worker that has run one
// script: what every worker holds.
func freshWorkerRSS(t *testing.T, memory int64) uint64 {
	t.Helper()
	pid := plantWorker(t, memory)
	r := NewRunner(nil, Config{Memory: memory}, nil, nil)
	fine := script(`function pipe(u, c, cb) { cb(null, u) }`)
	fine.Timeout = 10 * time.Second
	if tr := r.Try(context.Background(), fine, input()); tr.Outcome != userpool.PipelineAccepted {
		t.Fatalf("run: %s %q", tr.Outcome, tr.Message)
	}
	rss := processRSS(pid)
	if rss == 0 {
		t.Skip("no /proc/<pid>/status to read a worker's memory from")
	}
	return rss
}

// waitReleased waits up to d for process pid to be gone (or a zombie), or
// resident with at most keepable bytes, and returns its resident memory
// then (0 once gone).
func waitReleased(pid int, keepable uint64, d time.Duration) uint64 {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil || strings.Contains(string(st), "\nState:\tZ") {
			return 0
		}
		if rss := processRSS(pid); rss <= keepable || time.Now().After(end) {
			return rss
		}
	}
}

// childPids lists this process's live child processes (the workers).
func childPids(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) >= 2 && f[0] != "Z" && f[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// serverHeap is this process's live heap after a collection.
func serverHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// processRSS is a process's resident memory (VmRSS in
// /proc/<pid>/status, Linux), or 0.
func processRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
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
