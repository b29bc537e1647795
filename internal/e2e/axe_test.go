package e2e

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeFile is axe-core as npm installs it from testdata/axe/package-lock.json
// (.ci/run: cd internal/e2e/testdata/axe && npm ci).
const axeFile = "testdata/axe/node_modules/axe-core/axe.min.js"

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axeFile)
	return string(b), err
})

// axeViolation is one failed rule of axe.run, with the elements it failed
// on.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkAxe runs axe-core (https://github.com/dequelabs/axe-core) over the
// page the browser context shows and fails the test on every serious or
// critical violation, listing each rule with the elements it failed on;
// what names the page in the message ("sign-up, zh-CN"). The script is
// injected through the DevTools protocol (not through the page, whose CSP
// allows only its own scripts), so the page under test keeps its real
// CSP. Without axe-core installed, the check fails when AUTHPOOL_AXE=1 (CI
// installs it) and is otherwise skipped with a log line (the rest of the
// test runs).
func checkAxe(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	src, err := axeSource()
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("AUTHPOOL_AXE") == "1" {
			t.Fatalf("axe-core is not installed (AUTHPOOL_AXE=1): run npm ci in internal/e2e/testdata/axe")
		}
		t.Logf("axe check of %s skipped: axe-core is not installed (cd internal/e2e/testdata/axe && npm ci)", what)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatalf("inject axe-core into %s: %v", what, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help, Nodes: v.nodes.map(n => n.target.join(" "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run on %s: %v", what, err)
	}
	var bad []string
	for _, v := range got {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v.Impact+" "+v.ID+": "+v.Help+" ("+strings.Join(v.Nodes, ", ")+")")
		}
	}
	if len(bad) > 0 {
		t.Errorf("axe: %d serious or critical violations on %s:\n  %s", len(bad), what, strings.Join(bad, "\n  "))
	}
}
