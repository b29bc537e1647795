package userpool

import (
	"context"
	"time"
)

// DataType is the type of a user-defined field.
type DataType string

// The closed set of data types a user-defined field may have; package
// internal/udf knows how to parse, check and encode values of each.
const (
	TypeString   DataType = "STRING"
	TypeNumber   DataType = "NUMBER"
	TypeBoolean  DataType = "BOOLEAN"
	TypeDatetime DataType = "DATETIME"
	TypeObject   DataType = "OBJECT"
)

// Field is the definition of a user-defined field of one pool: which key
// an application may attach to its users, and the type of its values.
type Field struct {
	PoolID      string
	Key         string
	DataType    DataType
	Label       string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// UserEditable lets an end user set and remove their own value (the
	// API's /users/me/udv routes, the account page); otherwise only an
	// administrator, registration and login data, and pipelines set it.
	UserEditable bool
}

// UserValue is one user's value of one field. Value is the canonical JSON
// text internal/udf produced for the field's type; DataType and Label are
// the field's, filled in by the store on reads.
type UserValue struct {
	PoolID    string
	UserID    string
	Key       string
	DataType  DataType
	Label     string
	Value     string
	UpdatedAt time.Time
}

// Codes of user-defined data (the 2400 block, authpool's own; see
// docs/API.md).
const (
	CodeUnknownField      Code = 2401
	CodeFieldTypeMismatch Code = 2402
	CodeFieldExists       Code = 2403
	CodeFieldInUse        Code = 2404
)

// Sentinels of the field store. Use cases add the key (and the expected
// type) to the message before answering.
var (
	ErrFieldNotFound = &Error{Code: CodeUnknownField, Reason: "unknown_field", Message: "no such user-defined field in this user pool"}
	ErrFieldExists   = &Error{Code: CodeFieldExists, Reason: "field_exists", Message: "a user-defined field with this key already exists"}
	ErrFieldInUse    = &Error{Code: CodeFieldInUse, Reason: "field_in_use", Message: "the field's type cannot change while users have values for it"}
	// ErrFieldTypeChanged is returned by SetUserValues when the field's
	// type is no longer the one the value was checked against (an
	// administrator changed it concurrently).
	ErrFieldTypeChanged = &Error{Code: CodeFieldTypeMismatch, Reason: "field_type_mismatch", Message: "the field's type changed; the value no longer matches"}
)

// FieldStore keeps user-defined field definitions and users' values.
type FieldStore interface {
	// CreateField stores a definition; a key already defined in the pool
	// returns ErrFieldExists, an unknown pool ErrPoolNotFound.
	CreateField(ctx context.Context, f *Field) error
	// GetField returns ErrFieldNotFound for an undefined key.
	GetField(ctx context.Context, poolID, key string) (*Field, error)
	// ListFields returns the pool's definitions ordered by key.
	ListFields(ctx context.Context, poolID string) ([]*Field, error)
	// UpdateField reads the definition, calls fn and writes label,
	// description, data type, UserEditable and UpdatedAt back in one transaction; fn's
	// error is returned as is. A changed data type while any user has a
	// value for the key returns ErrFieldInUse and changes nothing. fn must
	// not change PoolID or Key.
	UpdateField(ctx context.Context, poolID, key string, fn func(*Field) error) (*Field, error)
	// DeleteField deletes the definition and every user's value of it.
	DeleteField(ctx context.Context, poolID, key string) error
	// CountFieldValues is how many users of the pool have a value of key
	// (what DeleteField would remove); 0 for an undefined key.
	CountFieldValues(ctx context.Context, poolID, key string) (int64, error)

	// ListUserValues returns the user's values ordered by key, with each
	// field's DataType and Label.
	ListUserValues(ctx context.Context, poolID, userID string) ([]*UserValue, error)
	// SetUserValues inserts or replaces the user's values in one
	// transaction. Each value carries the DataType it was checked against;
	// a field that no longer exists returns ErrFieldNotFound, one whose type
	// differs ErrFieldTypeChanged, a missing user ErrUserNotFound. On an
	// error nothing is written.
	SetUserValues(ctx context.Context, poolID, userID string, vals []*UserValue) error
	// DeleteUserValue removes the user's value of key; removing a value
	// that does not exist is no error.
	DeleteUserValue(ctx context.Context, poolID, userID, key string) error
}
