package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// TestAuthingIntrospection serves the standard introspection query the
// Python SDK (gql 2 over graphql-core 2) sends before every call, and
// checks that the schema it describes has Authing's type names and every
// input field the SDKs send.
func TestAuthingIntrospection(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)
	q, err := os.ReadFile("testdata/introspection_graphqlcore2.graphql")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		QueryType    struct{ Name string }
		MutationType struct{ Name string }
		Types        []struct {
			Kind        string
			Name        string
			Fields      []struct{ Name string }
			InputFields []struct{ Name string }
			EnumValues  []struct{ Name string }
		}
	}
	c.gql(string(q), nil, "").field(t, "__schema", &schema)
	if schema.QueryType.Name != "Query" || schema.MutationType.Name != "Mutation" {
		t.Fatalf("root types %q %q", schema.QueryType.Name, schema.MutationType.Name)
	}
	names := func(kind, name string) []string {
		for _, ty := range schema.Types {
			if ty.Name != name {
				continue
			}
			if ty.Kind != kind {
				t.Fatalf("%s is a %s, want %s", name, ty.Kind, kind)
			}
			var out []string
			for _, f := range ty.Fields {
				out = append(out, f.Name)
			}
			for _, f := range ty.InputFields {
				out = append(out, f.Name)
			}
			for _, f := range ty.EnumValues {
				out = append(out, f.Name)
			}
			return out
		}
		t.Fatalf("type %s missing from the introspection answer", name)
		return nil
	}
	want := map[string][]string{
		"INPUT_OBJECT/RegisterByEmailInput":      {"email", "password", "profile", "forceLogin", "generateToken", "clientIp", "params", "context", "phoneToken"},
		"INPUT_OBJECT/RegisterByUsernameInput":   {"username", "password", "params", "context", "phoneToken", "emailToken"},
		"INPUT_OBJECT/RegisterByPhoneCodeInput":  {"phone", "code", "phoneCountryCode", "password", "emailToken"},
		"INPUT_OBJECT/LoginByEmailInput":         {"email", "password", "captchaCode", "autoRegister", "clientIp", "params", "context"},
		"INPUT_OBJECT/LoginByUsernameInput":      {"username", "password", "captchaCode"},
		"INPUT_OBJECT/LoginByPhoneCodeInput":     {"phone", "code", "phoneCountryCode", "autoRegister"},
		"INPUT_OBJECT/LoginByPhonePasswordInput": {"phone", "password", "captchaCode"},
		"INPUT_OBJECT/RegisterProfile":           {"ip", "formatted", "udf", "nickname"},
		"INPUT_OBJECT/UserDdfInput":              {"key", "value"},
		"INPUT_OBJECT/UpdateUserInput":           {"unionid", "openid", "mainDepartmentId", "expiredAt", "directManagement", "city"},
		"ENUM/EmailScene":                        {"RESET_PASSWORD", "VERIFY_EMAIL", "CHANGE_EMAIL", "MFA_VERIFY", "EMAIL_BIND_VERIFY_CODE", "INFORMATION_COMPLETION_VERIFY_CODE"},
		"ENUM/UDFTargetType":                     {"USER", "NODE", "APPLICATION"},
		"ENUM/UDFDataType":                       {"STRING", "NUMBER", "DATETIME", "BOOLEAN", "OBJECT", "SELECT"},
		"ENUM/UserStatus":                        {"Suspended", "Resigned", "Activated", "Archived"},
		"OBJECT/User":                            {"id", "arn", "password", "identities", "customData", "newlyCreated", "expiredAt", "directManagement", "externalId"},
		"OBJECT/Query":                           {"checkLoginStatus", "user", "udv"},
		"OBJECT/Mutation": {"registerByEmail", "registerByUsername", "registerByPhoneCode", "loginByEmail", "loginByUsername",
			"loginByPhoneCode", "loginByPhonePassword", "sendEmail", "resetPassword", "updateUser", "updatePassword", "updatePhone",
			"updateEmail", "refreshToken", "bindPhone", "unbindPhone", "setUdv", "removeUdv"},
	}
	for key, fields := range want {
		kind, name, _ := strings.Cut(key, "/")
		have := names(kind, name)
		for _, f := range fields {
			if !slices.Contains(have, f) {
				t.Errorf("%s lacks %s (has %v)", name, f, have)
			}
		}
	}
}

// TestAuthingDocumentsValidate sends every SDK document with variables that
// pass validation, and checks the answer is a coded business error or
// data, never a validation error: the schema accepts what the SDKs send.
func TestAuthingDocumentsValidate(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)
	input := map[string]any{"params": nil, "context": nil}
	vars := map[string]map[string]any{
		"registerByEmail":      {"input": merge(input, map[string]any{"email": "x@example.com", "password": "not-encrypted", "profile": map[string]any{}, "forceLogin": false, "generateToken": false, "phoneToken": nil})},
		"registerByUsername":   {"input": merge(input, map[string]any{"username": "x", "password": "not-encrypted", "profile": nil, "forceLogin": false, "generateToken": false, "clientIp": nil})},
		"registerByPhoneCode":  {"input": merge(input, map[string]any{"phone": "+15550100", "code": "1234", "profile": map[string]any{}, "forceLogin": false, "generateToken": false})},
		"loginByEmail":         {"input": merge(input, map[string]any{"email": "x@example.com", "password": "not-encrypted", "autoRegister": false, "captchaCode": nil, "clientIp": nil})},
		"loginByUsername":      {"input": merge(input, map[string]any{"username": "x", "password": "not-encrypted", "autoRegister": false})},
		"loginByPhoneCode":     {"input": merge(input, map[string]any{"phone": "+15550100", "code": "1234"})},
		"loginByPhonePassword": {"input": merge(input, map[string]any{"phone": "+15550100", "password": "not-encrypted", "autoRegister": false})},
		"checkLoginStatus":     {},
		"sendEmail":            {"email": "x@example.com", "scene": "RESET_PASSWORD"},
		"resetPassword":        {"email": "x@example.com", "code": "1234", "newPassword": "not-encrypted"},
		"updateUser":           {"id": "u", "input": map[string]any{"nickname": "n"}},
		"updatePassword":       {"newPassword": "not-encrypted"},
		"updatePhone":          {"phone": "+15550100", "phoneCode": "1234"},
		"updateEmail":          {"email": "x@example.com", "emailCode": "1234"},
		"refreshToken":         {},
		"bindPhone":            {"phone": "+15550100", "phoneCode": "1234"},
		"unbindPhone":          {},
		"user":                 {},
		"udv":                  {"targetType": "USER", "targetId": "u"},
		"setUdv":               {"targetType": "USER", "targetId": "u", "key": "k", "value": `"v"`},
		"removeUdv":            {"targetType": "USER", "targetId": "u", "key": "k"},
	}
	if len(vars) != 21 || len(docs) != 21 {
		t.Fatalf("want 21 root fields, have %d documents and %d variable sets", len(docs), len(vars))
	}
	for name, doc := range docs {
		a := c.gql(doc, vars[name], "stale.bearer.token")
		if a.Status != http.StatusOK {
			t.Errorf("%s: HTTP %d", name, a.Status)
			continue
		}
		if len(a.Errors) == 0 {
			continue // checkLoginStatus answers in data
		}
		code, msg := a.errObject(t)
		if code == 1001 {
			t.Errorf("%s: the document does not validate: %s", name, msg)
		}
		if _, ok := a.Data[name]; !ok && !strings.Contains(string(a.Raw), `"data":null`) {
			t.Errorf("%s: answer has neither data.%s nor data null: %s", name, name, a.Raw)
		}
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// sqliteURL is a fresh SQLite database for tests that need only one
// backend (the wire is the same whatever the store).
func sqliteURL(t *testing.T) string {
	return "sqlite:" + t.TempDir() + "/test.db"
}

// TestAuthingErrorShapes checks that every kind of failure is HTTP 200 with
// an object message: unknown fields, syntax errors, oversized and too deep
// documents, bad bodies, wrong methods, unknown paths, batching.
func TestAuthingErrorShapes(t *testing.T) {
	in := start(t, testConfig(sqliteURL(t)), nil)
	c := in.authing(t)

	a := c.gql("query { user { id nosuchfield } }", nil, "")
	if msg := a.wantCode(t, 1001); !strings.Contains(msg, "nosuchfield") {
		t.Errorf("unknown field message %q", msg)
	}
	if !strings.Contains(string(a.Raw), `"data":null`) {
		t.Errorf("a document that does not validate has data: %s", a.Raw)
	}
	c.gql("query { user { id ", nil, "").wantCode(t, 1001)
	c.gql("mutation { nosuchroot }", nil, "").wantCode(t, 1001)
	// Variables of the wrong type, and a missing required one.
	c.gql(docs["sendEmail"], map[string]any{"email": "x@example.com", "scene": "NOT_A_SCENE"}, "").wantCode(t, 1001)
	c.gql(docs["loginByEmail"], map[string]any{}, "").wantCode(t, 1001)

	// Too deep: introspection recursion past the depth limit.
	deep := "query { __schema { types { " + strings.Repeat("ofType { ", 20) + "name" + strings.Repeat(" }", 20) + " } } }"
	if msg := c.gql(deep, nil, "").wantCode(t, 1001); !strings.Contains(msg, "depth") {
		t.Errorf("deep query message %q", msg)
	}
	// Too long a document, and too large a body.
	long := "query { user { id " + strings.Repeat("nickname ", 3000) + "} }"
	c.gql(long, nil, "").wantCode(t, 1002)
	huge, _ := json.Marshal(map[string]any{"query": "{ user { id } }", "variables": map[string]any{"pad": strings.Repeat("x", 100<<10)}})
	st, raw := c.post("/graphql/v2", "application/json", huge, nil)
	(&gqlAnswer{Status: st, Raw: raw, Errors: decodeErrors(t, raw)}).wantCode(t, 1002)
	// Not JSON, empty, two objects, no query.
	for _, body := range []string{"not json", "", `{"query":"{ user { id } }"} {}`, `{"variables":{}}`} {
		st, raw := c.post("/graphql/v2", "application/json", []byte(body), nil)
		code := 1001
		if body == `{"variables":{}}` {
			code = 1003
		}
		(&gqlAnswer{Status: st, Raw: raw, Errors: decodeErrors(t, raw)}).wantCode(t, code)
	}
	// Aliased batching: only one business root field per request.
	batch := `mutation { a: refreshToken { token } b: refreshToken { token } }`
	a = c.gql(batch, nil, "")
	if a.Status != 200 || len(a.Errors) != 2 {
		t.Fatalf("batch: %s", a.Raw)
	}
	var codes []int
	for _, e := range a.Errors {
		var o struct{ Code int }
		_ = json.Unmarshal(e.Message, &o)
		codes = append(codes, o.Code)
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []int{1001, 2020}) {
		t.Errorf("batch codes %v, want one refused (1001) and one run (2020)", codes)
	}

	// Wrong method on GraphQL, unknown REST path, wrong REST method.
	req, _ := http.NewRequest(http.MethodGet, in.URL+"/graphql/v2", nil)
	st, raw = c.send(req)
	(&gqlAnswer{Status: st, Raw: raw, Errors: decodeErrors(t, raw)}).wantCode(t, 1007)
	if a := c.rest(http.MethodGet, "/api/v2/nope", nil, ""); a.Code != 1004 {
		t.Errorf("unknown path: %s", a.Raw)
	}
	if a := c.rest(http.MethodPost, "/api/v2/logout", map[string]any{}, ""); a.Code != 1007 {
		t.Errorf("wrong method: %s", a.Raw)
	}
	if a := c.rest(http.MethodGet, "/api/v2/users/me", nil, ""); a.Code != 2020 {
		t.Errorf("users/me without token: %s", a.Raw)
	}
	// The native API is untouched by the mounts.
	if resp, err := http.Get(in.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}
}

func decodeErrors(t *testing.T, raw []byte) []struct {
	Message   json.RawMessage `json:"message"`
	Locations []any           `json:"locations"`
	Path      []any           `json:"path"`
} {
	var a gqlAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return a.Errors
}

// TestAuthingPasswordTransport: passwords arrive RSA-encrypted with the
// key of .well-known, which replicas share; anything else is 2016 unless
// the pool allows plaintext.
func TestAuthingPasswordTransport(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, testConfig(dbURL), nil)
		c := in.authing(t)
		// A second replica on the same store serves the same key.
		in2 := start(t, testConfig(dbURL), nil)
		if k1, k2 := c.publicKey(), in2.authing(t).publicKey(); !k1.Equal(k2) {
			t.Fatal("two replicas serve different password keys")
		}
		c.registerEmail("rsa@example.com", "passw0rd!", nil)
		if a := c.loginEmail("rsa@example.com", "passw0rd!", ""); len(a.Errors) > 0 {
			t.Fatalf("login with an encrypted password: %s", a.Raw)
		}
		plain := func(pw string) *gqlAnswer {
			return c.gql(docs["loginByEmail"], map[string]any{"input": map[string]any{"email": "rsa@example.com", "password": pw}}, "")
		}
		plain("passw0rd!").wantCode(t, 2016)
		plain(base64.StdEncoding.EncodeToString(make([]byte, 256))).wantCode(t, 2016)
		plain("sm2:0123abcd").wantCode(t, 2016)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "p@example.com", "password": "definitely-not-base64!"}}, "").wantCode(t, 2016)
		c.loginEmail("nobody@example.com", "passw0rd!", "").wantCode(t, 2004)

		// The pool allows plaintext: accepted, and encrypted still works.
		if _, err := in.Srv.Store().UpdatePool(t.Context(), in.Srv.DefaultPoolID(), func(p *userpool.Pool) error {
			p.Settings.AllowPlaintextPassword = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if a := plain("passw0rd!"); len(a.Errors) > 0 {
			t.Fatalf("plaintext allowed: %s", a.Raw)
		}
		plain("wrong-password").wantCode(t, 2006)
		plain("sm2:0123abcd").wantCode(t, 2016)
		if a := c.loginEmail("rsa@example.com", "passw0rd!", ""); len(a.Errors) > 0 {
			t.Fatalf("encrypted with plaintext allowed: %s", a.Raw)
		}
	})
}

// TestAuthingHeaders: language, user pool, CORS.
func TestAuthingHeaders(t *testing.T) {
	cfg := testConfig(sqliteURL(t))
	cfg.CORSOrigins = []string{"https://app.example.com"}
	in := start(t, cfg, nil)
	c := in.authing(t)

	// x-authing-lang: Chinese by default and for zh-CN, English for en-US.
	for lang, want := range map[string]string{"": "用户不存在", "zh-CN": "用户不存在", "en-US": "user does not exist"} {
		c.header.Set("x-authing-lang", lang)
		if lang == "" {
			c.header.Del("x-authing-lang")
		}
		if msg := c.loginEmail("nobody@example.com", "passw0rd!", "").wantCode(t, 2004); msg != want {
			t.Errorf("lang %q: message %q, want %q", lang, msg, want)
		}
	}
	c.header.Del("x-authing-lang")

	// x-authing-userpool-id: absent is the default pool; an existing pool
	// is used; an unknown one is 2224 and creates nothing.
	other := &userpool.Pool{ID: "pool-b", Name: "B", Settings: userpool.DefaultPoolSettings(), CreatedAt: time.Now()}
	if err := in.Srv.Store().CreatePool(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	u := c.registerEmail("pool@example.com", "passw0rd!", nil)
	if u.UserPoolID != in.Srv.DefaultPoolID() {
		t.Fatalf("no pool header: pool %q", u.UserPoolID)
	}
	c.header.Set("x-authing-userpool-id", "pool-b")
	ub := c.registerEmail("pool@example.com", "passw0rd!", nil)
	if ub.UserPoolID != "pool-b" || !strings.HasPrefix(ub.Arn, "arn:cn:authing:pool-b:user:") {
		t.Fatalf("pool header: %+v", ub)
	}
	c.header.Set("x-authing-userpool-id", "no-such-pool")
	c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "x@example.com", "password": c.enc("passw0rd!")}}, "").wantCode(t, 2224)
	c.header.Del("x-authing-userpool-id")

	// CORS: an allowed origin is echoed with credentials; preflight names
	// the x-authing headers; another origin gets nothing.
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, in.URL+"/graphql/v2", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-authing-userpool-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	h := preflight("https://app.example.com")
	if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "x-authing-userpool-id") {
		t.Errorf("preflight from an allowed origin: %v", h)
	}
	if h := preflight("https://evil.example.com"); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight from another origin: %v", h)
	}
	req, _ := http.NewRequest(http.MethodGet, in.URL+"/api/v2/.well-known", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("simple request from an allowed origin: %v", resp.Header)
	}
}
