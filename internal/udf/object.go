package udf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxObjectBytes bounds an OBJECT value's compact JSON text.
const MaxObjectBytes = 16 << 10

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
	return b.String(), ""
}

func (objectKind) decode(stored string) (any, error) {
	if !json.Valid([]byte(stored)) || len(stored) == 0 || stored[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return json.RawMessage(stored), nil
}
