package e2e

import (
	"flag"
	"os"
	"testing"
	"time"
)

// packageTimeout is what this package needs on the project's 2-core
// machine: its browser, replica and compatibility tests take 8 to 10
// minutes without -race (14 under it), about go test's default limit
// of 10 minutes per package. The README's `go test ./...` must not fail
// for want of time, so a run that did not choose a limit gets this one.
const packageTimeout = 30 * time.Minute

func TestMain(m *testing.M) {
	flag.Parse()
	// The go command passes its default (-test.timeout=10m0s) as if it
	// were chosen, so the default is recognised by its value.
	if t := flag.Lookup("test.timeout"); t != nil && t.Value.String() == (10*time.Minute).String() {
		_ = t.Value.Set(packageTimeout.String())
	}
	os.Exit(m.Run())
}
