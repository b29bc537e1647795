package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// Import and export types.
type (
	UserRecord    = api.UserRecord
	Identity      = api.Identity
	ImportReport  = api.ImportReport
	ImportSummary = api.ImportSummary
)

// ImportOptions are the options of ImportUsers.
type ImportOptions struct {
	// Source names the system the users come from ("auth0", "firebase",
	// ...; default "authpool"): with each record's external id it is the
	// key that makes a second run update instead of duplicate.
	Source string
	// DryRun checks and matches every record and reports what a run would
	// do, writing nothing.
	DryRun bool
}

// streamClient is the client for streamed calls: they last as long as
// their body, so only ctx bounds them.
func (c *ManagementClient) streamClient() *http.Client {
	hc := *c.hc
	hc.Timeout = 0
	return &hc
}

// ImportUsers streams body (JSON lines of UserRecord) to the pool's import
// route and calls each with every report line (one per input line, in
// order, sent once its batch has committed). It returns the summary, or
// an error: a refused call (*Error), a failure of each, or a stream that
// ended without a summary. A summary whose Error is set means the import
// stopped there: the lines reported before it are done.
func (c *ManagementClient) ImportUsers(ctx context.Context, poolID string, body io.Reader, opt ImportOptions, each func(ImportReport) error) (*ImportSummary, error) {
	q := url.Values{}
	if opt.Source != "" {
		q.Set("source", opt.Source)
	}
	if opt.DryRun {
		q.Set("dryRun", "true")
	}
	u := c.opts.Host + "/api/v1/admin" + poolPath(poolID, "users", "import")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: err.Error(), cause: err}
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.stream(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rep ImportReport
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			return nil, &Error{Code: errTransport, Reason: "unexpected_response", Message: "import report: " + err.Error(), cause: err}
		}
		if rep.Summary != nil {
			return rep.Summary, nil
		}
		if each != nil {
			if err := each(rep); err != nil {
				return nil, err
			}
		}
	}
	msg := "the import's answer ended without a summary"
	if err := sc.Err(); err != nil {
		msg += ": " + err.Error()
	}
	return nil, &Error{Code: errTransport, Reason: "transport_error", Message: msg, cause: sc.Err()}
}

// ImportRecords is ImportUsers for records held in memory.
func (c *ManagementClient) ImportRecords(ctx context.Context, poolID string, recs []UserRecord, opt ImportOptions, each func(ImportReport) error) (*ImportSummary, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return nil, &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: "encode record: " + err.Error(), cause: err}
		}
	}
	return c.ImportUsers(ctx, poolID, &b, opt, each)
}

// ExportOptions are the options of ExportUsers.
type ExportOptions struct {
	// Search keeps the users whose email, username or phone contains it.
	Search string
	// IncludeHashes adds each user's password hash (whatever its format)
	// to the records: keep such a file as secret as the database.
	IncludeHashes bool
}

// ExportUsers streams the pool's users (id order) to each. It returns an
// error when the server reports one or the stream ends before its end
// marker, so a truncated export is never taken for a whole one.
func (c *ManagementClient) ExportUsers(ctx context.Context, poolID string, opt ExportOptions, each func(UserRecord) error) error {
	q := url.Values{}
	if opt.Search != "" {
		q.Set("search", opt.Search)
	}
	if opt.IncludeHashes {
		q.Set("includeHashes", "true")
	}
	u := c.opts.Host + "/api/v1/admin" + poolPath(poolID, "users", "export")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: err.Error(), cause: err}
	}
	resp, err := c.stream(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var tail struct {
			End   bool           `json:"end"`
			Error *api.ErrorBody `json:"error"`
		}
		line := sc.Bytes()
		if json.Unmarshal(line, &tail) == nil && (tail.End || tail.Error != nil) {
			if tail.Error != nil {
				return &Error{Code: tail.Error.Code, Reason: tail.Error.Reason, Message: tail.Error.Message, HTTPStatus: resp.StatusCode}
			}
			return nil
		}
		var rec UserRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return &Error{Code: errTransport, Reason: "unexpected_response", Message: "export line: " + err.Error(), cause: err}
		}
		if err := each(rec); err != nil {
			return err
		}
	}
	return &Error{Code: errTransport, Reason: "transport_error", Message: fmt.Sprintf("the export ended before its end marker (%v)", sc.Err()), cause: sc.Err()}
}

// stream sends a streamed request with the administrator key and returns
// the response of a 2xx answer, or the error the answer carries.
func (c *ManagementClient) stream(req *http.Request) (*http.Response, error) {
	if c.opts.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.AdminKey)
	}
	resp, err := c.streamClient().Do(req)
	if err != nil {
		return nil, &Error{Code: errTransport, Reason: "transport_error", Message: err.Error(), cause: err}
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb api.ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Code == 0 {
			return nil, &Error{Code: errTransport, Reason: "unexpected_response", HTTPStatus: resp.StatusCode,
				Message: fmt.Sprintf("unexpected HTTP %d from server", resp.StatusCode)}
		}
		return nil, &Error{Code: eb.Code, Reason: eb.Reason, Message: eb.Message, Data: eb.Data, HTTPStatus: resp.StatusCode}
	}
	return resp, nil
}
