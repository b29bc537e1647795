package api

import "encoding/json"

// Data types of user-defined fields.
const (
	DataTypeString   = "STRING"
	DataTypeNumber   = "NUMBER"
	DataTypeBoolean  = "BOOLEAN"
	DataTypeDatetime = "DATETIME"
	DataTypeObject   = "OBJECT"
)

// Codes of user-defined data (authpool's own 2400 block).
const (
	CodeUnknownField      = 2401 // unknown_field: the key is not defined in the pool
	CodeFieldTypeMismatch = 2402 // field_type_mismatch: the value does not fit the field's type
	CodeFieldExists       = 2403 // field_exists: the key is already defined
	CodeFieldInUse        = 2404 // field_in_use: the type cannot change while values exist
)

// UserDefinedData is one user-defined value. On the wire Value is the JSON
// form of the field's type: a string (STRING; DATETIME as RFC 3339 text in
// UTC), a number (NUMBER), true or false (BOOLEAN), or an object (OBJECT).
// The Go SDK decodes it to string, float64, bool, time.Time or
// map[string]any.
type UserDefinedData struct {
	Key      string `json:"key"`
	DataType string `json:"dataType"`
	Value    any    `json:"value"`
	Label    string `json:"label,omitempty"`
}

// SetUdvRequest is the body of PUT /api/v1/users/me/udv/{key}. DATETIME
// values may be RFC 3339 text or epoch milliseconds.
type SetUdvRequest struct {
	Value json.RawMessage `json:"value"`
}
