package udf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func TestParseAndDecode(t *testing.T) {
	t.Parallel()
	field := func(dt userpool.DataType) *userpool.Field { return &userpool.Field{Key: "k", DataType: dt} }
	ok := []struct {
		dt     userpool.DataType
		in     string
		stored string
		want   any
	}{
		{userpool.TypeString, `"hello"`, `"hello"`, "hello"},
		{userpool.TypeString, ` "" `, `""`, ""},
		{userpool.TypeString, `"<é>"`, `"\u003cé\u003e"`, "<é>"},
		{userpool.TypeNumber, `15`, `15`, 15.0},
		{userpool.TypeNumber, `-1.5e3`, `-1500`, -1500.0},
		{userpool.TypeNumber, `0.1`, `0.1`, 0.1},
		{userpool.TypeBoolean, `true`, `true`, true},
		{userpool.TypeBoolean, `false`, `false`, false},
		{userpool.TypeDatetime, `"2024-05-01T12:00:00+02:00"`, `"2024-05-01T10:00:00Z"`, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{userpool.TypeDatetime, `"2024-05-01T10:00:00.123456789Z"`, `"2024-05-01T10:00:00.123456789Z"`, time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)},
		{userpool.TypeDatetime, `1714557600123`, `"2024-05-01T10:00:00.123Z"`, time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)},
		{userpool.TypeDatetime, `-1000`, `"1969-12-31T23:59:59Z"`, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
		{userpool.TypeObject, `{ "a" : [1, {"b": null}] }`, `{"a":[1,{"b":null}]}`, json.RawMessage(`{"a":[1,{"b":null}]}`)},
		{userpool.TypeObject, `{}`, `{}`, json.RawMessage(`{}`)},
		{userpool.TypeObject, strings.Repeat(`{"a":[`, 16) + `"}]\\\"{["` + strings.Repeat(`]}`, 16), strings.Repeat(`{"a":[`, 16) + `"}]\\\"{["` + strings.Repeat(`]}`, 16), json.RawMessage(strings.Repeat(`{"a":[`, 16) + `"}]\\\"{["` + strings.Repeat(`]}`, 16))},
	}
	for _, tc := range ok {
		stored, err := Parse(field(tc.dt), []byte(tc.in))
		if err != nil {
			t.Errorf("Parse(%s, %s): %v", tc.dt, tc.in, err)
			continue
		}
		if stored != tc.stored {
			t.Errorf("Parse(%s, %s) stored %s, want %s", tc.dt, tc.in, stored, tc.stored)
		}
		got, err := Decode(tc.dt, stored)
		if err != nil {
			t.Errorf("Decode(%s, %s): %v", tc.dt, stored, err)
			continue
		}
		switch want := tc.want.(type) {
		case time.Time:
			if g, ok := got.(time.Time); !ok || !g.Equal(want) {
				t.Errorf("Decode(%s, %s) = %#v, want %v", tc.dt, stored, got, want)
			}
		case json.RawMessage:
			if g, ok := got.(json.RawMessage); !ok || string(g) != string(want) {
				t.Errorf("Decode(%s, %s) = %#v, want %s", tc.dt, stored, got, want)
			}
		default:
			if got != tc.want {
				t.Errorf("Decode(%s, %s) = %#v, want %#v", tc.dt, stored, got, tc.want)
			}
		}
	}

	bad := []struct {
		dt userpool.DataType
		in string
	}{
		{userpool.TypeString, `15`},
		{userpool.TypeString, `null`},
		{userpool.TypeString, `{"a":1}`},
		{userpool.TypeString, `"` + strings.Repeat("x", MaxStringLen+1) + `"`},
		{userpool.TypeNumber, `"abc"`},
		{userpool.TypeNumber, `"15"`},
		{userpool.TypeNumber, `1e400`},
		{userpool.TypeNumber, `true`},
		{userpool.TypeBoolean, `"true"`},
		{userpool.TypeBoolean, `1`},
		{userpool.TypeDatetime, `"yesterday"`},
		{userpool.TypeDatetime, `"2024-05-01"`},
		{userpool.TypeDatetime, `1.5`},
		{userpool.TypeDatetime, `9e15`},
		{userpool.TypeDatetime, `true`},
		{userpool.TypeObject, `[1, 2]`},
		{userpool.TypeObject, `null`},
		{userpool.TypeObject, `"{}"`},
		{userpool.TypeObject, `{"a": "` + strings.Repeat("x", MaxObjectBytes) + `"}`},
		{userpool.TypeObject, `{"a": `},
		{userpool.TypeObject, strings.Repeat(`{"a":[`, 17) + `1` + strings.Repeat(`]}`, 17)},
		{userpool.TypeNumber, ``},
	}
	for _, tc := range bad {
		_, err := Parse(&userpool.Field{Key: "age", DataType: tc.dt}, []byte(tc.in))
		var e *userpool.Error
		if !errors.As(err, &e) || e.Code != userpool.CodeFieldTypeMismatch {
			t.Errorf("Parse(%s, %.40s) = %v, want code %d", tc.dt, tc.in, err, userpool.CodeFieldTypeMismatch)
			continue
		}
		if !strings.Contains(e.Message, `"age"`) || !strings.Contains(e.Message, string(tc.dt)) || e.Data["key"] != "age" || e.Data["dataType"] != string(tc.dt) {
			t.Errorf("Parse(%s, %.40s) error %q %v does not name the key and type", tc.dt, tc.in, e.Message, e.Data)
		}
	}
}

func TestCheckDefinition(t *testing.T) {
	t.Parallel()
	f := &userpool.Field{Key: "favourite-color_2", DataType: "string"}
	if err := CheckDefinition(f); err != nil {
		t.Fatal(err)
	}
	if f.DataType != userpool.TypeString || f.Label != "favourite-color_2" {
		t.Fatalf("normalised definition: %+v", f)
	}
	for _, bad := range []userpool.Field{
		{Key: "", DataType: "STRING"},
		{Key: "1abc", DataType: "STRING"},
		{Key: "a b", DataType: "STRING"},
		{Key: "a/b", DataType: "STRING"},
		{Key: "é", DataType: "STRING"},
		{Key: strings.Repeat("a", MaxKeyLen+1), DataType: "STRING"},
		{Key: "ok", DataType: "INTEGER"},
		{Key: "ok", DataType: ""},
		{Key: "ok", DataType: "STRING", Label: strings.Repeat("l", MaxLabelLen+1)},
		{Key: "ok", DataType: "STRING", Description: strings.Repeat("d", MaxDescriptionLen+1)},
	} {
		if err := CheckDefinition(&bad); err == nil || userpool.AsError(err).Code != userpool.CodeInvalidArgument {
			t.Errorf("CheckDefinition(%+v) = %v, want code 1003", bad, err)
		}
	}
}
