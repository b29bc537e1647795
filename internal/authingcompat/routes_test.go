package authingcompat

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that the /graphql/v2 and /api/v2/ paths
// of docs/openapi.yaml are exactly the routes of routes.go (the native
// API's test checks the other paths). Paths are at two spaces, methods at
// four.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f, err := os.Open("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var documented []string
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
				if path == graphqlPath || strings.HasPrefix(path, "/api/v2/") || strings.HasPrefix(path, "/api/v3/") {
					documented = append(documented, strings.ToUpper(m)+" "+path)
				}
			}
		}
	}
	var served []string
	for _, rt := range (&Server{}).routes() {
		served = append(served, rt.Method+" "+rt.Path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("docs/openapi.yaml documents %v\nroutes.go serves %v", documented, served)
	}
}
