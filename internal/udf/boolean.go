package udf

import "errors"

// booleanKind is BOOLEAN: JSON true or false (not the strings).
type booleanKind struct{}

func (booleanKind) parse(raw []byte) (string, string) {
	switch string(raw) {
	case "true", "false":
		return string(raw), ""
	}
	return "", jsonKind(raw)
}

func (booleanKind) decode(stored string) (any, error) {
	switch stored {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, errors.New("not a boolean")
}
