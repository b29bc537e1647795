package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/authpool/authpool/api"
)

// UserDefinedData is one user-defined value. Value holds a Go value of the
// field's type: string (STRING), float64 (NUMBER), bool (BOOLEAN),
// time.Time (DATETIME) or map[string]any (OBJECT).
type UserDefinedData = api.UserDefinedData

// Data types of user-defined fields.
const (
	DataTypeString   = api.DataTypeString
	DataTypeNumber   = api.DataTypeNumber
	DataTypeBoolean  = api.DataTypeBoolean
	DataTypeDatetime = api.DataTypeDatetime
	DataTypeObject   = api.DataTypeObject
)

// ListUdv returns the current user's user-defined data, ordered by key.
func (c *AuthenticationClient) ListUdv(ctx context.Context) ([]UserDefinedData, error) {
	return c.udvCall(ctx, http.MethodGet, "", nil)
}

// SetUdv sets the current user's value of key and returns the user's whole
// list. The key must be defined in the pool and value must fit its type
// (a string, a number, a bool, a time.Time or epoch milliseconds, or a
// map/struct for OBJECT); otherwise the error has code 2401 (unknown key)
// or 2402 (type mismatch), naming the key and the expected type.
func (c *AuthenticationClient) SetUdv(ctx context.Context, key string, value any) ([]UserDefinedData, error) {
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, &Error{Code: api.CodeBadRequest, Reason: "bad_request", Message: "encode value: " + err.Error(), cause: err}
	}
	return c.udvCall(ctx, http.MethodPut, key, api.SetUdvRequest{Value: raw})
}

// RemoveUdv removes the current user's value of key and returns the
// user's whole list. Removing a defined key that has no value is no error.
func (c *AuthenticationClient) RemoveUdv(ctx context.Context, key string) ([]UserDefinedData, error) {
	return c.udvCall(ctx, http.MethodDelete, key, nil)
}

func (c *AuthenticationClient) udvCall(ctx context.Context, method, key string, in any) ([]UserDefinedData, error) {
	path := "/api/v1/users/me/udv"
	if method != http.MethodGet {
		path += "/" + url.PathEscape(key)
	}
	var list []UserDefinedData
	if err := c.do(ctx, method, path, in, &list, true); err != nil {
		return nil, err
	}
	for i := range list {
		v, err := decodeValue(list[i].DataType, list[i].Value)
		if err != nil {
			return nil, err
		}
		list[i].Value = v
	}
	return list, nil
}

// decodeValue turns a JSON-decoded value into the Go value of its type;
// only DATETIME differs from what encoding/json gives.
func decodeValue(dataType string, v any) (any, error) {
	if dataType != api.DataTypeDatetime {
		return v, nil
	}
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, &Error{Code: errTransport, Reason: "unexpected_response", Message: "DATETIME value is not RFC 3339 text", cause: err}
	}
	return t, nil
}

// decodeCustomData decodes u.CustomData by u.CustomDataTypes.
func decodeCustomData(u *User) error {
	for k, dt := range u.CustomDataTypes {
		if v, ok := u.CustomData[k]; ok {
			d, err := decodeValue(dt, v)
			if err != nil {
				return err
			}
			u.CustomData[k] = d
		}
	}
	return nil
}
