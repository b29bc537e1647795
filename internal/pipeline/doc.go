// Package pipeline runs a pool's pipelines, the user code that may refuse
// or shape a registration or a login at its stage (pre-register,
// post-register, pre-authentication, post-authentication), and delivers
// webhooks from the store's outbox.
//
// A script pipeline is JavaScript in the Authing shape,
//
//	async function pipe(user, context, callback) { ... callback(null, user, context) }
//
// run by goja in a fresh runtime per run, inside a worker process (this
// binary re-executed, worker.go) whose memory is bounded and which the
// server kills when a run overruns its time limit: no file system, no
// network unless the pipeline allows hosts for its http helper (whose
// requests the server makes), a hard time limit enforced by interrupting
// the VM, and console output captured into the pipeline's log. Script
// slots are shared fairly between user pools (slots.go). An HTTP pipeline receives the same input as a signed
// POST (Standard Webhooks headers). Either may refuse (a coded rejection
// carrying its message) or change profile fields; a pipeline that throws,
// times out, runs out of memory, is malformed, or whose answer cannot be
// read refuses the flow with a distinct code (fail closed).
//
// Webhook deliveries are claimed from the outbox by Dispatcher workers,
// signed with the subscription's secret and retried with exponential
// backoff; every attempt is recorded.
package pipeline
