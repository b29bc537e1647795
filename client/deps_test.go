package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientImportsNoInternal keeps the SDK small: it may import only
// package api and the standard library.
func TestClientImportsNoInternal(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/authpool/authpool/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/authpool/authpool/api" && pkg != "github.com/authpool/authpool/client" {
			t.Errorf("client depends on %s; it may import only api and the standard library", pkg)
		}
	}
}
