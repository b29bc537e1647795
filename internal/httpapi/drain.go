package httpapi

import (
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// errDraining refuses a request that arrives while the server shuts
// down: 503 with Retry-After, so a client tries again (another replica,
// or this one restarted).
var errDraining = &userpool.RetryError{
	Err: userpool.Errorf(userpool.CodeUnavailable, "shutting_down",
		"the server is shutting down: try again shortly"),
	After: userpool.UnavailableRetry,
}

// probes are answered while draining: they say what the process is doing.
var probes = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/metrics": true}

func (s *Server) draining() bool { return s.Draining != nil && s.Draining() }

// refuseWhileDraining answers a new request with errDraining once the
// server has begun to shut down, and reports whether it did. Requests
// that were already being served are not affected: the server waits for
// them (AUTHPOOL_SHUTDOWN_TIMEOUT).
func (s *Server) refuseWhileDraining(w http.ResponseWriter, r *http.Request) bool {
	if !s.draining() || probes[r.URL.Path] {
		return false
	}
	w.Header().Set("Connection", "close")
	s.writeError(w, r, errDraining)
	return true
}

// livez says the process is alive and serving HTTP, whatever the state of
// the store or a shutdown: a failing liveness probe means "restart me",
// which neither an unreachable database nor a drain calls for (/readyz
// reports those).
func (s *Server) livez(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	return nil
}

// metricsHandler serves the Prometheus series (behind the administrator
// key; AUTHPOOL_METRICS_ADDR serves them without one on a separate
// listener).
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	if s.Metrics == nil {
		return errNoRoute
	}
	s.Metrics.Handler().ServeHTTP(w, r)
	return nil
}
