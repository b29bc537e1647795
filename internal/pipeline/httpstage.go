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
	"unicode"

	"github.com/authpool/authpool/internal/userpool"
)

// maxStageResponse bounds an HTTP pipeline's answer: a user of at most
// maxUserJSON, wrapped.
const maxStageResponse = maxUserJSON + 4<<10

// runHTTP posts the stage's input to p.URL, signed with p.Secret, and reads
// the decision: a 2xx answer with an empty body or {"user": {...}} accepts,
// {"error": "message"} rejects; anything else (another status, a body that
// is not such JSON, no answer in time) is a failure.
func (r *Runner) runHTTP(ctx context.Context, p *userpool.Pipeline, stage userpool.PipelineStage, timeout time.Duration, userJSON, ctxJSON []byte) (Trial, []byte) {
	fail := func(format string, args ...any) (Trial, []byte) {
		return Trial{Outcome: userpool.PipelineFailed, Message: fmt.Sprintf(format, args...)}, nil
	}
	body, err := json.Marshal(struct {
		Stage   string          `json:"stage"`
		User    json.RawMessage `json:"user"`
		Context json.RawMessage `json:"context"`
	}{string(stage), userJSON, ctxJSON})
	if err != nil {
		return fail("encode request: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return fail("the pipeline's URL is invalid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "authpool-pipeline")
	if err := setSignature(req.Header, p.Secret, newMessageID(), r.now(), body); err != nil {
		return fail("sign the request: %v", err)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fail("the pipeline's endpoint did not answer within the time limit of %v", timeout)
		}
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the URL may carry a token; it is not repeated
		}
		return fail("the pipeline's endpoint could not be reached: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxStageResponse+1))
	if err != nil {
		return fail("read the pipeline's answer: %v", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail("the pipeline's endpoint answered HTTP %d", resp.StatusCode)
	}
	if len(raw) > maxStageResponse {
		return fail("the pipeline's answer is larger than %d bytes", maxStageResponse)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return Trial{Outcome: userpool.PipelineAccepted}, nil
	}
	// The answer is read strictly: exactly one JSON object, and an "error"
	// member refuses whatever its text (an empty one gets a generic
	// message), so that no answer meaning "no" can be read as "yes".
	if repeatedMember(raw) {
		return fail(`the pipeline's answer repeats a member; it must be {"user": {...}} or {"error": "message"}`)
	}
	var ans struct {
		User  map[string]any   `json:"user"`
		Error *json.RawMessage `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ans); err != nil || dec.Decode(new(json.RawMessage)) != io.EOF {
		return fail(`the pipeline's answer is not {"user": {...}} or {"error": "message"}`)
	}
	if ans.Error != nil && string(*ans.Error) != "null" {
		var msg string
		if err := json.Unmarshal(*ans.Error, &msg); err != nil {
			return fail(`the pipeline's answer is not {"user": {...}} or {"error": "message"}`)
		}
		if msg == "" {
			msg = genericRefusal
		}
		return Trial{Outcome: userpool.PipelineRejected, Message: msg}, nil
	}
	if ans.User == nil {
		return Trial{Outcome: userpool.PipelineAccepted}, nil
	}
	returned, err := json.Marshal(ans.User)
	if err != nil {
		return fail("read the pipeline's answer: %v", err)
	}
	return Trial{Outcome: userpool.PipelineAccepted}, returned
}

// repeatedMember reports whether raw is a JSON object naming a member
// twice. encoding/json keeps the last of repeated members and matches
// names without regard to case, so {"error": "no", "Error": null} would
// read as no refusal at all: names are compared as the decoder compares
// them. Anything that is not an object is left to the strict decode.
func repeatedMember(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return false
		}
		key := foldName(name)
		if seen[key] {
			return true
		}
		seen[key] = true
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return false
		}
	}
	return false
}

// foldName maps every letter to the least of its case-folding orbit, so
// that two names encoding/json would match fold to the same string (it
// also folds "ſ" with "s" and the Kelvin sign with "k").
func foldName(name string) string {
	var b strings.Builder
	for _, r := range name {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
