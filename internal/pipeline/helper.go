package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// maxHelperBody bounds a response body the http helper reads, and a
// request body it sends.
const maxHelperBody = 256 << 10

// fetcher makes one http helper request for a script (in the server,
// which checks the pipeline's allowed hosts and applies the run's time
// limit) and returns {status, headers, body, data}.
type fetcher func(helperRequest) (map[string]any, error)

// setGlobals gives the script its only ways to reach outside: console
// (captured), env (the pipeline's secrets, frozen) and, when the pipeline
// allows hosts, http.
func setGlobals(run *scriptRun, j *job, fetch fetcher) error {
	vm := run.vm
	console := vm.NewObject()
	for _, level := range []string{"log", "info", "warn", "error", "debug"} {
		prefix := ""
		if level == "warn" || level == "error" {
			prefix = strings.ToUpper(level) + " "
		}
		if err := console.Set(level, func(call goja.FunctionCall) goja.Value {
			parts := make([]string, 0, len(call.Arguments))
			for _, a := range call.Arguments {
				parts = append(parts, run.show(a))
			}
			run.print(prefix + strings.Join(parts, " "))
			return goja.Undefined()
		}); err != nil {
			return err
		}
	}
	if err := vm.Set("console", console); err != nil {
		return err
	}

	env := vm.NewObject()
	for k, v := range j.Env {
		if err := env.Set(k, v); err != nil {
			return err
		}
	}
	if err := vm.Set("env", env); err != nil {
		return err
	}
	if _, err := vm.RunString("Object.freeze(env)"); err != nil {
		return err
	}

	if !j.HTTP {
		return nil
	}
	h := &httpHelper{run: run, fetch: fetch}
	obj := vm.NewObject()
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"request": h.request,
		"get":     func(c goja.FunctionCall) goja.Value { return h.shorthand(http.MethodGet, c) },
		"post":    func(c goja.FunctionCall) goja.Value { return h.shorthand(http.MethodPost, c) },
		"put":     func(c goja.FunctionCall) goja.Value { return h.shorthand(http.MethodPut, c) },
		"delete":  func(c goja.FunctionCall) goja.Value { return h.shorthand(http.MethodDelete, c) },
	} {
		if err := obj.Set(name, fn); err != nil {
			return err
		}
	}
	return vm.Set("http", obj)
}

// show renders a console argument: strings as they are, objects as JSON;
// a value that cannot be rendered (its code throws) shows as such.
func (run *scriptRun) show(v goja.Value) (s string) {
	defer func() {
		if x := recover(); x != nil {
			if ie, ok := x.(*goja.InterruptedError); ok {
				run.vm.Interrupt(ie.Value())
			}
			s = "[unprintable]"
		}
	}()
	if o, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(o); !isFn {
			if s, err := run.stringify(o); err == nil {
				return s.String()
			}
		}
	}
	return v.String()
}

// httpHelper is the script's http object: requests to the allowed hosts
// only, within the run's time limit, never following redirects. Each call
// returns a promise (so that `await http.get(url)` reads as in Node), which
// is already settled when the call returns.
type httpHelper struct {
	run   *scriptRun
	fetch fetcher
}

type helperRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	// Body is sent as is when a string, as JSON otherwise.
	Body any `json:"body"`
}

// shorthand is http.get(url, options) and http.post(url, body, options).
func (h *httpHelper) shorthand(method string, call goja.FunctionCall) goja.Value {
	req := helperRequest{Method: method, URL: call.Argument(0).String()}
	opts := call.Argument(1)
	if method == http.MethodPost || method == http.MethodPut {
		req.Body = call.Argument(1).Export()
		opts = call.Argument(2)
	}
	if o, ok := opts.(*goja.Object); ok {
		if hv := o.Get("headers"); hv != nil && !goja.IsUndefined(hv) {
			if err := h.run.vm.ExportTo(hv, &req.Headers); err != nil {
				return h.settle(nil, errors.New("http: headers must be an object of strings"))
			}
		}
	}
	return h.settle(h.fetch(req))
}

// request is http.request({method, url, headers, body}).
func (h *httpHelper) request(call goja.FunctionCall) goja.Value {
	var req helperRequest
	if err := h.run.vm.ExportTo(call.Argument(0), &req); err != nil || req.URL == "" {
		return h.settle(nil, errors.New("http.request: want {method, url, headers, body}"))
	}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	return h.settle(h.fetch(req))
}

// settle returns a promise resolved with v or rejected with err.
func (h *httpHelper) settle(v map[string]any, err error) goja.Value {
	vm := h.run.vm
	p, resolve, reject := vm.NewPromise()
	if err != nil {
		_ = reject(vm.NewGoError(err))
	} else {
		_ = resolve(vm.ToValue(v))
	}
	return vm.ToValue(p)
}

func allowed(hosts []string, u *url.URL) bool {
	for _, a := range hosts {
		if strings.EqualFold(a, u.Host) || strings.EqualFold(a, u.Hostname()) {
			return true
		}
	}
	return false
}

// fetch makes one request of a script's http helper, to one of hosts,
// before deadline, and returns {status, headers, body, data}. It runs in
// the server, not in the worker: the allowed hosts and the client are the
// server's.
func (r *Runner) fetch(ctx context.Context, hosts []string, deadline time.Time, in helperRequest) (map[string]any, error) {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http: %q is not an http(s) URL", in.URL)
	}
	if !allowed(hosts, u) {
		return nil, fmt.Errorf("http: host %q is not in this pipeline's allowed hosts", u.Host)
	}
	var body io.Reader
	contentType := ""
	switch b := in.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("http: body: %v", err)
		}
		body, contentType = bytes.NewReader(j), "application/json"
	}
	if body != nil {
		if n := body.(interface{ Len() int }).Len(); n > maxHelperBody {
			return nil, fmt.Errorf("http: request body is larger than %d bytes", maxHelperBody)
		}
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(in.Method), u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("http: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "authpool-pipeline")
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the URL is already known to the script
		}
		return nil, fmt.Errorf("http: %s %s: %v", req.Method, u.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxHelperBody+1))
	if err != nil {
		return nil, fmt.Errorf("http: read response: %v", err)
	}
	if len(raw) > maxHelperBody {
		return nil, fmt.Errorf("http: response is larger than %d bytes", maxHelperBody)
	}
	headers := map[string]any{}
	for k := range resp.Header {
		headers[strings.ToLower(k)] = resp.Header.Get(k)
	}
	out := map[string]any{"status": resp.StatusCode, "headers": headers, "body": string(raw)}
	var data any
	if json.Unmarshal(raw, &data) == nil {
		out["data"] = data
	}
	return out, nil
}
