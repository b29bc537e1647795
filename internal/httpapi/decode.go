package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// decode reads one JSON object of at most api.MaxBodyBytes into v. Unknown
// fields, wrong types, trailing data and oversized bodies are coded 4xx
// errors, never 500s; so is a body from a page of another site that is
// not declared JSON (crosssite.go).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, api.MaxBodyBytes)
}

// decodeLimit is decode with a body bound of limit bytes, for the few
// routes whose bodies are larger by nature (pipelines: a script of 32 KiB
// grows when JSON-escaped).
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if err := CrossSiteBody(r, nil); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must hold exactly one JSON object")
	}
	if containsNUL(reflect.ValueOf(v)) {
		// No field of the API can hold a NUL character, and PostgreSQL text
		// cannot store one: refuse it here, once, for every route.
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body must not contain NUL characters (\\u0000)")
	}
	return nil
}

// containsNUL reports whether any string reachable from v (fields,
// elements, map keys and values) holds a NUL character.
func containsNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && containsNUL(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && containsNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return false // raw bytes (json.RawMessage) are checked where decoded
		}
		for i := range v.Len() {
			if containsNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if containsNUL(it.Key()) || containsNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return userpool.Errorf(userpool.CodeBodyTooLarge, "body_too_large", "request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body is empty: a JSON object is required")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body is not valid JSON")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "field %q must be of JSON type %s, not %s", field, jsonType(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return userpool.Errorf(userpool.CodeBadRequest, "bad_request", "request body could not be read: %s", safeMsg(err))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map", "ptr":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// safeMsg keeps a decoder message short; it never contains body values.
func safeMsg(err error) string {
	m := err.Error()
	if len(m) > 200 {
		m = m[:200]
	}
	return m
}

// required reports the first empty required field as a coded error.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field %q is required", fields[i])
		}
	}
	return nil
}
