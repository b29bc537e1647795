package udf

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// maxEpochMillis is the range of JavaScript's Date (±100,000,000 days), so
// that every value an application in any language can hold is accepted.
const maxEpochMillis = 8.64e15

// datetimeKind is DATETIME: RFC 3339 text or integer epoch milliseconds
// in, an instant in UTC out (stored as RFC 3339 text with nanoseconds).
type datetimeKind struct{}

func (datetimeKind) parse(raw []byte) (string, string) {
	var t time.Time
	switch {
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "the value is not a valid JSON string"
		}
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", "RFC 3339 text (such as 2024-05-01T12:00:00Z) or epoch milliseconds"
		}
		t = p
	case raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > maxEpochMillis {
			return "", "epoch milliseconds must be a whole number within JavaScript's date range"
		}
		t = time.UnixMilli(int64(f))
	default:
		return "", jsonKind(raw)
	}
	b, err := json.Marshal(t.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", "the time cannot be encoded"
	}
	return string(b), ""
}

func (datetimeKind) decode(stored string) (any, error) {
	var s string
	if err := json.Unmarshal([]byte(stored), &s); err != nil {
		return nil, err
	}
	return time.Parse(time.RFC3339Nano, s)
}
