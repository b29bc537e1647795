// Package api is the wire contract of authpool's native HTTP API: request and
// response bodies, the error body and the numeric error codes. It imports only
// the standard library so that the SDK (package client) and the server
// (internal/httpapi) share one definition of every message.
package api
