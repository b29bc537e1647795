package authingcompat

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// TestDecryptShortCiphertext: jsencrypt (bundled in the JS SDK) drops the
// leading zero bytes of a ciphertext; such a ciphertext still decrypts.
func TestDecryptShortCiphertext(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{key: key}
	size := key.Size()
	// About one ciphertext in 200 starts with a zero byte: encrypt until
	// one does.
	var short []byte
	for range 20000 {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, []byte("passw0rd!"))
		if err != nil {
			t.Fatal(err)
		}
		if ct[0] == 0 {
			short = new(big.Int).SetBytes(ct).Bytes() // as jsencrypt writes it
			break
		}
	}
	if short == nil {
		t.Fatal("no ciphertext with a leading zero byte in 20000 tries")
	}
	if len(short) >= size {
		t.Fatalf("short ciphertext has %d bytes", len(short))
	}
	if pw, ok := s.decrypt(base64.StdEncoding.EncodeToString(short)); !ok || pw != "passw0rd!" {
		t.Fatalf("decrypt short ciphertext: %q %v", pw, ok)
	}
	// Far too short, or too long, is not ours.
	for _, n := range []int{size - maxShortBy - 1, size + 1, 1} {
		if _, ok := s.decrypt(base64.StdEncoding.EncodeToString(make([]byte, n))); ok {
			t.Errorf("%d bytes decrypted", n)
		}
	}
}

func TestWithCountryCode(t *testing.T) {
	cc := func(s string) *string { return &s }
	for _, tc := range []struct {
		phone string
		cc    *string
		want  string
		code  userpool.Code
	}{
		{"13800138000", nil, "13800138000", 0},
		{"13800138000", cc(""), "13800138000", 0},
		{"13800138000", cc("+86"), "+8613800138000", 0},
		{" 13800138000 ", cc("86"), "+8613800138000", 0},
		{"+8613800138000", cc("+86"), "+8613800138000", 0},
		{"+12015550123", nil, "+12015550123", 0},
		{"+12015550123", cc("+86"), "", userpool.CodeInvalidArgument},
		{"13800138000", cc("+86a"), "", userpool.CodeInvalidArgument},
		{"13800138000", cc("+12345"), "", userpool.CodeInvalidArgument},
	} {
		got, err := withCountryCode(tc.phone, tc.cc)
		if tc.code != 0 {
			if userpool.AsError(err).Code != tc.code {
				t.Errorf("%q %v: err %v, want code %d", tc.phone, deref(tc.cc), err, tc.code)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %v: %q %v, want %q", tc.phone, deref(tc.cc), got, err, tc.want)
		}
	}
}

// TestWireValue: values leave as the SDKs decode them.
func TestWireValue(t *testing.T) {
	at := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"华中科技大学", "华中科技大学"},
		{`"quoted"`, `"quoted"`},
		{20.0, "20"},
		{0.5, "0.5"},
		{1e21, "1e+21"},
		{true, "true"},
		{at, "1700000000000"},
		{json.RawMessage(`{"ok":"good"}`), `{"ok":"good"}`},
	} {
		got, err := wireValue(auth.UDV{Key: "k", Value: tc.v})
		if err != nil || got != tc.want {
			t.Errorf("%#v: %q %v, want %q", tc.v, got, err, tc.want)
		}
	}
	if _, err := wireValue(auth.UDV{Key: "k", Value: 3}); userpool.AsError(err).Code != userpool.CodeInternal {
		t.Errorf("an unknown Go type: %v", err)
	}
}

func TestCustomData(t *testing.T) {
	p := func(s string) *string { return &s }
	got, err := customData(p(`[{"key":"age","value":20},{"key":"school","value":"MIT"}]`), []userDdfInput{{Key: "ok", Value: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got["age"]) != "20" || string(got["school"]) != `"MIT"` || string(got["ok"]) != "true" {
		t.Fatalf("customData: %s", got)
	}
	for _, v := range []*string{nil, p(""), p("null"), p("[]")} {
		if got, err := customData(v, nil); err != nil || got != nil {
			t.Errorf("params %v: %v %v", deref(v), got, err)
		}
	}
	for _, bad := range []string{`{}`, `[1]`, `[{"value":1}]`, `[{"key":"a"}]`, `[{"key":"a","value":1},{"key":"a","value":2}]`, "[" + strings.Repeat(`{"key":"a","value":1},`, 1000) + "]"} {
		if _, err := customData(p(bad), nil); userpool.AsError(err).Reason != "invalid_params" {
			t.Errorf("params %.40s: %v", bad, err)
		}
	}
	if _, err := customData(p(`[{"key":"a","value":1}]`), []userDdfInput{{Key: "a", Value: "2"}}); err == nil {
		t.Error("a key in params and profile.udf")
	}
	if _, err := customData(nil, []userDdfInput{{Key: "a", Value: strings.Repeat("x", maxExtraBytes)}}); err == nil {
		t.Error("an oversized profile.udf")
	}
}

func TestRequestContext(t *testing.T) {
	p := func(s string) *string { return &s }
	got, err := requestContext(p(`{"source":"web","n":1}`))
	if err != nil || got["source"] != "web" || got["n"] != 1.0 {
		t.Fatalf("context: %v %v", got, err)
	}
	for _, v := range []*string{nil, p(""), p(" null ")} {
		if got, err := requestContext(v); err != nil || got != nil {
			t.Errorf("context %v: %v %v", deref(v), got, err)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `{`, `{"a":` + strings.Repeat(`"x`, maxExtraBytes) + `"}`} {
		if _, err := requestContext(p(bad)); userpool.AsError(err).Reason != "invalid_context" {
			t.Errorf("context %.40s: %v", bad, err)
		}
	}
}
