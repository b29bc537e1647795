package httpapi

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that docs/openapi.yaml documents exactly
// the routes of routes.go, apart from the paths of the Authing-compatible
// transport (/graphql/v2, /api/v2/), which internal/authingcompat checks. It reads the paths section by indentation (the
// file keeps paths at two spaces and methods at four), which is enough for
// our own file and needs no YAML library.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f, err := os.Open("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := map[string]bool{}
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && len(line) > 0 && line[0] != ' ':
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && path != "" && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			m := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch m {
			case "get", "post", "put", "patch", "delete":
				if path == "/graphql/v2" || strings.HasPrefix(path, "/api/v2/") || strings.HasPrefix(path, "/api/v3/") {
					continue
				}
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range (&Server{}).routes() {
		served[rt.Method+" "+rt.Path] = true
	}
	diff := func(a, b map[string]bool) (out []string) {
		for k := range a {
			if !b[k] {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	if d := diff(served, documented); len(d) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml: %v", d)
	}
	if d := diff(documented, served); len(d) > 0 {
		t.Errorf("docs/openapi.yaml documents routes that are not served: %v", d)
	}
	if len(served) == 0 {
		t.Fatal("no routes")
	}
}
