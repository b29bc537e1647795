package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// auditPageSize is the audit page's length; auditExportMax bounds one
// export (the newest events matching the filter).
const (
	auditPageSize  = 50
	auditExportMax = 100_000
)

// auditQuery is the audit log's filter as the page's GET form has it.
type auditQuery struct {
	Event, User, Since, Until string
	// Before and After are the paging cursor: the time and id of the
	// last event shown; the next page starts after it.
	Before, After string
}

// auditData is the audit page.
type auditData struct {
	Q      auditQuery
	Events []*userpool.AuditEvent
	Next   string // path of the next page, "" on the last
	Export string // path of the export
}

// parseAuditTime reads a time of the filter form: a date, a
// datetime-local value or RFC 3339; the first two are UTC.
func parseAuditTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// auditFilter is q as the use case's filter.
func auditFilter(lang string, q auditQuery) (userpool.AuditFilter, error) {
	f := userpool.AuditFilter{Event: strings.TrimSpace(q.Event), UserID: strings.TrimSpace(q.User)}
	var ok1, ok2 bool
	f.Since, ok1 = parseAuditTime(q.Since)
	f.Until, ok2 = parseAuditTime(q.Until)
	if !ok1 || !ok2 {
		return f, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_time_range", "%s", T(lang, "audit.bad_time"))
	}
	return f, nil
}

// auditAfter returns up to n events matching f that come after the event
// (at, id) in the log's order (newest first, then id). Events share an
// instant, so the cursor is not a time alone: the events up to a
// millisecond after it are read too (the coarsest precision a store
// keeps), and those up to the cursor's own event are dropped. When that
// event is gone (purged), the events older than its time follow.
func (s *Service) auditAfter(r *http.Request, c *call, f userpool.AuditFilter, at time.Time, id string, n int) ([]*userpool.AuditEvent, error) {
	if edge := at.Add(time.Millisecond); f.Until.IsZero() || edge.Before(f.Until) {
		f.Until = edge
	}
	f.Limit = 1000
	list, err := s.d.Admin.ListAudit(r.Context(), c.meta, f)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(e *userpool.AuditEvent) bool { return e.ID == id })
	if i >= 0 {
		list = list[i+1:]
	} else {
		list = slices.DeleteFunc(list, func(e *userpool.AuditEvent) bool { return !e.CreatedAt.Before(at) })
	}
	return list[:min(len(list), n)], nil
}

func auditQueryOf(r *http.Request) auditQuery {
	q := r.URL.Query()
	return auditQuery{Event: q.Get("event"), User: q.Get("user"), Since: q.Get("since"), Until: q.Get("until"), Before: q.Get("before"), After: q.Get("after")}
}

func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"event": q.Event, "user": q.User, "since": q.Since, "until": q.Until, "before": q.Before, "after": q.After} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// audit lists the pool's audit events newest first, filtered by event,
// user and time, a page at a time: the next page holds the events older
// than the last one shown.
func (s *Service) audit(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	d := auditData{Q: auditQueryOf(r)}
	f, err := auditFilter(c.lang, d.Q)
	if err == nil {
		if d.Q.Before == "" && d.Q.After == "" {
			f.Limit = auditPageSize + 1
			d.Events, err = s.d.Admin.ListAudit(r.Context(), c.meta, f)
		} else if at, perr := time.Parse(time.RFC3339Nano, d.Q.Before); perr != nil || d.Q.After == "" {
			err = userpool.Errorf(userpool.CodeInvalidArgument, "invalid_paging", "%s", T(c.lang, "users.bad_cursor"))
		} else {
			d.Events, err = s.auditAfter(r, c, f, at, d.Q.After, auditPageSize+1)
		}
	}
	if err != nil {
		if statusOf(codeOf(err)) != http.StatusBadRequest {
			return err
		}
		s.render(w, r, c, http.StatusBadRequest, "audit", Page{Title: "nav.audit", Section: "nav.audit", Pool: p, Data: d, Error: formError(c.lang, err)})
		return nil
	}
	if len(d.Events) > auditPageSize {
		d.Events = d.Events[:auditPageSize]
		next, last := d.Q, d.Events[auditPageSize-1]
		next.Before, next.After = last.CreatedAt.UTC().Format(time.RFC3339Nano), last.ID
		d.Next = s.d.Path + "/pools/" + url.PathEscape(p.ID) + "/audit?" + next.values().Encode()
	}
	exp := d.Q
	exp.Before, exp.After = "", ""
	d.Export = s.d.Path + "/pools/" + url.PathEscape(p.ID) + "/audit/export?" + exp.values().Encode()
	s.render(w, r, c, http.StatusOK, "audit", Page{Title: "nav.audit", Section: "nav.audit", Pool: p, Data: d})
	return nil
}

// auditLine is one exported event (JSON lines, the admin API's names).
type auditLine struct {
	ID        string            `json:"id"`
	UserID    string            `json:"userId,omitempty"`
	Event     string            `json:"event"`
	ClientIP  string            `json:"clientIp,omitempty"`
	UserAgent string            `json:"userAgent,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

// exportAudit downloads the events matching the filter as JSON lines,
// newest first, at most auditExportMax, read a page of 1000 at a time.
func (s *Service) exportAudit(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	q := auditQueryOf(r)
	q.Before, q.After = "", ""
	f, err := auditFilter(c.lang, q)
	if err != nil {
		return err
	}
	f.Limit = 1000
	// The first page is read before anything is written, so a refused
	// filter is an error page, not a broken download.
	page, err := s.d.Admin.ListAudit(r.Context(), c.meta, f)
	if err != nil {
		return err
	}
	if err := s.d.Admin.AuditExported(r.Context(), c.meta, f); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit-`+p.ID+`.jsonl"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	n := 0
	for len(page) > 0 && n < auditExportMax {
		for _, e := range page {
			if n == auditExportMax {
				break
			}
			if err := enc.Encode(auditLine{ID: e.ID, UserID: e.UserID, Event: e.Event, ClientIP: e.ClientIP, UserAgent: e.UserAgent, Detail: e.Detail, CreatedAt: e.CreatedAt.UTC()}); err != nil {
				return nil // the browser went away; the answer is under way
			}
			n++
		}
		last := page[len(page)-1]
		if page, err = s.auditAfter(r, c, f, last.CreatedAt, last.ID, f.Limit); err != nil {
			return nil // headers are sent: the download ends short
		}
	}
	return nil
}
