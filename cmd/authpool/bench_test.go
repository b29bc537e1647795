package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
)

// TestBenchStartsItsOwnServer runs `authpool bench` briefly against the
// server it starts (SQLite, cheap hashing from the environment) and
// checks its table: every SDK call it drives, codes included (the
// console sender's log gives them), has a line with calls and no error.
func TestBenchStartsItsOwnServer(t *testing.T) {
	var out bytes.Buffer
	args := []string{"bench", "-duration", "2s", "-concurrency", "2", "-users", "4"}
	if err := run(context.Background(), args, testEnv(t.TempDir()), &out, io.Discard); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	t.Logf("authpool %s\n%s", strings.Join(args, " "), out.String())
	rows := benchTable(t, out.String())
	for _, call := range []string{
		"RegisterByEmail", "RegisterByUsername", "RegisterByPhoneCode", "LoginByEmail", "LoginByUsername",
		"LoginByPhonePassword", "LoginByPhoneCode", "CheckLoginStatus", "GetCurrentUser", "UpdateProfile",
		"SetUdv", "ListUdv", "RemoveUdv", "RefreshToken", "GetCaptcha", "Logout", "SendEmail", "SendSmsCode",
		"VerifyEmail", "ResetPasswordByEmailCode", "UpdatePassword",
	} {
		r, ok := rows[call]
		if !ok {
			t.Errorf("no line for %s", call)
			continue
		}
		if r[0] == 0 || r[1] != 0 {
			t.Errorf("%s: %v calls, %v errors", call, r[0], r[1])
		}
	}
	if r := rows["all"]; r[2] <= 0 {
		t.Errorf("total throughput %v", r[2])
	}
	if !strings.Contains(out.String(), "accounts deleted after the run") {
		t.Error("the report does not say the accounts were deleted")
	}
}

// benchTable reads the report's lines: call -> count, errors, per second.
func benchTable(t *testing.T, out string) map[string][3]float64 {
	t.Helper()
	rows := map[string][3]float64{}
	header := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 7 && f[0] == "call" && f[1] == "count" {
			header = true
			continue
		}
		if !header || len(f) < 7 {
			continue
		}
		name := strings.Join(f[:len(f)-6], " ")
		if name == "all calls" {
			name = "all"
		}
		var r [3]float64
		for i := range 3 {
			if f[len(f)-6+i] == "-" {
				continue
			}
			v, err := strconv.ParseFloat(f[len(f)-6+i], 64)
			if err != nil {
				t.Fatalf("report line %q: %v", line, err)
			}
			r[i] = v
		}
		rows[name] = r
	}
	if !header {
		t.Fatalf("no table in the report:\n%s", out)
	}
	return rows
}

// TestBenchAgainstURL runs `authpool bench -url --json` against a
// running server on each store, twice: the runs share one pool, and
// leave no account behind.
func TestBenchAgainstURL(t *testing.T) {
	eachStore(t, func(t *testing.T, getenv func(string) string) {
		ctx := context.Background()
		getenv = withEnv(getenv, map[string]string{
			"AUTHPOOL_RATE_LIMIT_REGISTER": "off", "AUTHPOOL_RATE_LIMIT_LOGIN": "off", "AUTHPOOL_RATE_LIMIT_CAPTCHA": "off",
		})
		url, stdout, _ := startRunOutput(t, getenv)
		key := adminKey(t, stdout)
		for range 2 {
			var out bytes.Buffer
			err := run(ctx, []string{"bench", "-url", url, "-admin-key", key, "--json", "-duration", "1s", "-concurrency", "2", "-users", "4"}, getenv, &out, io.Discard)
			if err != nil {
				t.Fatalf("bench: %v", err)
			}
			var rep benchReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("--json: %v\n%s", err, out.String())
			}
			got := map[string]benchCall{}
			for _, c := range rep.Calls {
				got[c.Call] = c
			}
			for _, call := range []string{"RegisterByEmail", "RegisterByUsername", "LoginByEmail", "LoginByUsername", "CheckLoginStatus",
				"GetCurrentUser", "UpdateProfile", "SetUdv", "ListUdv", "RemoveUdv", "RefreshToken", "GetCaptcha", "Logout", "UpdatePassword"} {
				if c := got[call]; c.Count == 0 || c.Errors != 0 || c.P50ms <= 0 || c.P99ms < c.P50ms {
					t.Errorf("%s: %+v", call, c)
				}
			}
			// No code is sent to made-up addresses through a real server's senders.
			if _, ok := got["SendSmsCode"]; ok {
				t.Error("bench sent codes through a server it did not start")
			}
			if rep.Deleted != 4 || rep.DeleteErrors != 0 {
				t.Errorf("deleted %d, failed %d", rep.Deleted, rep.DeleteErrors)
			}
		}
		adm := mgmt(url, key)
		pools, err := adm.ListPools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range pools {
			if p.Name == benchPoolName {
				n++
				users, err := adm.ListUsers(ctx, p.ID, client.ListUsersOptions{})
				if err != nil || users.Total != 0 {
					t.Fatalf("accounts left in the bench pool: %+v %v", users, err)
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d bench pools after two runs, want 1", n)
		}
	})
}

// TestBenchBounds: every flag is bounded, checked at the bound and past it.
func TestBenchBounds(t *testing.T) {
	ok := benchOptions{duration: time.Second, concurrency: 1, users: 1}
	for name, c := range map[string]struct {
		edit func(*benchOptions)
		ok   bool
	}{
		"least": {func(o *benchOptions) {}, true},
		"most": {func(o *benchOptions) {
			o.duration, o.concurrency, o.users = benchMaxDuration, benchMaxConcurrency, benchMaxUsers
		}, true},
		"duration short":   {func(o *benchOptions) { o.duration = time.Second - 1 }, false},
		"duration long":    {func(o *benchOptions) { o.duration = benchMaxDuration + 1 }, false},
		"no clients":       {func(o *benchOptions) { o.concurrency = 0 }, false},
		"too many clients": {func(o *benchOptions) { o.concurrency, o.users = benchMaxConcurrency+1, benchMaxConcurrency+1 }, false},
		"fewer users":      {func(o *benchOptions) { o.concurrency, o.users = 4, 3 }, false},
		"too many users":   {func(o *benchOptions) { o.users = benchMaxUsers + 1 }, false},
		"negative":         {func(o *benchOptions) { o.duration, o.concurrency, o.users = -1, -1, -1 }, false},
		"url and database": {func(o *benchOptions) { o.url, o.database = "http://127.0.0.1:1", "sqlite:x.db" }, false},
	} {
		o := ok
		c.edit(&o)
		if err := o.validate(); (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
	err := run(context.Background(), []string{"bench", "-url", "http://127.0.0.1:1"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "administrator key") {
		t.Fatalf("-url without a key: %v", err)
	}
}
