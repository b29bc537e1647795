package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// The fuzz target below runs its seed corpus in every `go test`; explore
// further with
//
//	go test ./internal/httpapi -run '^$' -fuzz FuzzLoginRegisterDecoders -fuzztime 60s

var fuzzRoutes = []struct {
	path string
	into func() any
}{
	{"/api/v1/register/email", func() any { return new(api.RegisterByEmailRequest) }},
	{"/api/v1/register/username", func() any { return new(api.RegisterByUsernameRequest) }},
	{"/api/v1/login/email", func() any { return new(api.LoginByEmailRequest) }},
	{"/api/v1/login/username", func() any { return new(api.LoginByUsernameRequest) }},
}

// fuzzHandler is the real API over a real SQLite store, with cheap password
// hashing and failure detection off so that inputs reach the credential
// check.
func fuzzHandler(f *testing.F) http.Handler {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+f.TempDir()+"/fuzz.db")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	tokens, err := token.NewManager(ctx, st, "authpool", nil, token.Lifecycle{})
	if err != nil {
		f.Fatal(err)
	}
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	log := slog.New(slog.DiscardHandler)
	svc := auth.New(st, tokens, password.New(p, 2), auth.Config{Issuer: "authpool", CaptchaKey: []byte("fuzz")}, nil, log)
	set := userpool.DefaultPoolSettings()
	set.LoginFailureDetection = false
	if _, err := svc.EnsureDefaultPool(ctx, "", set); err != nil {
		f.Fatal(err)
	}
	return New(Deps{Auth: svc, JWKS: tokens.JWKS, Ready: st.Ping, Log: log}).Handler()
}

// FuzzLoginRegisterDecoders feeds arbitrary bodies to the login and
// register routes. The decoder alone must refuse bad input only with the
// coded errors 1001/1002 and decode good input stably; the whole route
// must never answer 5xx, and every error must be a coded body.
func FuzzLoginRegisterDecoders(f *testing.F) {
	for route, body := range []string{
		`{"email":"fuzz@example.com","password":"passw0rd!","profile":{"nickname":"Ф"},"options":{"forceLogin":true,"clientIp":"192.0.2.1"}}`,
		`{"username":"fuzzer","password":"passw0rd!","options":{"generateToken":true}}`,
		`{"email":"fuzz@example.com","password":"passw0rd!","options":{"captchaCode":"123456","captchaId":"x","autoRegister":true}}`,
		`{"username":"fuzzer","password":"wrong"}`,
		``, `null`, `[]`, `"x"`, `{}`, `{"email":1}`, `{"password":{"a":[1,2,{}]}}`,
		`{"email":"a@b.c","password":"p","options":{"clientIp":"::ffff:1.2.3.4%eth0"}}`,
		`{"email":"a@b.c","password":"p"}{}`, `{"email":"a@b.c","password":"p","x":1}`,
		`{"username":"\u0000\ud800","password":"\xff\xfe"}`, `{"email":"` + string(make([]byte, 300)) + `"}`,
		`{"profile":{"gender":"X","photo":1e999}}`, `{"options":{"forceLogin":"true"}}`,
		`{"email":"a@b.c","password":"passw0rd!","profile":null,"options":null}`,
		`{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{`, `{"email":"\"quoted\"@example.com","password":"longenough1"}`,
	} {
		f.Add(uint8(route), []byte(body))
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]

		// The decoder alone.
		v := rt.into()
		req := httptest.NewRequest(http.MethodPost, rt.path, bytes.NewReader(body))
		err := decode(httptest.NewRecorder(), req, v)
		if err != nil {
			var e *userpool.Error
			if !errors.As(err, &e) || (e.Code != userpool.CodeBadRequest && e.Code != userpool.CodeBodyTooLarge) || e.Message == "" {
				t.Fatalf("decode error %v (%T), want a coded 1001/1002", err, err)
			}
		} else {
			// What decodes re-encodes and decodes to the same value.
			again := rt.into()
			b, merr := json.Marshal(v)
			if merr != nil {
				t.Fatalf("re-encode: %v", merr)
			}
			if derr := json.Unmarshal(b, again); derr != nil || !reflect.DeepEqual(v, again) {
				t.Fatalf("round trip changed %+v into %+v (%v)", v, again, derr)
			}
		}

		// The whole route.
		rec := httptest.NewRecorder()
		req = httptest.NewRequest(http.MethodPost, rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", rt.path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var eb api.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == 0 || eb.Reason == "" || eb.Message == "" {
				t.Fatalf("%s answered %d with an uncoded body: %s", rt.path, rec.Code, rec.Body)
			}
			return
		}
		var u api.User
		if err := json.Unmarshal(rec.Body.Bytes(), &u); err != nil || u.ID == "" {
			t.Fatalf("%s answered %d with %s", rt.path, rec.Code, rec.Body)
		}
	})
}
