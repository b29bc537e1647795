package authingcompat

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// User-defined values on Authing's wire. Every value travels as text:
// in (setUdv's value, params, profile.udf) as JSON text, which is what
// the SDKs send (JSON.stringify, json.dumps); out (udv, setUdv, removeUdv,
// User.customData) as STRING bare, NUMBER, BOOLEAN and OBJECT as JSON
// text, and DATETIME as epoch milliseconds, which is what the SDKs decode
// (docs/AUTHING.md).

// udvOut is UserDefinedData.
type udvOut struct {
	Key      string
	DataType string
	Value    string
	Label    *string
}

// wireValue encodes a decoded value as the wire's text.
func wireValue(v auth.UDV) (string, error) {
	switch x := v.Value.(type) {
	case string:
		return x, nil
	case float64:
		b, err := json.Marshal(x)
		return string(b), err
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return strconv.FormatInt(x.UnixMilli(), 10), nil
	case json.RawMessage:
		return string(x), nil
	}
	return "", userpool.Internal(fmt.Errorf("authingcompat: user-defined value %q of type %s is a %T", v.Key, v.DataType, v.Value))
}

func udvsOf(vs []auth.UDV) ([]*udvOut, error) {
	out := make([]*udvOut, 0, len(vs))
	for _, v := range vs {
		text, err := wireValue(v)
		if err != nil {
			return nil, err
		}
		out = append(out, &udvOut{Key: v.Key, DataType: string(v.DataType), Value: text, Label: str(v.Label)})
	}
	return out, nil
}

// customDataOf is User.customData of the values vs.
func customDataOf(vs []auth.UDV) ([]*customDatum, error) {
	out := make([]*customDatum, 0, len(vs))
	for _, v := range vs {
		text, err := wireValue(v)
		if err != nil {
			return nil, err
		}
		out = append(out, &customDatum{Key: v.Key, Value: &text, Label: str(v.Label), DataType: string(v.DataType)})
	}
	return out, nil
}

// customData collects the values a registration or login sets: params
// (JSON text of [{key, value}], values as JSON, which the JS SDK builds
// from its customData option) and RegisterProfile.udf ([{key, value}],
// values as JSON text). The use cases check keys and types.
func customData(params *string, udf []userDdfInput) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	add := func(key string, raw json.RawMessage) error {
		if _, dup := out[key]; dup {
			return invalidArg("invalid_params", "user-defined value %q is given twice", truncate(key, 80))
		}
		out[key] = raw
		return nil
	}
	if p := strings.TrimSpace(deref(params)); p != "" && p != "null" {
		var list []struct {
			Key   *string         `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if len(p) > maxExtraBytes || json.Unmarshal([]byte(p), &list) != nil {
			return nil, invalidArg("invalid_params", "params must be a JSON list of {key, value} of at most %d bytes", maxExtraBytes)
		}
		for _, kv := range list {
			if kv.Key == nil || len(kv.Value) == 0 {
				return nil, invalidArg("invalid_params", "every member of params needs a key and a value")
			}
			if err := add(*kv.Key, kv.Value); err != nil {
				return nil, err
			}
		}
	}
	size := 0
	for _, kv := range udf {
		// A value that is not JSON text is refused by the use case, naming
		// its key and type.
		if size += len(kv.Key) + len(kv.Value); size > maxExtraBytes {
			return nil, invalidArg("invalid_profile", "profile.udf holds more than %d bytes", maxExtraBytes)
		}
		if err := add(kv.Key, json.RawMessage(kv.Value)); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// udvArgs are the arguments every UDV operation has. The SDKs send
// targetType USER and the caller's own id.
type udvArgs struct {
	TargetType string
	TargetID   string
}

func (r *resolver) Udv(ctx context.Context, args udvArgs) ([]*udvOut, error) {
	return r.udv(ctx, args, func(m auth.Meta, tok string) ([]auth.UDV, error) {
		return r.s.Data.ListUdv(ctx, m, tok)
	})
}

func (r *resolver) SetUdv(ctx context.Context, args struct {
	udvArgs
	Key, Value string
}) (*[]*udvOut, error) {
	out, err := r.udv(ctx, args.udvArgs, func(m auth.Meta, tok string) ([]auth.UDV, error) {
		return r.s.Data.SetUdv(ctx, m, tok, args.Key, json.RawMessage(args.Value))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *resolver) RemoveUdv(ctx context.Context, args struct {
	udvArgs
	Key string
}) (*[]*udvOut, error) {
	out, err := r.udv(ctx, args.udvArgs, func(m auth.Meta, tok string) ([]auth.UDV, error) {
		return r.s.Data.RemoveUdv(ctx, m, tok, args.Key)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// udv runs a UDV operation of the caller. Only the caller's own values are
// served: targetType must be USER and targetId the caller's id (2018
// otherwise), checked before anything changes.
func (r *resolver) udv(ctx context.Context, args udvArgs, do func(m auth.Meta, tok string) ([]auth.UDV, error)) ([]*udvOut, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	if args.TargetType != "USER" {
		return nil, invalidArg("invalid_argument", "only targetType USER is served")
	}
	m := r.s.meta(cl.r, "")
	st, err := r.s.Auth.CheckLoginStatus(ctx, m, cl.bearer)
	if err != nil {
		return nil, err
	}
	if !st.Status {
		return nil, userpool.Errorf(st.Code, reasonOf(st.Code), "%s", st.Message)
	}
	if args.TargetID != st.UserID {
		return nil, userpool.Errorf(userpool.CodeNoPermission, "no_permission", "an end user may read and change only their own user-defined values")
	}
	vs, err := do(m, cl.bearer)
	if err != nil {
		return nil, err
	}
	out, err := udvsOf(vs)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, u := range out {
		n += len(u.Key) + len(u.Value)
	}
	if err := cl.charge(n); err != nil {
		return nil, err
	}
	return out, nil
}
