package httpapi

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

var durationType = reflect.TypeFor[time.Duration]()

// settingsToWire renders pool settings as the admin API shows them: every
// PoolSettings field under its wire name (admin.SettingName), durations as
// Go duration text. Deriving the map from the struct keeps the API
// complete as settings are added.
func settingsToWire(ps userpool.PoolSettings) map[string]any {
	v := reflect.ValueOf(ps)
	out := make(map[string]any, v.NumField())
	for i := range v.NumField() {
		f := v.Field(i)
		name := admin.SettingName(v.Type().Field(i).Name)
		if f.Type() == durationType {
			out[name] = time.Duration(f.Int()).String()
			continue
		}
		out[name] = f.Interface()
	}
	return out
}

// applySettings returns an edit that sets the named settings from their
// JSON-decoded values. Unknown names and values of the wrong type are
// refused (code 1003), all of them in one message; the edit changes
// nothing unless every value is good.
func applySettings(in map[string]any) func(*userpool.PoolSettings) error {
	if len(in) == 0 {
		return nil
	}
	return func(ps *userpool.PoolSettings) error {
		next := *ps
		v := reflect.ValueOf(&next).Elem()
		index := make(map[string]int, v.NumField())
		for i := range v.NumField() {
			index[admin.SettingName(v.Type().Field(i).Name)] = i
		}
		names := make([]string, 0, len(in))
		for name := range in {
			names = append(names, name)
		}
		slices.Sort(names)
		var probs []string
		for _, name := range names {
			i, ok := index[name]
			if !ok {
				probs = append(probs, fmt.Sprintf("unknown setting %q", truncate(name, 64)))
				continue
			}
			if p := setSetting(v.Field(i), in[name]); p != "" {
				probs = append(probs, fmt.Sprintf("%s must be %s", name, p))
			}
		}
		if len(probs) > 0 {
			return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_settings", "invalid settings: %s", strings.Join(probs, "; "))
		}
		*ps = next
		return nil
	}
}

// setSetting sets f from a JSON-decoded value, or says what was expected.
func setSetting(f reflect.Value, val any) string {
	switch {
	case f.Type() == durationType:
		s, ok := val.(string)
		d, err := time.ParseDuration(s)
		if !ok || err != nil {
			return `a duration such as "90s" or "15m"`
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return "true or false"
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, ok := val.(float64)
		if !ok || n != math.Trunc(n) || math.Abs(n) > math.MaxInt32 {
			return "a whole number"
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.String:
		s, ok := val.(string)
		if !ok {
			return "a string"
		}
		f.SetString(s)
	default:
		return "changed through the configuration (not supported by the admin API)"
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
