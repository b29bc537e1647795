package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

func (s *Server) listUdv(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.ListUdv(r.Context(), s.meta(r, ""), bearer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromUDVs(list))
	return nil
}

func (s *Server) setUdv(w http.ResponseWriter, r *http.Request) error {
	var in api.SetUdvRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Value == nil {
		return userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", `field "value" is required (use DELETE to remove a value)`)
	}
	list, err := s.Auth.SetUdv(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("key"), in.Value)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromUDVs(list))
	return nil
}

func (s *Server) removeUdv(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.RemoveUdv(r.Context(), s.meta(r, ""), bearer(r), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromUDVs(list))
	return nil
}

func fromUDVs(list []auth.UDV) []api.UserDefinedData {
	out := make([]api.UserDefinedData, len(list))
	for i, v := range list {
		out[i] = api.UserDefinedData{Key: v.Key, DataType: string(v.DataType), Label: v.Label, Value: wireValue(v.Value)}
	}
	return out
}

// wireValue is a decoded value as JSON shows it; times are RFC 3339 UTC.
func wireValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// customData renders a user's values as User.CustomData and its types.
func customData(list []auth.UDV) (map[string]any, map[string]string) {
	if len(list) == 0 {
		return nil, nil
	}
	data, types := make(map[string]any, len(list)), make(map[string]string, len(list))
	for _, v := range list {
		data[v.Key] = wireValue(v.Value)
		types[v.Key] = string(v.DataType)
	}
	return data, types
}

// rawCustomData re-encodes decoded customData values one by one, so that
// auth checks each against its field's type; values decoded from JSON
// always encode.
func rawCustomData(in map[string]any) (map[string]json.RawMessage, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(in))
	for k, v := range in {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, userpool.Errorf(userpool.CodeBadRequest, "bad_request", "customData %q cannot be encoded", k)
		}
		out[k] = b
	}
	return out, nil
}
