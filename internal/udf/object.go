package udf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Bounds of an OBJECT value: its compact JSON text, and how deeply
// objects and arrays nest in it (so that no reader of the value, in any
// language, recurses without end).
const (
	MaxObjectBytes = 16 << 10
	MaxObjectDepth = 32
)

// objectKind is OBJECT: any JSON object (not an array or null), stored as
// compact JSON text and answered as is.
type objectKind struct{}

func (objectKind) parse(raw []byte) (string, string) {
	if raw[0] != '{' {
		return "", jsonKind(raw)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", "the value is not a valid JSON object"
	}
	if b.Len() > MaxObjectBytes {
		return "", fmt.Sprintf("at most %d bytes of JSON", MaxObjectBytes)
	}
	if depth(b.Bytes()) > MaxObjectDepth {
		return "", fmt.Sprintf("nested at most %d levels deep", MaxObjectDepth)
	}
	return b.String(), ""
}

// depth is the deepest nesting of objects and arrays in valid JSON.
func depth(b []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

func (objectKind) decode(stored string) (any, error) {
	if !json.Valid([]byte(stored)) || len(stored) == 0 || stored[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return json.RawMessage(stored), nil
}
