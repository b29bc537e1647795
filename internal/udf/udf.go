// Package udf is the type system of user-defined fields ("user-defined
// data"): for each data type, in one small file per type, how a value a
// caller sends is parsed and checked, the canonical JSON text it is stored
// as, and the Go value an answer carries. It also checks field
// definitions. It knows nothing of HTTP or SQL.
package udf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/userpool"
)

// Bounds of definitions; they keep a user's CustomData small.
const (
	MaxKeyLen         = 64
	MaxLabelLen       = 128
	MaxDescriptionLen = 1024
	// MaxFieldsPerPool bounds the fields a pool may define.
	MaxFieldsPerPool = 200
)

// kind is one data type's behaviour.
type kind interface {
	// parse checks a JSON value sent by a caller and returns its canonical
	// stored text, or a short description of what was wrong.
	parse(raw []byte) (stored string, problem string)
	// decode turns stored text back into the value an answer carries.
	decode(stored string) (any, error)
}

var kinds = map[userpool.DataType]kind{
	userpool.TypeString:   stringKind{},
	userpool.TypeNumber:   numberKind{},
	userpool.TypeBoolean:  booleanKind{},
	userpool.TypeDatetime: datetimeKind{},
	userpool.TypeObject:   objectKind{},
}

// Types lists the data types in documentation order.
func Types() []userpool.DataType {
	return []userpool.DataType{userpool.TypeString, userpool.TypeNumber, userpool.TypeBoolean, userpool.TypeDatetime, userpool.TypeObject}
}

// ParseType returns the data type named by s (case-insensitive).
func ParseType(s string) (userpool.DataType, error) {
	dt := userpool.DataType(strings.ToUpper(strings.TrimSpace(s)))
	if _, ok := kinds[dt]; !ok {
		return "", userpool.Errorf(userpool.CodeInvalidArgument, "invalid_data_type",
			"data type %q is not one of STRING, NUMBER, BOOLEAN, DATETIME, OBJECT", s)
	}
	return dt, nil
}

// Parse checks raw (one JSON value) against f's type and returns the text
// to store. A mismatch is a coded error naming the key and the type.
func Parse(f *userpool.Field, raw []byte) (string, error) {
	k, ok := kinds[f.DataType]
	if !ok {
		return "", userpool.Internal(fmt.Errorf("udf: field %q has unknown data type %q", f.Key, f.DataType))
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !json.Valid(raw) {
		return "", Mismatch(f, "the value is not valid JSON")
	}
	stored, problem := k.parse(raw)
	if problem != "" {
		return "", Mismatch(f, problem)
	}
	return stored, nil
}

// Decode turns a stored value of type dt into the value answers carry:
// string, float64, bool, time.Time or json.RawMessage (an object).
func Decode(dt userpool.DataType, stored string) (any, error) {
	k, ok := kinds[dt]
	if !ok {
		return nil, fmt.Errorf("udf: unknown data type %q", dt)
	}
	v, err := k.decode(stored)
	if err != nil {
		return nil, fmt.Errorf("udf: stored %s value: %w", dt, err)
	}
	return v, nil
}

// Mismatch is the error for a value that does not fit f's type.
func Mismatch(f *userpool.Field, problem string) *userpool.Error {
	return &userpool.Error{
		Code: userpool.CodeFieldTypeMismatch, Reason: "field_type_mismatch",
		Message: fmt.Sprintf("value of %q must be a %s: %s", f.Key, f.DataType, problem),
		Data:    map[string]any{"key": f.Key, "dataType": string(f.DataType)},
	}
}

// UnknownKey is the error for a key the pool does not define (a long key
// is cut short in the answer).
func UnknownKey(key string) *userpool.Error {
	key = truncate(key, 80)
	return &userpool.Error{
		Code: userpool.CodeUnknownField, Reason: "unknown_field",
		Message: fmt.Sprintf("no user-defined field %q in this user pool", key),
		Data:    map[string]any{"key": key},
	}
}

// CheckKey validates a field key: 1 to 64 characters, an ASCII letter
// first, then ASCII letters, digits, "_" or "-", so that a key is safe in
// a URL path and a JSON object alike.
func CheckKey(key string) error {
	bad := func() error {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_field_key",
			"field key %q must be 1 to %d ASCII letters, digits, _ or -, starting with a letter", truncate(key, 80), MaxKeyLen)
	}
	if key == "" || len(key) > MaxKeyLen || !isLetter(key[0]) {
		return bad()
	}
	for i := 1; i < len(key); i++ {
		c := key[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '-' {
			return bad()
		}
	}
	return nil
}

// CheckDefinition validates and normalises a definition: key, type, and
// label (the key when empty) and description lengths.
func CheckDefinition(f *userpool.Field) error {
	if err := CheckKey(f.Key); err != nil {
		return err
	}
	dt, err := ParseType(string(f.DataType))
	if err != nil {
		return err
	}
	f.DataType = dt
	return CheckLabels(f)
}

// CheckLabels validates label and description, defaulting the label to
// the key.
func CheckLabels(f *userpool.Field) error {
	f.Label = strings.TrimSpace(f.Label)
	if f.Label == "" {
		f.Label = f.Key
	}
	if !utf8.ValidString(f.Label) || utf8.RuneCountInString(f.Label) > MaxLabelLen {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_field_label", "label must be valid text of at most %d characters", MaxLabelLen)
	}
	if !utf8.ValidString(f.Description) || utf8.RuneCountInString(f.Description) > MaxDescriptionLen {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_field_description", "description must be valid text of at most %d characters", MaxDescriptionLen)
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// jsonKind names the JSON type of a valid JSON value by its first byte,
// for error messages.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '"':
		return "got a string"
	case '{':
		return "got an object"
	case '[':
		return "got an array"
	case 't', 'f':
		return "got a boolean"
	case 'n':
		return "got null (use RemoveUdv to remove a value)"
	}
	return "got a number"
}
