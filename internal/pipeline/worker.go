package pipeline

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// Scripts run in worker processes: the server's own binary started again
// with workerEnv set (to the memory limit in bytes). The package's init
// sees it and serves jobs on stdin/stdout instead of running the program,
// so the server binary and every test binary that links this package can
// be a worker. A worker's memory is bounded (runtime memory limit, a
// watchdog, and an address-space limit where the platform has one) and the
// server kills it when a run overruns its time limit; either way all its
// memory goes back to the system with the process. See workers.go for the
// server's side.
const workerEnv = "AUTHPOOL_PIPELINE_WORKER"

// Exit codes of a worker, read by the server.
const (
	exitMemory = 3 // the watchdog saw the heap above the limit
)

// maxFrame bounds one message between the server and a worker: a user of
// maxUserJSON, the output, a helper's answer, with room for JSON escaping.
const maxFrame = 4*maxUserJSON + 1<<20

func init() {
	if v, ok := os.LookupEnv(workerEnv); ok {
		limit, err := strconv.ParseInt(v, 10, 64)
		if err != nil || limit <= 0 {
			fmt.Fprintf(os.Stderr, "%s: bad memory limit %q\n", workerEnv, v)
			os.Exit(2)
		}
		os.Exit(serveWorker(os.Stdin, os.Stdout, limit))
	}
}

// job is one run of one script, sent to a worker.
type job struct {
	Script string            `json:"script"`
	Env    map[string]string `json:"env,omitempty"`
	// HTTP: the pipeline allows hosts, so the script gets http.
	HTTP bool `json:"http,omitempty"`
	// Limit is the pipeline's time limit (for messages); Left the time the
	// run has (the limit less the wait for a slot).
	Limit   time.Duration   `json:"limit"`
	Left    time.Duration   `json:"left"`
	User    json.RawMessage `json:"user"`
	Context json.RawMessage `json:"context"`
	// Check: run only the top level and say whether it defines pipe
	// (Validate).
	Check bool `json:"check,omitempty"`
}

// jobResult is a worker's answer to a job.
type jobResult struct {
	Outcome  userpool.PipelineOutcome `json:"outcome"`
	Message  string                   `json:"message,omitempty"`
	Output   string                   `json:"output,omitempty"`
	Returned json.RawMessage          `json:"returned,omitempty"`
	// Retire: the worker holds more memory than a fresh one should and
	// exits after this answer, so that the memory goes back.
	Retire bool `json:"retire,omitempty"`
	// Memory is what the worker's Go runtime holds from the system after
	// the run, in bytes.
	Memory uint64 `json:"memory"`
}

// helperReply is the server's answer to a script's http helper request.
type helperReply struct {
	Value map[string]any `json:"value,omitempty"`
	Err   string         `json:"err,omitempty"`
}

// frame is one message; exactly one field is set. The server sends Run
// and Reply, the worker HTTP and Done.
type frame struct {
	Run   *job           `json:"run,omitempty"`
	Reply *helperReply   `json:"reply,omitempty"`
	HTTP  *helperRequest `json:"http,omitempty"`
	Done  *jobResult     `json:"done,omitempty"`
}

// writeFrame writes f as a 4-byte length and its JSON.
func writeFrame(w *bufio.Writer, f *frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if len(b) > maxFrame {
		return fmt.Errorf("message of %d bytes is larger than %d", len(b), maxFrame)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Flush()
}

// readFrame reads one frame written by writeFrame.
func readFrame(r *bufio.Reader) (*frame, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("message of %d bytes is larger than %d", size, maxFrame)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	f := new(frame)
	return f, json.Unmarshal(b, f)
}

// retireAbove is the memory a worker may keep between runs; above it, or
// after a failed run, the worker exits after its answer (a fresh one holds
// a few MiB).
const retireAbove = 48 << 20

// serveWorker is a worker's life: jobs in, answers out, until stdin ends.
func serveWorker(in io.Reader, out io.Writer, limit int64) int {
	limitMemory(limit)
	debug.SetMemoryLimit(limit)
	go watchMemory(uint64(limit))
	// One run before the first job, so that the first job's time is not
	// spent loading the engine's code.
	execScript(&job{Script: "function pipe(u, c, cb) { cb(null, u) }", Left: time.Second, User: json.RawMessage("{}"), Context: json.RawMessage("{}")}, nil)
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	for {
		f, err := readFrame(r)
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil || f.Run == nil {
			fmt.Fprintf(os.Stderr, "pipeline worker: bad request: %v\n", err)
			return 2
		}
		fetch := func(req helperRequest) (map[string]any, error) {
			if err := writeFrame(w, &frame{HTTP: &req}); err != nil {
				return nil, fmt.Errorf("http: %v", err)
			}
			f, err := readFrame(r)
			if err != nil || f.Reply == nil {
				fmt.Fprintf(os.Stderr, "pipeline worker: bad reply: %v\n", err)
				os.Exit(2)
			}
			if f.Reply.Err != "" {
				return nil, errors.New(f.Reply.Err)
			}
			return f.Reply.Value, nil
		}
		tr, returned := execScript(f.Run, fetch)
		// The watchdog samples; a run may allocate past the limit and
		// answer between two samples. Its answer does not count then.
		checkMemory(uint64(limit))
		mem := heldMemory()
		// A failed run (a throw, an interrupt at the time limit, a bound)
		// may have been a bomb: the worker retires rather than keep what it
		// touched (the runtime returns freed pages to the system lazily, and
		// the race detector's shadow memory never), so memory is back after
		// the run. Failures are rare; the pool starts a replacement ahead of
		// need.
		retire := mem > retireAbove || tr.Outcome == userpool.PipelineFailed
		res := &jobResult{Outcome: tr.Outcome, Message: tr.Message, Output: tr.Output, Returned: returned, Memory: mem, Retire: retire}
		if err := writeFrame(w, &frame{Done: res}); err != nil {
			fmt.Fprintf(os.Stderr, "pipeline worker: answer: %v\n", err)
			return 2
		}
		if res.Retire {
			return 0
		}
	}
}

// watchMemory ends the worker when its heap passes limit: the runtime's
// memory limit only makes the collector work harder, and a script that
// keeps what it allocates would otherwise grow without bound.
func watchMemory(limit uint64) {
	for range time.Tick(2 * time.Millisecond) {
		checkMemory(limit)
	}
}

// checkMemory ends the worker when its heap is above limit.
func checkMemory(limit uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Uint64() > limit {
		fmt.Fprintf(os.Stderr, "pipeline worker: memory limit of %d bytes exceeded\n", limit)
		os.Exit(exitMemory)
	}
}

// heldMemory is the memory the Go runtime holds from the system.
func heldMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
