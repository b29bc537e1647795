package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
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
			s.Log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", pattern),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id))
		}()
		next.ServeHTTP(rec, r)
	})
}

// meta builds the caller description for a use case. claimedIP is the
// clientIp option of the body, believed only from a trusted proxy.
func (s *Server) meta(r *http.Request, claimedIP string) auth.Meta {
	return auth.Meta{
		PoolID:         r.Header.Get(api.HeaderUserPoolID),
		ClientIP:       s.clientIP(r, claimedIP),
		UserAgent:      r.UserAgent(),
		AcceptLanguage: r.Header.Get("Accept-Language"),
	}
}

// clientIP is the caller's address as ClientIP computes it with the
// server's trusted proxies.
func (s *Server) clientIP(r *http.Request, claimed string) string {
	return ClientIP(r, claimed, s.TrustedProxies)
}

// ClientIP is the connection's address unless the connection comes from a
// trusted proxy, in which case a claimed IP, then the nearest untrusted
// X-Forwarded-For hop, is believed. An untrusted claim is ignored silently.
// Every transport computes the caller's address with it.
func ClientIP(r *http.Request, claimed string, trusted []netip.Prefix) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	remote = remote.Unmap()
	if !isTrusted(remote) {
		return remote.String()
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(claimed)); err == nil {
		return a.Unmap().String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a) {
			return a.String()
		}
	}
	return remote.String()
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
