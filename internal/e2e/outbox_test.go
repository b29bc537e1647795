package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// outbox is the log handler of test servers. The console senders (the
// development default, a real sender) write one line per message with the
// recipient as "to" and the code as "code"; the outbox keeps those
// messages, so tests read codes the way a developer reads them from the
// log. Every other line is kept as text, so tests can check that no code
// reaches the log in any other way.
type outbox struct {
	mu    sync.Mutex
	msgs  []sentMessage
	other []string
	// errors are the log lines at level ERROR or above.
	errors []string
	// settle waits (bounded) until the server's message queue holds no due
	// message: codes are sent by the queue's workers shortly after the
	// answer, so a reader first waits for them instead of sleeping.
	settle func() error
	// shared is the log of every instance over the same database: they
	// share the message queue, so a code queued through one may be sent by
	// another's workers. Readers look there.
	shared *sentLog
}

// sentLog is what the instances over one database sent.
type sentLog struct {
	mu   sync.Mutex
	msgs []sentMessage
}

// sentLogs maps a database URL to its sentLog. Every test has a fresh
// database, so instances share a log exactly when they share a store.
var sentLogs sync.Map

func sentLogFor(dbURL string) *sentLog {
	l, _ := sentLogs.LoadOrStore(dbURL, new(sentLog))
	return l.(*sentLog)
}

type sentMessage struct {
	To, Code, Scene, Subject, Text string
}

func (o *outbox) Enabled(context.Context, slog.Level) bool { return true }
func (o *outbox) WithAttrs([]slog.Attr) slog.Handler       { return o }
func (o *outbox) WithGroup(string) slog.Handler            { return o }

func (o *outbox) Handle(_ context.Context, r slog.Record) error {
	var m sentMessage
	var line strings.Builder
	line.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.String()
		switch a.Key {
		case "to":
			m.To = v
		case "code":
			m.Code = v
		case "scene":
			m.Scene = v
		case "subject":
			m.Subject = v
		case "text":
			m.Text = v
		}
		// Measured and random values cannot carry a code but could hold
		// six digits in a row by chance.
		if a.Key != "duration" && a.Key != "request_id" {
			fmt.Fprintf(&line, " %s=%s", a.Key, v)
		}
		return true
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Level >= slog.LevelError {
		o.errors = append(o.errors, line.String())
	}
	if strings.Contains(r.Message, "console sender") {
		o.msgs = append(o.msgs, m)
		if o.shared != nil {
			o.shared.mu.Lock()
			o.shared.msgs = append(o.shared.msgs, m)
			o.shared.mu.Unlock()
		}
	} else {
		o.other = append(o.other, line.String())
	}
	return nil
}

// sentTo returns the messages sent to addr, oldest first, once every
// message queued so far has been sent (or dropped).
func (o *outbox) sentTo(addr string) []sentMessage {
	if o.settle != nil {
		if err := o.settle(); err != nil {
			panic("e2e: the message queue did not settle: " + err.Error())
		}
	}
	mu, msgs := &o.mu, &o.msgs
	if o.shared != nil {
		mu, msgs = &o.shared.mu, &o.shared.msgs
	}
	mu.Lock()
	defer mu.Unlock()
	var out []sentMessage
	for _, m := range *msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// last returns the latest message sent to addr.
func (o *outbox) last(t testing.TB, addr string) sentMessage {
	t.Helper()
	msgs := o.sentTo(addr)
	if len(msgs) == 0 {
		t.Fatalf("nothing was sent to %s", addr)
	}
	return msgs[len(msgs)-1]
}

// code returns the latest code sent to addr.
func (o *outbox) code(t testing.TB, addr string) string {
	t.Helper()
	return o.last(t, addr).Code
}

// errorLines are the log lines at level ERROR or above so far.
func (o *outbox) errorLines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.errors...)
}

// noLeak fails when any log line other than a console sender's holds one
// of the codes.
func (o *outbox) noLeak(t testing.TB, codes ...string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, line := range o.other {
		for _, c := range codes {
			if c != "" && strings.Contains(line, c) {
				t.Errorf("a code reached the log outside the console sender: %s", line)
			}
		}
	}
}
