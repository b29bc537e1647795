package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Variable describes one AUTHPOOL_* environment variable for the help
// text: its file key, its built-in default and what it means.
type Variable struct {
	Name    string // AUTHPOOL_ADDR
	FileKey string // addr ("" when the file cannot set it)
	Default string // as written in the environment; "" when unset
	Meaning string // one line
}

// Variables lists every variable Load reads, sorted by name. The names
// come from Load itself (it is run with a getenv that records what it is
// asked), the defaults from Default() and the file keys from Config's
// json tags, so the list cannot drift from the code; only the one-line
// meanings are written out (meanings, below), and a test fails when one
// is missing. Every variable may also be given as <NAME>_FILE.
func Variables() []Variable {
	names := readNames()
	fields := jsonFields(reflect.ValueOf(Default()))
	out := make([]Variable, 0, len(names))
	for _, n := range names {
		v := Variable{Name: n, Meaning: meanings[n]}
		if f, ok := fields[envKey(n)]; ok {
			v.FileKey, v.Default = f.key, formatDefault(f.v)
		}
		out = append(out, v)
	}
	return out
}

// readNames runs Load with a getenv that records every name asked for.
// Load reads <NAME>_FILE beside each NAME; those are left out.
func readNames() []string {
	seen := map[string]bool{}
	_, _ = Load(func(k string) string { seen[k] = true; return "" })
	var names []string
	for n := range seen {
		if base, ok := strings.CutSuffix(n, "_FILE"); ok && seen[base] {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Unknown returns a warning for each AUTHPOOL_* name in names that is
// not a setting (nor its _FILE form, nor one of also), naming the
// closest setting: a misspelled variable would otherwise be ignored
// silently and its default used.
func Unknown(names []string, also ...string) []string {
	known := map[string]bool{}
	var candidates []string
	for _, n := range append(readNames(), also...) {
		known[n], known[n+"_FILE"] = true, true
		candidates = append(candidates, n, n+"_FILE")
	}
	var warnings []string
	for _, n := range names {
		if !strings.HasPrefix(n, "AUTHPOOL_") || known[n] {
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s is not a setting and is ignored; did you mean %s?", n, closest(n, candidates)))
	}
	return warnings
}

// closest returns the candidate at the smallest edit distance from name.
func closest(name string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(name, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: the
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// field is one settable field of Config, by its json key.
type field struct {
	key string
	v   reflect.Value
}

// jsonFields maps the lower-cased json key of every field of the struct
// v (descending into embedded structs, as encoding/json does) to the
// field. Lower case: encoding/json matches keys case-insensitively, and
// AUTHPOOL_PASSWORD_MEMORY_KIB is passwordMemoryKiB.
func jsonFields(v reflect.Value) map[string]field {
	out := map[string]field{}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			for k, f := range jsonFields(v.Field(i)) {
				out[k] = f
			}
			continue
		}
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if key == "" || key == "-" {
			continue
		}
		out[strings.ToLower(key)] = field{key: key, v: v.Field(i)}
	}
	return out
}

// envKey is the lower-cased file key a variable corresponds to:
// AUTHPOOL_TOKEN_TTL -> tokenttl.
func envKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "AUTHPOOL_"), "_", ""))
}

// formatDefault writes a default as it would be written in the
// environment.
func formatDefault(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return shortDuration(time.Duration(x))
	case Rate:
		if x.Max == 0 {
			return "off"
		}
		return fmt.Sprintf("%d/%s", x.Max, shortDuration(x.Window))
	}
	switch v.Kind() {
	case reflect.String:
		return v.String() // not String(): a Secret's would say REDACTED
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Convert(reflect.TypeFor[string]()).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration drops zero minutes and seconds: 360h0m0s -> 360h, 1m0s -> 1m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
