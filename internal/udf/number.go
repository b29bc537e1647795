package udf

import (
	"encoding/json"
	"errors"
	"strconv"
)

// numberKind is NUMBER: a finite IEEE 754 double, as in JavaScript; the
// SDK answers float64.
type numberKind struct{}

func (numberKind) parse(raw []byte) (string, string) {
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return "", jsonKind(raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		// Valid JSON, so the only failure left is a magnitude past float64.
		return "", "the number is out of range"
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", "the number cannot be encoded"
	}
	return string(b), ""
}

func (numberKind) decode(stored string) (any, error) {
	f, err := strconv.ParseFloat(stored, 64)
	if err != nil {
		return nil, errors.New("not a number")
	}
	return f, nil
}
