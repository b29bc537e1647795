package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// Limits on what a pipeline or subscription may hold.
const (
	maxName      = 128
	maxURL       = 2048
	maxHosts     = 32
	maxEnvVars   = 64
	maxEnvValue  = 4 << 10
	maxEventsSub = 32
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func invalid(reason, format string, args ...any) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, reason, format, args...)
}

// Validate checks a pipeline before it is stored: a known stage and kind,
// a script that compiles and defines pipe within MaxScriptBytes, or an
// http(s) URL with a valid signing secret; a time limit of at most
// MaxTimeout; host names and env names of sane shape. Errors are coded 1003.
func Validate(p *userpool.Pipeline) error {
	if !p.Stage.Valid() {
		return invalid("invalid_pipeline", "stage must be one of pre-register, post-register, pre-authentication, post-authentication")
	}
	if p.Name == "" || utf8.RuneCountInString(p.Name) > maxName || !utf8.ValidString(p.Name) {
		return invalid("invalid_pipeline", "name must be 1 to %d characters", maxName)
	}
	if p.Order < 0 {
		return invalid("invalid_pipeline", "order must not be negative")
	}
	if p.Timeout < 0 || p.Timeout > MaxTimeout {
		return invalid("invalid_pipeline", "timeout must be between 0 (the server's default) and %v", MaxTimeout)
	}
	switch p.Kind {
	case userpool.PipelineScript:
		if len(p.Script) > MaxScriptBytes {
			return invalid("invalid_pipeline", "script must be at most %d bytes", MaxScriptBytes)
		}
		if _, err := goja.Compile("pipeline.js", p.Script, false); err != nil {
			return invalid("invalid_pipeline", "script does not compile: %s", firstLine(err.Error()))
		}
		if err := definesPipe(p.Script); err != nil {
			return invalid("invalid_pipeline", "%v", err)
		}
		if p.URL != "" || p.Secret != "" {
			return invalid("invalid_pipeline", "a script pipeline has no url or secret")
		}
	case userpool.PipelineHTTP:
		if err := checkURL(p.URL); err != nil {
			return err
		}
		if _, err := ParseSecret(p.Secret); err != nil {
			return invalid("invalid_pipeline", "%v", err)
		}
		if p.Script != "" || len(p.AllowedHosts) > 0 || len(p.Env) > 0 {
			return invalid("invalid_pipeline", "an http pipeline has no script, allowed hosts or env")
		}
	default:
		return invalid("invalid_pipeline", "kind must be script or http")
	}
	if len(p.AllowedHosts) > maxHosts {
		return invalid("invalid_pipeline", "at most %d allowed hosts", maxHosts)
	}
	for _, h := range p.AllowedHosts {
		if u, err := url.Parse("http://" + h); err != nil || u.Host != h || h == "" || strings.ContainsAny(h, "/*") {
			return invalid("invalid_pipeline", "allowed host %q must be a host name or host:port", h)
		}
	}
	if len(p.Env) > maxEnvVars {
		return invalid("invalid_pipeline", "at most %d env variables", maxEnvVars)
	}
	for k, v := range p.Env {
		if !envName.MatchString(k) {
			return invalid("invalid_pipeline", "env name %q must be letters, digits and _ (not starting with a digit)", k)
		}
		if len(v) > maxEnvValue || !utf8.ValidString(v) {
			return invalid("invalid_pipeline", "env %s must be valid UTF-8 of at most %d bytes", k, maxEnvValue)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return invalid("invalid_url", "url must be an http(s) URL of at most %d bytes, without user info", maxURL)
	}
	return nil
}

// ValidateSubscription checks a webhook subscription before it is stored:
// an http(s) URL, known event types (or "*"), a valid signing secret.
func ValidateSubscription(w *userpool.WebhookSubscription) error {
	if err := checkURL(w.URL); err != nil {
		return err
	}
	if len(w.Events) == 0 || len(w.Events) > maxEventsSub {
		return invalid("invalid_events", "events must name 1 to %d event types, or \"*\"", maxEventsSub)
	}
	for _, e := range w.Events {
		if e != "*" && !slices.Contains(api.EventTypes, e) {
			return invalid("invalid_events", "unknown event type %q", e)
		}
	}
	if _, err := ParseSecret(w.Secret); err != nil {
		return invalid("invalid_secret", "%v", err)
	}
	return nil
}

// validateTime bounds the run of a script's top level at validation.
const validateTime = time.Second

// checker runs the top level of scripts being validated, in worker
// processes like every run, so that a script's top level is bounded in
// memory and time as its pipe is.
var checker = sync.OnceValue(func() *Runner {
	return NewRunner(nil, Config{Concurrency: 2, PoolConcurrency: 2}, nil, nil)
})

// definesPipe runs the script's top level in a throwaway runtime (console
// and env present but inert, a short time limit) in a worker and checks
// that it defines function pipe.
func definesPipe(src string) error {
	r := checker()
	ctx := context.Background()
	if !r.slots.acquire(ctx, "", time.Now().Add(5*time.Second)) {
		return errors.New("too many scripts are being checked; try again")
	}
	defer r.slots.done("")
	j := &job{Script: src, Check: true, Limit: validateTime, Left: validateTime, User: json.RawMessage("null"), Context: json.RawMessage("{}")}
	tr, _ := r.runInWorker(ctx, j, nil)
	switch {
	case tr.Outcome == userpool.PipelineAccepted:
		return nil
	case strings.HasPrefix(tr.Message, "script"):
		return errors.New(tr.Message)
	}
	return fmt.Errorf("script's top level fails: %s", tr.Message)
}
