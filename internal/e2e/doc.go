// Package e2e holds authpool's end-to-end tests and benchmarks: each starts
// the real server (internal/server) on 127.0.0.1:0 over a real store —
// SQLite always, PostgreSQL when AUTHPOOL_TEST_POSTGRES_URL is set — and
// drives it through the Go SDK (package client) or plain HTTP.
package e2e
