package httpapi

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/userpool"
)

// pathNames returns the {name} wildcards of a route pattern's path.
func pathNames(path string) []string {
	var names []string
	for seg := range strings.SplitSeq(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return names
}

// checkPathValues refuses a request whose path segments named in names are
// text an id or key could be: invalid UTF-8 (%ff, overlong %C0%AF) or
// control characters (NUL). No id or key of the API can hold
// them, PostgreSQL text cannot store NUL or invalid UTF-8 at all, and
// SQLite would store them: refusing here gives one coded 400 on every
// route and both stores, before any use case or query runs.
func checkPathValues(r *http.Request, names []string) error {
	for _, name := range names {
		v := r.PathValue(name)
		if !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			return userpool.Errorf(userpool.CodeBadRequest, "invalid_path", "path segment {%s} must be UTF-8 text without control characters", name)
		}
	}
	return nil
}

// Routes lists the native API as "METHOD /path" patterns, in routes.go's
// order, for tests that walk the whole surface.
func Routes() []string {
	var out []string
	for _, rt := range (&Server{}).routes() {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}
