package e2e

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/server"
)

// referenceMethods are the 24 AuthenticationClient methods of the reference
// (../shared/authentication-client-reference.md), by their Python names.
// The suite must call each one.
var referenceMethods = []string{
	"register_by_email", "register_by_username", "register_by_phone_code", "send_sms_code",
	"login_by_email", "login_by_username", "login_by_phone_code", "login_by_phone_password",
	"check_login_status", "send_email", "reset_password_by_phone_code", "reset_password_by_email_code",
	"update_profile", "update_password", "update_phone", "update_email", "refresh_token",
	"bind_phone", "unbind_phone", "get_current_user", "logout", "list_udv", "set_udv", "remove_udv",
}

// TestAuthingPySDK drives Authing's unmodified official Python SDK
// (authing 4.5.18 with gql 2.0.0, vendored in compat/authing-py/vendor
// with their licences and provenance) against a real server on every
// backend, by running the unittest suite of compat/authing-py. It runs when
// AUTHPOOL_COMPAT_PY=1 (CI sets it after installing the SDK's Debian
// dependencies); then a missing interpreter or module is a failure, not a
// skip. The interpreter is Debian's /usr/bin/python3 with -s, so a
// graphql-core 3 installed elsewhere by pip is not picked up (the SDK
// needs graphql-core 2).
func TestAuthingPySDK(t *testing.T) {
	if os.Getenv("AUTHPOOL_COMPAT_PY") != "1" {
		t.Skip("set AUTHPOOL_COMPAT_PY=1 (with Debian's python3-requests python3-rsa python3-dateutil python3-graphql-core python3-promise python3-six) to run Authing's Python SDK against the server")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "compat", "authing-py"))
	if err != nil {
		t.Fatal(err)
	}
	python := os.Getenv("AUTHPOOL_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	checkSuiteCoversReference(t, dir)
	eachBackend(t, func(t *testing.T, dbURL string) {
		// As for the JS suite: per-IP sending limits raised, failure
		// detection on only in the CAPTCHA test.
		cfg := codeConfig(dbURL)
		cfg.AdminKey = testAdminKey
		ans := &answers{}
		in := startWith(t, cfg, nil, server.Options{NewCaptchaAnswer: ans.next}).withoutFailureDetection(t)
		ctl := httptest.NewServer(controlHandler(t, in, ans))
		defer ctl.Close()

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, python, "-s", "-W", "ignore::ResourceWarning", "-m", "unittest", "discover", "-v", "-s", ".", "-p", "test_*.py")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"AUTHPOOL_URL="+in.URL, "AUTHPOOL_CONTROL_URL="+ctl.URL,
			"PYTHONPATH="+filepath.Join(dir, "vendor")+string(os.PathListSeparator)+dir,
			"PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
		out, err := cmd.CombinedOutput()
		t.Logf("python unittest output:\n%s", out)
		if err != nil {
			t.Fatalf("the Authing Python SDK suite failed: %v", err)
		}
		ran, skipped := unittestCounts(t, string(out))
		t.Logf("Authing Python SDK suite: %d tests ran, %d skipped", ran, skipped)
		if ran == 0 || skipped != 0 {
			t.Fatalf("the Authing Python SDK suite ran %d tests and skipped %d", ran, skipped)
		}
	})
}

// unittestCounts reads "Ran N tests" and the final "OK" line (with its
// skipped count) of a unittest run; anything but OK fails.
func unittestCounts(t *testing.T, out string) (ran, skipped int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Ran (\d+) tests? in `).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no 'Ran N tests' line in the unittest output")
	}
	ran, _ = strconv.Atoi(m[1])
	ok := regexp.MustCompile(`(?m)^OK(?: \((.*)\))?$`).FindStringSubmatch(out)
	if ok == nil {
		t.Fatal("the unittest run did not end with OK")
	}
	if s := regexp.MustCompile(`skipped=(\d+)`).FindStringSubmatch(ok[1]); s != nil {
		skipped, _ = strconv.Atoi(s[1])
	}
	return ran, skipped
}

// checkSuiteCoversReference fails when a method of the reference is called
// nowhere in the suite's tests.
func checkSuiteCoversReference(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "test_*.py"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s (%v)", dir, err)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	src := all.String()
	for _, m := range referenceMethods {
		// Called directly (c.m(...)) or handed to expect_code (c.m, ...).
		if !regexp.MustCompile(`\.` + m + `[(,]`).MatchString(src) {
			t.Errorf("the Python suite never calls %s", m)
		}
	}
}
