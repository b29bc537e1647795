package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// overrunGrace is how long past its time limit a run may go before its
// worker is killed: the worker's own interrupt stops a script at its next
// instruction, the kill stops one inside a long operation (a huge string
// or array built by one built-in call).
const overrunGrace = 500 * time.Millisecond

// worker is one worker process as the server sees it.
type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	r      *bufio.Reader
	stderr *head
	memory int64         // the memory limit it was started with
	exited chan struct{} // closed once the process has ended
	held   uint64        // memory held after its last run
}

// workerPool keeps idle workers for the runners of the process, so that a
// run does not pay for starting a process. Workers are interchangeable (a
// run starts a fresh JavaScript runtime), so runners share them.
type workerPool struct {
	mu       sync.Mutex
	idle     []*worker
	warm     int  // idle workers kept at most
	starting bool // a prestart is under way
}

// prestart starts a worker in the background when none with the memory
// limit is idle, so that the next run does not wait for a process to
// start (about 100 ms; see docs/BENCHMARKS.md).
func (wp *workerPool) prestart(memory int64) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if wp.starting || wp.warm == 0 || slices.ContainsFunc(wp.idle, func(w *worker) bool { return w.memory == memory }) {
		return
	}
	wp.starting = true
	go func() {
		w, err := wp.start(memory)
		wp.mu.Lock()
		wp.starting = false
		wp.mu.Unlock()
		if err == nil {
			wp.put(w)
		}
	}()
}

var workers = &workerPool{warm: 2}

// keepWarm raises the number of idle workers kept to n.
func (wp *workerPool) keepWarm(n int) {
	wp.mu.Lock()
	wp.warm = max(wp.warm, n)
	wp.mu.Unlock()
}

// get returns an idle worker with the memory limit, or starts one.
func (wp *workerPool) get(memory int64) (*worker, error) {
	wp.mu.Lock()
	for i := len(wp.idle) - 1; i >= 0; i-- {
		w := wp.idle[i]
		if w.memory != memory {
			continue
		}
		wp.idle = append(wp.idle[:i], wp.idle[i+1:]...)
		wp.mu.Unlock()
		select {
		case <-w.exited: // died while idle: start another
			return wp.start(memory)
		default:
			return w, nil
		}
	}
	wp.mu.Unlock()
	return wp.start(memory)
}

// put keeps w for the next run, or ends it when enough are kept.
func (wp *workerPool) put(w *worker) {
	wp.mu.Lock()
	if len(wp.idle) < wp.warm {
		wp.idle = append(wp.idle, w)
		wp.mu.Unlock()
		return
	}
	wp.mu.Unlock()
	w.close()
}

// start starts a worker process: this very binary in worker mode, with an
// environment of its own (the server's is not the scripts' business).
func (wp *workerPool) start(memory int64) (*worker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the server's binary: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{workerEnv + "=" + strconv.FormatInt(memory, 10)}
	isolate(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, stdin: stdin, w: bufio.NewWriterSize(stdin, 64<<10), r: bufio.NewReaderSize(stdout, 64<<10),
		stderr: &head{max: 2 << 10}, memory: memory, exited: make(chan struct{})}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a pipeline worker: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(w.exited)
	}()
	return w, nil
}

// kill ends the worker at once.
func (w *worker) kill() { _ = w.cmd.Process.Kill() }

// close ends an idle worker: it exits when its input ends.
func (w *worker) close() {
	_ = w.stdin.Close()
	go func() {
		select {
		case <-w.exited:
		case <-time.After(5 * time.Second):
			w.kill()
		}
	}()
}

// why says why the worker ended, once it has: the memory bound or a crash.
func (w *worker) why() string {
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		w.kill()
		<-w.exited
	}
	code := w.cmd.ProcessState.ExitCode()
	if code == exitMemory || bytes.Contains(w.stderr.bytes(), []byte("out of memory")) {
		return fmt.Sprintf("the pipeline used more than its memory limit of %d MiB", w.memory>>20)
	}
	return fmt.Sprintf("the pipeline's worker process ended unexpectedly (%s)", w.cmd.ProcessState)
}

// runInWorker runs j in a worker and returns the run's result. The worker
// is killed when the run overruns its time by overrunGrace or ctx ends; a
// worker that ended for any reason fails the run (fail closed).
func (r *Runner) runInWorker(ctx context.Context, j *job, hosts []string) (Trial, []byte) {
	fail := func(format string, args ...any) (Trial, []byte) {
		return Trial{Outcome: userpool.PipelineFailed, Message: fmt.Sprintf(format, args...)}, nil
	}
	var w *worker
	for attempt := 0; ; attempt++ {
		var err error
		if w, err = workers.get(r.cfg.Memory); err != nil {
			r.log.Error("pipeline worker not started", "error", err.Error())
			return fail("the pipeline could not be started")
		}
		if err = writeFrame(w.w, &frame{Run: j}); err == nil {
			break
		}
		w.kill() // an idle worker that had died: try a fresh one, once
		if attempt == 1 {
			r.log.Error("pipeline worker does not take jobs", "error", err.Error())
			return fail("the pipeline could not be started")
		}
	}
	// The script's time starts now: starting a worker (when no warm one
	// is idle) is the server's cost, not the script's.
	deadline := time.Now().Add(j.Left)
	// Whatever becomes of this worker, have another ready for the next run.
	defer workers.prestart(r.cfg.Memory)
	var timedOut, cancelled atomic.Bool
	stopTimer := time.AfterFunc(time.Until(deadline)+overrunGrace, func() { timedOut.Store(true); w.kill() })
	defer stopTimer.Stop()
	stopCtx := context.AfterFunc(ctx, func() { cancelled.Store(true); w.kill() })
	defer stopCtx()
	for {
		f, err := readFrame(w.r)
		if err != nil {
			w.kill()
			switch {
			case timedOut.Load():
				return fail("the pipeline did not finish within its time limit of %v", j.Limit)
			case cancelled.Load():
				return fail("the request ended while the pipeline ran")
			}
			why := w.why()
			r.log.Warn("pipeline worker stopped", "reason", why)
			return fail("%s", why)
		}
		switch {
		case f.HTTP != nil:
			v, err := r.fetch(ctx, hosts, deadline, *f.HTTP)
			reply := &helperReply{Value: v}
			if err != nil {
				reply.Err = err.Error()
			}
			if err := writeFrame(w.w, &frame{Reply: reply}); err != nil {
				reply = &helperReply{Err: "http: the answer is too large"}
				if err := writeFrame(w.w, &frame{Reply: reply}); err != nil {
					w.kill()
					return fail("the pipeline's worker could not be reached")
				}
			}
		case f.Done != nil:
			if !stopTimer.Stop() || !stopCtx() || f.Done.Retire {
				// Killed as it answered, or holding too much memory: the
				// answer stands, the worker goes.
				w.close()
			} else {
				w.held = f.Done.Memory
				workers.put(w)
			}
			d := f.Done
			return Trial{Outcome: d.Outcome, Message: d.Message, Output: d.Output}, []byte(d.Returned)
		default:
			w.kill()
			return fail("the pipeline's worker answered nonsense")
		}
	}
}

// head keeps the first max bytes written to it (a worker's stderr: the
// reason it ended comes first, a fatal error's goroutine dump after).
type head struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (h *head) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *head) bytes() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.buf)
}

// runScript runs p's script in a worker once pool has a slot. The wait for
// the slot counts against the run's time limit; a run that gets none in
// time fails as Busy.
func (r *Runner) runScript(ctx context.Context, p *userpool.Pipeline, pool string, timeout time.Duration, userJSON, ctxJSON []byte) (Trial, []byte) {
	deadline := time.Now().Add(timeout)
	if !r.slots.acquire(ctx, pool, deadline) {
		if ctx.Err() != nil {
			return Trial{Outcome: userpool.PipelineFailed, Message: "the request ended before the pipeline ran"}, nil
		}
		return Trial{Outcome: userpool.PipelineFailed, Busy: true,
			Message: fmt.Sprintf("too many pipelines are running: no slot within the time limit of %v", timeout)}, nil
	}
	defer r.slots.done(pool)
	if left := time.Until(deadline); left < min(100*time.Millisecond, timeout/10) {
		// A slot that came with next to no time left is no slot: the
		// run could not have finished in it.
		return Trial{Outcome: userpool.PipelineFailed, Busy: true,
			Message: fmt.Sprintf("too many pipelines are running: no slot within the time limit of %v", timeout)}, nil
	}
	j := &job{Script: p.Script, Env: p.Env, HTTP: len(p.AllowedHosts) > 0, Limit: timeout, Left: time.Until(deadline), User: userJSON, Context: ctxJSON}
	return r.runInWorker(ctx, j, p.AllowedHosts)
}
