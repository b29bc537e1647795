package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/storetest"
)

// withEnv is getenv with some variables replaced.
func withEnv(getenv func(string) string, set map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := set[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// eachStore runs fn per configured store with testEnv pointing at a
// fresh database of it.
func eachStore(t *testing.T, fn func(t *testing.T, getenv func(string) string)) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			fn(t, withEnv(testEnv(t.TempDir()), map[string]string{"AUTHPOOL_DATABASE_URL": url}))
		})
	}
}

var adminKeyLine = regexp.MustCompile(`(?m)^\s+(apk_\S+)$`)

func adminKey(t *testing.T, out string) string {
	t.Helper()
	m := adminKeyLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no administrator key in the output:\n%s", out)
	}
	return m[1]
}

func mgmt(url, key string) *client.ManagementClient {
	return client.NewManagementClient(client.ManagementOptions{Host: url, AdminKey: key})
}

func wantAdminCode(t *testing.T, err error, code int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("want code %d, got %v", code, err)
	}
}

// TestHelp: every way of asking for help exits 0 with the help on
// stdout; it names the commands, serve's flags and every variable the
// configuration reads.
func TestHelp(t *testing.T) {
	var vars []string
	for _, v := range config.Variables() {
		vars = append(vars, v.Name)
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"serve", "-h"}, {"serve", "--help"}, {"help", "serve"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, testEnv(t.TempDir()), &out, &errb); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if errb.Len() != 0 {
			t.Errorf("%v wrote to stderr: %s", args, errb.String())
		}
		help := out.String()
		want := append([]string{"-addr", "AUTHPOOL_CONFIG", "[tokenTtl], default 360h", "_FILE"}, vars...)
		if args[0] != "serve" && args[len(args)-1] != "serve" {
			want = append(want, "serve", "migrate", "admin", "version", "reset-key")
		}
		for _, w := range want {
			if !strings.Contains(help, w) {
				t.Errorf("%v: the help does not mention %s", args, w)
			}
		}
	}
	for _, args := range [][]string{{"migrate", "-h"}, {"admin", "-h"}, {"admin", "help"}, {"version", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, testEnv(t.TempDir()), &out, io.Discard); err != nil || out.Len() == 0 {
			t.Errorf("%v: %v, %d bytes of help", args, err, out.Len())
		}
	}
	if err := run(context.Background(), []string{"serve", "-port", "1"}, testEnv(t.TempDir()), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "-port") {
		t.Errorf("an unknown flag: %v", err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, testEnv(t.TempDir()), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information")
	}
	want := "authpool " + bi.Main.Version + "\n"
	if bi.Main.Version == "" {
		want = "authpool (unknown)\n"
	}
	if got := out.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "revision ") || !strings.Contains(got, bi.GoVersion) {
		t.Fatalf("version:\n%s\nwant it to start with %q and name the revision and %s", got, want, bi.GoVersion)
	}
	// What a binary built from a checkout carries.
	got := versionText(&debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/authpool/authpool", Version: "v0.0.0-20261206031500-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-06T03:15:00Z"}, {Key: "vcs.modified", Value: "true"},
		},
	})
	want = "authpool v0.0.0-20261206031500-0123456789ab+dirty\n" +
		"revision 0123456789abcdef0123456789abcdef01234567 (2026-12-06T03:15:00Z), with local changes\n" +
		"built with go1.26.0\n"
	if got != want {
		t.Fatalf("versionText:\n%s\nwant:\n%s", got, want)
	}
}

// TestPortInUseKeepsTheKey: a start that cannot listen fails naming the
// address and the setting, and stores no administrator key, so the next
// start prints one that works.
func TestPortInUseKeepsTheKey(t *testing.T) {
	eachStore(t, func(t *testing.T, getenv func(string) string) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		addr := taken.Addr().String()
		var out bytes.Buffer
		err = run(context.Background(), []string{"serve"}, withEnv(getenv, map[string]string{"AUTHPOOL_ADDR": addr}), &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "AUTHPOOL_ADDR") || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("start on a taken port: %v", err)
		}
		if strings.Contains(out.String(), "apk_") {
			t.Fatalf("a failed start showed a key:\n%s", out.String())
		}

		url, stdout, stop := startRunOutput(t, getenv)
		key := adminKey(t, stdout)
		if _, err := mgmt(url, key).ListPools(context.Background()); err != nil {
			t.Fatalf("the printed key: %v", err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// Shown once: a later start prints none, and the key still works.
		url, stdout, stop = startRunOutput(t, getenv)
		if strings.Contains(stdout, "apk_") {
			t.Fatalf("a second start showed a key:\n%s", stdout)
		}
		if _, err := mgmt(url, key).ListPools(context.Background()); err != nil {
			t.Fatalf("the key after a restart: %v", err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResetKey: reset-key, run beside a live server, makes the old key
// fail and the new one work at once, and is audited.
func TestResetKey(t *testing.T) {
	eachStore(t, func(t *testing.T, getenv func(string) string) {
		ctx := context.Background()
		url, stdout, stop := startRunOutput(t, getenv)
		defer stop()
		old := adminKey(t, stdout)
		if _, err := mgmt(url, old).ListPools(ctx); err != nil {
			t.Fatal(err)
		}

		var out bytes.Buffer
		env := withEnv(getenv, map[string]string{"USER": "ops"})
		if err := run(ctx, []string{"admin", "reset-key"}, env, &out, io.Discard); err != nil {
			t.Fatalf("reset-key: %v", err)
		}
		key := adminKey(t, out.String())
		if key == old {
			t.Fatal("reset-key printed the old key")
		}
		_, err := mgmt(url, old).ListPools(ctx)
		wantAdminCode(t, err, 1401)
		if _, err := mgmt(url, key).ListPools(ctx); err != nil {
			t.Fatalf("the new key: %v", err)
		}
		events, err := mgmt(url, key).ListAudit(ctx, "default", client.AuditQuery{Event: "admin.key.reset"})
		if err != nil || len(events) != 1 || !strings.Contains(events[0].Detail["by"], "ops") {
			t.Fatalf("audit of the reset: %v %+v", err, events)
		}
		if err := run(ctx, []string{"admin", "reset-key", "-url", url}, env, io.Discard, io.Discard); err == nil {
			t.Fatal("reset-key took a flag it ignores")
		}
	})
}

// TestConfigProblemsTogether: a value that does not parse and one out of
// range are reported in one error.
func TestConfigProblemsTogether(t *testing.T) {
	env := withEnv(testEnv(t.TempDir()), map[string]string{"AUTHPOOL_TOKEN_TTL": "soon", "AUTHPOOL_LOG_LEVEL": "loud"})
	err := run(context.Background(), []string{"migrate"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AUTHPOOL_TOKEN_TTL") || !strings.Contains(err.Error(), "AUTHPOOL_LOG_LEVEL") {
		t.Fatalf("want both problems: %v", err)
	}
}

// TestMisspelledVariable: an AUTHPOOL_* variable that is no setting gets a
// warning naming the closest one, and the command still runs.
func TestMisspelledVariable(t *testing.T) {
	t.Setenv("AUTHPOOL_TOKN_TTL", "1h")
	t.Setenv("AUTHPOOL_ADMIN_URL", "http://127.0.0.1:1") // the admin client's: no warning
	env := withEnv(testEnv(t.TempDir()), map[string]string{"AUTHPOOL_TOKN_TTL": "1h", "AUTHPOOL_ADMIN_URL": "http://127.0.0.1:1"})
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, env, &out, &errb); err != nil {
		t.Fatalf("a misspelled variable failed the command: %v", err)
	}
	warn := errb.String()
	if !strings.Contains(warn, "AUTHPOOL_TOKN_TTL") || !strings.Contains(warn, "did you mean AUTHPOOL_TOKEN_TTL?") || strings.Contains(warn, "AUTHPOOL_ADMIN_URL") {
		t.Fatalf("warnings: %q", warn)
	}
}

// TestDatabasePathNamed: a SQLite path that cannot be created is named in
// the error.
func TestDatabasePathNamed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing", "authpool.db"), filepath.Join(file, "authpool.db")} {
		env := withEnv(testEnv(dir), map[string]string{"AUTHPOOL_DATABASE_URL": "sqlite:" + path})
		for _, cmd := range []string{"migrate", "serve"} {
			err := run(context.Background(), []string{cmd}, env, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s with %s: %v", cmd, path, err)
			}
		}
	}
}
