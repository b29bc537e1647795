package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// importDeadline is how long one batch may take to arrive and be
// answered; the server's ReadTimeout and WriteTimeout (whole request) are
// moved forward batch by batch, so an import may stream for hours while a
// stalled client is still cut off.
const importDeadline = 2 * time.Minute

// adminImportUsers reads JSON lines (api.UserRecord) and answers JSON lines
// (api.ImportReport), batch by batch: a batch's reports are sent once it
// has committed, so a client that loses the connection knows what is done.
// Query: source (default "authpool"), dryRun=true.
func (s *Server) adminImportUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	source := q.Get("source")
	if source == "" {
		source = "authpool"
	}
	dryRun, err := boolParam(q.Get("dryRun"))
	if err != nil {
		return err
	}
	meta := s.adminMeta(r)
	sess, err := s.Admin.StartImport(r.Context(), meta, source, dryRun)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// Reading the body while answering needs full duplex on HTTP/1.1.
	_ = rc.EnableFullDuplex()
	extend := func() {
		_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
		_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	}
	extend()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	sum := api.ImportSummary{DryRun: dryRun}
	br := bufio.NewReaderSize(r.Body, 64<<10)
	line := 0
	finish := func(err error) error {
		if err != nil {
			e := userpool.AsError(err)
			if e.Code == userpool.CodeInternal {
				s.Log.LogAttrs(r.Context(), slog.LevelError, "import failed",
					slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
			}
			sum.Error = &api.ErrorBody{Code: int(e.Code), Reason: e.Reason, Message: e.Message}
		}
		_ = enc.Encode(api.ImportReport{Summary: &sum})
		_ = rc.Flush()
		return nil
	}
	for {
		var recs []*api.UserRecord
		var lines []int
		var early []api.ImportReport // lines refused before the batch
		eof := false
		for len(recs)+len(early) < api.ImportBatchSize {
			b, tooLong, err := readLine(br, api.MaxImportLineBytes)
			if err == io.EOF && len(b) == 0 && !tooLong {
				eof = true
				break
			}
			if err != nil && err != io.EOF {
				return finish(userpool.Errorf(userpool.CodeBadRequest, "body_read_failed", "the body could not be read to its end"))
			}
			line++
			if len(bytes.TrimSpace(b)) == 0 && !tooLong {
				if err == io.EOF {
					eof = true
					break
				}
				continue
			}
			rec, rep := decodeRecord(b, tooLong)
			if rec == nil {
				rep.Line = line
				early = append(early, rep)
			} else {
				recs = append(recs, rec)
				lines = append(lines, line)
			}
			if err == io.EOF {
				eof = true
				break
			}
		}
		reps, err := s.Admin.ImportBatch(r.Context(), meta, sess, recs)
		if err != nil {
			return finish(err)
		}
		for i := range reps {
			reps[i].Line = lines[i]
		}
		// Reports go out in line order.
		all := mergeReports(early, reps)
		for _, rep := range all {
			switch rep.Status {
			case api.ImportStatusImported:
				sum.Imported++
			case api.ImportStatusUpdated:
				sum.Updated++
			default:
				sum.Refused++
			}
			if err := enc.Encode(rep); err != nil {
				return nil // the client is gone; what it was told is what is done
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		extend()
		if eof {
			return finish(nil)
		}
	}
}

// readLine reads one line without its newline. A line longer than limit
// is read to its end and dropped, reported as tooLong.
func readLine(br *bufio.Reader, limit int) (b []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(b)+len(frag) > limit+1 {
				tooLong, b = true, nil
			} else {
				b = append(b, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			b = bytes.TrimSuffix(b, []byte("\n"))
			b = bytes.TrimSuffix(b, []byte("\r"))
		}
		if tooLong && err == io.EOF {
			return nil, true, io.EOF
		}
		return b, tooLong, err
	}
}

// decodeRecord decodes one line, strictly: an unknown member is an error
// (a misspelt field would otherwise be lost silently).
func decodeRecord(b []byte, tooLong bool) (*api.UserRecord, api.ImportReport) {
	bad := func(reason, msg string) api.ImportReport {
		return api.ImportReport{Status: api.ImportStatusRefused, Code: int(userpool.CodeBadRequest), Reason: reason, Message: msg}
	}
	if tooLong {
		return nil, bad("line_too_long", "a line may hold at most "+strconv.Itoa(api.MaxImportLineBytes)+" bytes")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	rec := new(api.UserRecord)
	if err := dec.Decode(rec); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, bad("invalid_json", "member "+ute.Field+" has the wrong type: want "+ute.Type.String())
		}
		return nil, bad("invalid_json", "the line is not a user record: "+err.Error())
	}
	if dec.More() {
		return nil, bad("invalid_json", "one JSON object per line")
	}
	// No field can hold a NUL (PostgreSQL text cannot): refused here, the
	// same on both stores.
	if containsNUL(reflect.ValueOf(rec)) || bytes.Contains(b, []byte(`\u0000`)) {
		return nil, bad("bad_request", "a line must not contain NUL characters (\\u0000)")
	}
	return rec, api.ImportReport{}
}

// mergeReports merges two lists sorted by Line.
func mergeReports(a, b []api.ImportReport) []api.ImportReport {
	out := make([]api.ImportReport, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && a[0].Line < b[0].Line {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func boolParam(v string) (bool, error) {
	switch v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_query", "a flag is true or false")
}

// adminExportUsers answers the pool's users (or those matching search)
// as JSON lines of api.UserRecord in id order, read a page at a time.
// Password hashes are included only with includeHashes=true.
func (s *Server) adminExportUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	hashes, err := boolParam(q.Get("includeHashes"))
	if err != nil {
		return err
	}
	meta := s.adminMeta(r)
	search := q.Get("search")
	page, err := s.Admin.ExportPage(r.Context(), meta, search, "", 500)
	if err != nil {
		return err
	}
	if err := s.Admin.AuditExport(r.Context(), meta, search, hashes); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for len(page) > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
		for _, e := range page {
			if err := enc.Encode(exportRecord(e, hashes)); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		if page, err = s.Admin.ExportPage(r.Context(), meta, search, page[len(page)-1].ID, 500); err != nil {
			// The status line is sent: a truncated export is told by the
			// missing last line (an object with only "error").
			s.Log.LogAttrs(r.Context(), slog.LevelError, "export failed",
				slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
			e := userpool.AsError(err)
			_ = enc.Encode(map[string]any{"error": api.ErrorBody{Code: int(e.Code), Reason: e.Reason, Message: e.Message}})
			return nil
		}
	}
	_ = enc.Encode(map[string]any{"end": true})
	return nil
}

func exportRecord(e *userpool.ExportedUser, hashes bool) api.UserRecord {
	u := e.User
	rec := api.UserRecord{
		ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Phone: u.Phone, PhoneVerified: u.PhoneVerified,
		Profile: api.Profile(u.Profile), Blocked: u.Blocked, SignedUp: u.SignedUp, CreatedAt: u.CreatedAt,
		UpdatedAt: u.UpdatedAt, LoginsCount: u.LoginsCount, LastLogin: u.LastLogin,
	}
	if hashes {
		rec.PasswordHash = u.PasswordHash
	}
	if len(e.Values) > 0 {
		rec.CustomData = make(map[string]json.RawMessage, len(e.Values))
		rec.CustomDataTypes = make(map[string]string, len(e.Values))
		for _, v := range e.Values {
			rec.CustomData[v.Key] = json.RawMessage(v.Value)
			rec.CustomDataTypes[v.Key] = string(v.DataType)
		}
	}
	for _, id := range e.Identities {
		rec.Identities = append(rec.Identities, api.Identity{Provider: id.Provider, Subject: id.Subject, Data: json.RawMessage(id.Data)})
	}
	return rec
}
