package pipeline

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/authpool/authpool/internal/userpool"
)

// maxCallDepth bounds recursion, which would otherwise grow the VM's stack
// until the time limit.
const maxCallDepth = 256

// maxPrograms bounds the cache of compiled scripts.
const maxPrograms = 256

type compiled struct {
	prg *goja.Program
	err error
}

// errTimeout is the interrupt value of a run that hit its time limit.
var errTimeout = errors.New("time limit exceeded")

// programs caches compiled scripts in a worker process.
var programs = struct {
	sync.Mutex
	m map[string]*compiled // by script source hash
}{m: map[string]*compiled{}}

// program compiles src once; compiled programs are immutable and shared by
// every runtime of the worker that runs them.
func program(src string) (*goja.Program, error) {
	sum := sha256.Sum256([]byte(src))
	key := string(sum[:])
	programs.Lock()
	c, ok := programs.m[key]
	programs.Unlock()
	if ok {
		return c.prg, c.err
	}
	prg, err := goja.Compile("pipeline.js", src, false)
	if err != nil {
		err = fmt.Errorf("the script does not compile: %s", firstLine(err.Error()))
	}
	programs.Lock()
	if len(programs.m) >= maxPrograms {
		clear(programs.m) // scripts change rarely: refilling is cheap
	}
	programs.m[key] = &compiled{prg: prg, err: err}
	programs.Unlock()
	return prg, err
}

// run state shared by the script's callbacks; only the VM goroutine
// touches it.
type scriptRun struct {
	vm      *goja.Runtime
	out     strings.Builder
	lines   int
	dropped bool
	called  bool
	// rejected: callback was given an error, whatever became of reading
	// it; message is that error's text ("" when it could not be read).
	rejected bool
	message  string
	returned []byte
	bad      string // the callback's arguments were unusable
}

// execScript runs a job's script against its user and context (JSON), in
// a worker process (worker.go). The script runs in a fresh runtime with
// only the ECMAScript built-ins, env, console and, if the pipeline allows
// hosts, http (whose requests fetch makes, in the server). A timer
// interrupts it at the job's time limit; the server kills the worker if
// that is not enough (an operation the interrupt cannot stop).
func execScript(j *job, fetch fetcher) (tr Trial, returned []byte) {
	fail := func(format string, args ...any) (Trial, []byte) {
		return Trial{Outcome: userpool.PipelineFailed, Message: fmt.Sprintf(format, args...)}, nil
	}
	if len(j.Script) > MaxScriptBytes {
		return fail("the script is larger than %d bytes", MaxScriptBytes)
	}
	prg, err := program(j.Script)
	if err != nil {
		return fail("%s", err)
	}
	timeout := j.Limit // what is shown: the pipeline's own limit
	run := &scriptRun{vm: goja.New()}
	vm := run.vm
	vm.SetMaxCallStackSize(maxCallDepth)
	stopTimer := time.AfterFunc(j.Left, func() { vm.Interrupt(errTimeout) })
	defer stopTimer.Stop()
	// A bug in the engine or in our callbacks must cost one request, never
	// the worker's other runs.
	defer func() {
		if x := recover(); x != nil {
			tr, returned = Trial{Outcome: userpool.PipelineFailed, Message: fmt.Sprintf("the pipeline engine failed: %v", x), Output: run.output()}, nil
		}
	}()

	if err := setGlobals(run, j, fetch); err != nil {
		return fail("set up the sandbox: %v", err)
	}
	if _, err := vm.RunProgram(prg); err != nil {
		if j.Check {
			return fail("script's top level fails: %s", firstLine(err.Error()))
		}
		t, _ := scriptError(run, err, timeout)
		return t, nil
	}
	pipe, ok := goja.AssertFunction(vm.Get("pipe"))
	switch {
	case !ok && j.Check:
		return fail("script must define function pipe(user, context, callback)")
	case !ok:
		return Trial{Outcome: userpool.PipelineFailed, Message: "the script does not define function pipe(user, context, callback)", Output: run.output()}, nil
	case j.Check:
		return Trial{Outcome: userpool.PipelineAccepted}, nil
	}
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	user, err := parse(goja.Undefined(), vm.ToValue(string(j.User)))
	if err != nil {
		return fail("decode user: %v", err)
	}
	pctx, err := parse(goja.Undefined(), vm.ToValue(string(j.Context)))
	if err != nil {
		return fail("decode context: %v", err)
	}
	ret, err := pipe(goja.Undefined(), user, pctx, vm.ToValue(run.callback))
	// The job queue (promise continuations, so the rest of an async pipe)
	// has run by now: goja drains it when the outermost call returns.
	if !run.called {
		if err != nil {
			t, _ := scriptError(run, err, timeout)
			return t, nil
		}
		if pr := promise(ret); pr != nil {
			switch pr.State() {
			case goja.PromiseStateRejected:
				return Trial{Outcome: userpool.PipelineFailed, Message: "the pipeline threw: " + run.valueMessage(pr.Result()), Output: run.output()}, nil
			case goja.PromiseStatePending:
				return Trial{Outcome: userpool.PipelineFailed, Message: "the pipeline is still waiting for something that never happens and did not call callback", Output: run.output()}, nil
			}
		}
		return Trial{Outcome: userpool.PipelineFailed, Message: "the pipeline returned without calling callback", Output: run.output()}, nil
	}
	// callback decided, then the script went on and failed: the decision
	// stands; the failure is kept in the output.
	if err != nil {
		run.print("after callback: " + firstLine(err.Error()))
	} else if pr := promise(ret); pr != nil && pr.State() == goja.PromiseStateRejected {
		run.print("after callback: " + run.valueMessage(pr.Result()))
	}
	switch {
	case run.bad != "":
		return Trial{Outcome: userpool.PipelineFailed, Message: run.bad, Output: run.output()}, nil
	case run.rejected:
		msg := run.message
		if msg == "" {
			msg = genericRefusal
		}
		return Trial{Outcome: userpool.PipelineRejected, Message: msg, Output: run.output()}, nil
	}
	return Trial{Outcome: userpool.PipelineAccepted, Output: run.output()}, run.returned
}

// scriptError describes an error a script raised.
func scriptError(run *scriptRun, err error, timeout time.Duration) (Trial, []byte) {
	var (
		ie  *goja.InterruptedError
		so  *goja.StackOverflowError
		ex  *goja.Exception
		msg string
	)
	switch {
	case errors.As(err, &ie):
		if ie.Value() == errTimeout {
			msg = fmt.Sprintf("the pipeline did not finish within its time limit of %v", timeout)
		} else {
			msg = "the request ended while the pipeline ran"
		}
	case errors.As(err, &so):
		msg = fmt.Sprintf("the pipeline recursed deeper than %d calls", maxCallDepth)
	case errors.As(err, &ex):
		msg = "the pipeline threw: " + run.valueMessage(ex.Value())
	default:
		msg = "the pipeline failed: " + firstLine(err.Error())
	}
	return Trial{Outcome: userpool.PipelineFailed, Message: msg, Output: run.output()}, nil
}

// callback is the script's callback(err, user, context). The first call
// decides; later calls are ignored.
func (run *scriptRun) callback(call goja.FunctionCall) goja.Value {
	if run.called {
		return goja.Undefined()
	}
	run.called = true
	if e := call.Argument(0); !goja.IsUndefined(e) && !goja.IsNull(e) {
		// The refusal is decided before its message is read: reading
		// runs the script's code (getters, toString, proxies), which may
		// throw or never end.
		run.rejected = true
		run.message = run.valueMessage(e)
		return goja.Undefined()
	}
	u := call.Argument(1)
	if goja.IsUndefined(u) || goja.IsNull(u) {
		return goja.Undefined()
	}
	if _, ok := u.(*goja.Object); !ok {
		run.bad = "the pipeline passed callback a user that is not an object"
		return goja.Undefined()
	}
	s, err := run.stringify(u)
	if err != nil {
		run.bad = "the user the pipeline returned cannot be read: " + firstLine(err.Error())
		return goja.Undefined()
	}
	if len(s.String()) > maxUserJSON {
		run.bad = fmt.Sprintf("the user the pipeline returned is larger than %d bytes", maxUserJSON)
		return goja.Undefined()
	}
	run.returned = []byte(s.String())
	return goja.Undefined()
}

// stringify is JSON.stringify(v), called from a native function while the
// script runs. An interrupt raised inside it (the time limit) is re-armed,
// so that it stops the script at its next instruction instead of being
// swallowed here.
func (run *scriptRun) stringify(v goja.Value) (goja.Value, error) {
	vm := run.vm
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	s, err := stringify(goja.Undefined(), v)
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		vm.Interrupt(ie.Value())
	}
	if err == nil && (s == nil || goja.IsUndefined(s)) {
		err = errors.New("the value has no JSON form")
	}
	return s, err
}

// print appends a line to the captured output, within maxOutput.
func (run *scriptRun) print(line string) {
	if run.dropped {
		return
	}
	if run.out.Len()+len(line)+1 > maxOutput {
		run.dropped = true
		run.out.WriteString("… (output truncated)\n")
		return
	}
	run.out.WriteString(line)
	run.out.WriteByte('\n')
	run.lines++
}

func (run *scriptRun) output() string { return run.out.String() }

// genericRefusal is the message of a refusal whose own message is empty
// or cannot be read.
const genericRefusal = "refused by a pipeline"

// valueMessage renders a thrown, rejected or refusing value: an Error's
// message, otherwise its string form; "" when it has none or reading it
// fails. Reading runs the script's code (a message getter, toString, a
// proxy's traps): whatever that code throws is swallowed here, and an
// interrupt (the time limit) is re-armed so that it still stops the
// script. Callers decide the outcome before calling it.
func (run *scriptRun) valueMessage(v goja.Value) (msg string) {
	defer func() {
		if x := recover(); x != nil {
			if ie, ok := x.(*goja.InterruptedError); ok {
				run.vm.Interrupt(ie.Value())
			}
			msg = ""
		}
	}()
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	if o, ok := v.(*goja.Object); ok {
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) && !goja.IsNull(m) {
			if _, isObj := m.(*goja.Object); isObj {
				return "" // an object for a message: not run for its text
			}
			return m.String()
		}
	}
	return v.String()
}

// promise is v as a promise, or nil. It looks at the value's type only, so
// no code of the script runs (Export would read every property).
func promise(v goja.Value) *goja.Promise {
	if v == nil || v.ExportType() != reflect.TypeFor[*goja.Promise]() {
		return nil
	}
	pr, _ := v.Export().(*goja.Promise)
	return pr
}

// firstLine keeps the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
