// Package userpool is authpool's domain: users, sessions, signing keys and
// user pools, the closed set of error codes, and the Store interface that
// every storage backend implements. It knows nothing of HTTP or SQL.
package userpool
