package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// adapt turns a handlerFunc into an http.Handler with one error path.
func (s *Server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(ctx context.Context) string { return RequestID(ctx) }

// RequestID is the id the request log gave the request of ctx ("" outside
// one); mounted transports log it with their failures.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// deadlines of the streamed import and export).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// withRequestLog gives each request an id, recovers panics into a 500 and
// logs one line per request. It logs the route pattern, never the URL, so
// nothing secret in a query string reaches the log.
func (s *Server) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set(api.HeaderRequestID, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		rec := &statusRecorder{ResponseWriter: w}
		s.Metrics.RequestStarted()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", id), slog.String("panic", fmt.Sprint(p)))
				if rec.status == 0 {
					s.writeError(rec, r, userpool.Internal(fmt.Errorf("panic: %v", p)))
				}
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			s.Metrics.RequestDone(pattern, rec.status, time.Since(start))
			s.Log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", pattern),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id))
		}()
		if s.refuseWhileDraining(rec, r) {
			r.Pattern = "draining" // the request log's and the metrics' route
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// bearer returns the token of the Authorization header, or "".
func bearer(r *http.Request) string { return Bearer(r) }

// Bearer returns the token of the Authorization header, or "".
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
