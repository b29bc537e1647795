package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/storetest"
)

const cliKey = "cli-test-admin-key-0123456789abcdefghij"

// startServer runs a real server for the CLI to talk to.
func startServer(t *testing.T, dbURL string) string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = dbURL
	cfg.PasswordMemoryKiB, cfg.PasswordTime = 64, 1
	cfg.AdminKey = cliKey
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// cli runs `authpool admin args...` in-process with the URL and key from
// the environment, and returns its standard output.
func cli(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{"AUTHPOOL_ADMIN_URL": url, "AUTHPOOL_ADMIN_KEY": cliKey}
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"admin"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String(), err
}

func mustCLI(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, err := cli(t, url, args...)
	if err != nil {
		t.Fatalf("authpool admin %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestAdminCLI(t *testing.T) {
	for backend, dbURL := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := startServer(t, dbURL)
			c := client.NewAuthenticationClient(client.Options{AppHost: url})
			u, err := c.RegisterByEmail(ctx, "cli@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true})
			if err != nil {
				t.Fatal(err)
			}

			// fields define / list / delete
			out := mustCLI(t, url, "fields", "define", "age", "number", "-label", "Age in years", "-user-editable")
			if !regexp.MustCompile(`age\s+NUMBER\s+Age in years\s+-\s+true`).MatchString(out) {
				t.Fatalf("fields define printed:\n%s", out)
			}
			mustCLI(t, url, "fields", "define", "-description", "where", "city", "STRING")
			out = mustCLI(t, url, "fields", "list")
			if !regexp.MustCompile(`(?s)KEY\s+TYPE\s+LABEL\s+DESCRIPTION\s+USER-EDITABLE\n.*age\s+NUMBER.*\ncity\s+STRING\s+city\s+where\s+false`).MatchString(out) {
				t.Fatalf("fields list printed:\n%s", out)
			}
			// The flag is changed by update, and left alone by an update that does not name it.
			if out := mustCLI(t, url, "fields", "update", "city", "-user-editable"); !regexp.MustCompile(`city\s+STRING\s+city\s+where\s+true`).MatchString(out) {
				t.Fatalf("fields update -user-editable printed:\n%s", out)
			}
			if out := mustCLI(t, url, "fields", "update", "city", "-label", "Town"); !regexp.MustCompile(`city\s+STRING\s+Town\s+where\s+true`).MatchString(out) {
				t.Fatalf("fields update -label printed:\n%s", out)
			}
			if out := mustCLI(t, url, "fields", "update", "city", "-user-editable=false"); !regexp.MustCompile(`city\s+STRING\s+Town\s+where\s+false`).MatchString(out) {
				t.Fatalf("fields update -user-editable=false printed:\n%s", out)
			}
			var fields []client.Field
			if err := json.Unmarshal([]byte(mustCLI(t, url, "--json", "fields", "list")), &fields); err != nil || len(fields) != 2 {
				t.Fatalf("fields list --json: %v %+v", err, fields)
			}
			// The field is real: the SDK can set a value of it.
			if _, err := c.SetUdv(ctx, "age", 33); err != nil {
				t.Fatal(err)
			}
			if _, err := cli(t, url, "fields", "define", "age", "STRING"); err == nil || !strings.Contains(err.Error(), "2403") {
				t.Fatalf("defining a taken key: %v", err)
			}

			// users list / get
			out = mustCLI(t, url, "users", "list")
			if !strings.Contains(out, u.ID) || !strings.Contains(out, "cli@example.com") || !strings.Contains(out, "1-1 of 1") {
				t.Fatalf("users list printed:\n%s", out)
			}
			var list client.UserList
			if err := json.Unmarshal([]byte(mustCLI(t, url, "users", "list", "-search", "cli@", "--json")), &list); err != nil || list.Total != 1 || list.Users[0].ID != u.ID {
				t.Fatalf("users list --json: %v %+v", err, list)
			}
			out = mustCLI(t, url, "users", "get", u.ID)
			if !strings.Contains(out, "data.age") || !strings.Contains(out, "33") {
				t.Fatalf("users get printed:\n%s", out)
			}

			// users block: the session ends and login is refused.
			out = mustCLI(t, url, "users", "block", u.ID)
			if !strings.Contains(out, "1 session(s) ended") {
				t.Fatalf("users block printed:\n%s", out)
			}
			if _, err := c.GetCurrentUser(ctx); err == nil {
				t.Fatal("token works after block")
			}
			_, err = c.LoginByEmail(ctx, "cli@example.com", "passw0rd!", nil)
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Code != 2057 {
				t.Fatalf("login of blocked user: %v", err)
			}
			mustCLI(t, url, "users", "unblock", u.ID)
			if _, err := c.LoginByEmail(ctx, "cli@example.com", "passw0rd!", nil); err != nil {
				t.Fatalf("login after unblock: %v", err)
			}

			// sessions list / revoke, users create / verify / delete, pools, audit
			if out := mustCLI(t, url, "sessions", "list", u.ID); strings.Count(out, "\n") != 2 {
				t.Fatalf("sessions list printed:\n%s", out)
			}
			if out := mustCLI(t, url, "sessions", "revoke", u.ID); !strings.Contains(out, "1 session(s)") {
				t.Fatalf("sessions revoke printed:\n%s", out)
			}
			pwFile := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pwFile, []byte("s3cret-passw0rd\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var nu client.User
			if err := json.Unmarshal([]byte(mustCLI(t, url, "users", "create", "-email", "new@example.com", "-password-file", pwFile, "-json")), &nu); err != nil || nu.Email != "new@example.com" {
				t.Fatalf("users create: %v %+v", err, nu)
			}
			if _, err := c.LoginByEmail(ctx, "new@example.com", "s3cret-passw0rd", nil); err != nil {
				t.Fatalf("login of CLI-created user: %v", err)
			}
			if out := mustCLI(t, url, "users", "verify", nu.ID, "-email-verified=true"); !strings.Contains(out, "(verified: true)") {
				t.Fatalf("users verify printed:\n%s", out)
			}
			mustCLI(t, url, "users", "delete", nu.ID)
			if _, err := cli(t, url, "users", "get", nu.ID); err == nil || !strings.Contains(err.Error(), "2004") {
				t.Fatalf("get deleted user: %v", err)
			}
			if out := mustCLI(t, url, "pools"); !strings.Contains(out, "default") || !strings.Contains(out, "true") {
				t.Fatalf("pools printed:\n%s", out)
			}
			if out := mustCLI(t, url, "pools", "set", "passwordMinLength=10", "verifyOldEmail=false", "tokenTTL=2h"); !regexp.MustCompile(`passwordMinLength\s+10`).MatchString(out) || !regexp.MustCompile(`tokenTTL\s+2h0m0s`).MatchString(out) {
				t.Fatalf("pools set printed:\n%s", out)
			}
			if _, err := c.RegisterByEmail(ctx, "nine@example.com", "123456789", nil, nil); !errors.As(err, &ce) || ce.Code != 2029 {
				t.Fatalf("pools set not applied: %v", err)
			}
			mustCLI(t, url, "fields", "delete", "city")
			out = mustCLI(t, url, "audit", "-event", "admin.user.block")
			if !strings.Contains(out, "admin.user.block") || !strings.Contains(out, u.ID) || strings.Contains(out, "admin.user.unblock") {
				t.Fatalf("audit printed:\n%s", out)
			}
			if out := mustCLI(t, url, "audit", "-since", "1h", "-limit", "3"); strings.Count(out, "\n") != 4 {
				t.Fatalf("audit -limit 3 printed:\n%s", out)
			}
		})
	}
}

func TestAdminCLIErrors(t *testing.T) {
	url := startServer(t, storetest.DatabaseURLs(t)["sqlite"])
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "unknown command"},
		{[]string{"users", "frobnicate"}, "unknown command"},
		{[]string{"users", "get"}, "want arguments <userId>"},
		{[]string{"users", "list", "-label", "x"}, "flag -label does not apply"},
		{[]string{"users", "list", "-bogus"}, "flag provided but not defined"},
		{[]string{"-key", "wrong-key", "pools"}, "1401"},
		{[]string{"fields", "define", "x", "INTEGER"}, "1003"},
		{[]string{"users", "verify", "someone"}, "-email-verified"},
		{[]string{"audit", "-since", "last week"}, "RFC 3339"},
		{[]string{"pools", "set", "oops"}, "<setting>=<value>"},
	}
	for _, tc := range tests {
		_, err := cli(t, url, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("authpool admin %s: %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	// No key anywhere.
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "-url", url, "pools"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "no administrator key") {
		t.Fatalf("without a key: %v", err)
	}
	// Help.
	out.Reset()
	if err := run(context.Background(), []string{"admin", "help"}, func(string) string { return "" }, &out, &out); err != nil || !strings.Contains(out.String(), "fields define") {
		t.Fatalf("help: %v\n%s", err, out.String())
	}
}

// syncBuffer is a bytes.Buffer safe to read while serve writes to it; it
// closes ready once the server says it is listening.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	ready chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.ready != nil && strings.Contains(s.b.String(), "listening") {
		close(s.ready)
		s.ready = nil
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServePrintsGeneratedKeyOnce starts `authpool serve` without an
// administrator key: the generated key is printed on standard output,
// never in the log, and not again at the next start.
func TestServePrintsGeneratedKeyOnce(t *testing.T) {
	dbURL := storetest.DatabaseURLs(t)["sqlite"]
	env := map[string]string{"AUTHPOOL_DATABASE_URL": dbURL, "AUTHPOOL_ADDR": "127.0.0.1:0", "AUTHPOOL_LOG_FORMAT": "json"}
	serveOnce := func() (stdout, stderr string) {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		out, errb := &syncBuffer{ready: ready}, &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, out, errb) }()
		select {
		case <-ready:
		case err := <-done:
			cancel()
			t.Fatalf("server stopped before listening: %v\n%s", err, errb.String())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String()
	}
	stdout, stderr := serveOnce()
	key := regexp.MustCompile(`apk_[A-Za-z0-9_-]{43}`).FindString(stdout)
	if key == "" {
		t.Fatalf("no key on standard output:\n%s", stdout)
	}
	if strings.Contains(stderr, key) || strings.Contains(stderr, "apk_") {
		t.Fatalf("the log holds the key:\n%s", stderr)
	}
	if !strings.Contains(stderr, "administrator key generated") {
		t.Fatalf("the log does not say a key was generated:\n%s", stderr)
	}
	stdout, _ = serveOnce()
	if strings.Contains(stdout, "apk_") {
		t.Fatalf("second start printed a key:\n%s", stdout)
	}
}
