package udf

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MaxStringLen bounds a STRING value, in characters.
const MaxStringLen = 4096

// stringKind is STRING: a JSON string of at most MaxStringLen characters.
type stringKind struct{}

func (stringKind) parse(raw []byte) (string, string) {
	if raw[0] != '"' {
		return "", jsonKind(raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", "the value is not a valid JSON string"
	}
	if utf8.RuneCountInString(s) > MaxStringLen {
		return "", fmt.Sprintf("at most %d characters", MaxStringLen)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", "the value cannot be encoded"
	}
	return string(b), ""
}

func (stringKind) decode(stored string) (any, error) {
	var s string
	err := json.Unmarshal([]byte(stored), &s)
	return s, err
}
