package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineWriter hands each written chunk to a channel, so a test can wait for
// the server's "listening" line without polling.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.ch <- w.buf.String():
	default:
	}
	return len(p), nil
}

func testEnv(dir string) func(string) string {
	return func(k string) string {
		switch k {
		case "AUTHPOOL_DATABASE_URL":
			return "sqlite:" + dir + "/authpool.db"
		case "AUTHPOOL_ADDR":
			return "127.0.0.1:0"
		case "AUTHPOOL_PASSWORD_MEMORY_KIB":
			return "64"
		case "AUTHPOOL_PASSWORD_TIME":
			return "1"
		}
		return ""
	}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startRun runs the serve command in-process and returns its base URL and
// a function that stops it (SIGTERM's path: the context ends) and returns
// run's error.
func startRun(t *testing.T, getenv func(string) string) (string, func() error) {
	t.Helper()
	url, _, stop := startRunOutput(t, getenv)
	return url, stop
}

// startRunOutput is startRun that also returns what the server wrote on
// standard output until it listened (the administrator key, if any).
func startRunOutput(t *testing.T, getenv func(string) string) (url, stdout string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{ch: make(chan string, 16)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, out, io.Discard) }()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-out.ch:
			if m := listening.FindStringSubmatch(s); m != nil {
				stop := func() error { cancel(); return <-done }
				t.Cleanup(func() { cancel() })
				return m[1], s, stop
			}
		case err := <-done:
			cancel()
			t.Fatalf("server exited before listening: %v", err)
		case <-deadline:
			cancel()
			t.Fatal("server did not start")
		}
	}
}

func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	url, stop := startRun(t, testEnv(dir))
	resp, err := http.Post(url+"/api/v1/register/email", "application/json",
		strings.NewReader(`{"email":"cli@example.com","password":"passw0rd!","options":{"generateToken":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	var u struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if resp.StatusCode != 201 || u.Token == "" {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still answers after stop")
	}

	// Restart on the same database: the token still checks valid.
	url, stop = startRun(t, testEnv(dir))
	resp, err = http.Post(url+"/api/v1/token/check", "application/json", strings.NewReader(`{"token":"`+u.Token+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Status bool }
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if !st.Status {
		t.Fatal("token issued before restart is not valid after it")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, testEnv(dir), &out, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("migrate output: %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, testEnv(dir), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "authpool ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, testEnv(dir), &out, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
	bad := func(k string) string {
		switch k {
		case "AUTHPOOL_DATABASE_URL":
			return "mysql://nope"
		case "AUTHPOOL_LOG_LEVEL":
			return "loud"
		}
		return ""
	}
	err := run(context.Background(), []string{"serve"}, bad, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AUTHPOOL_DATABASE_URL") || !strings.Contains(err.Error(), "AUTHPOOL_LOG_LEVEL") {
		t.Fatalf("bad config must name every problem: %v", err)
	}
}
