package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
)

// authingClient speaks the Authing v4 wire protocol the way the official
// SDKs do (documents and selections of authing-js-sdk 4.23.55, see
// docs/AUTHING.md), so that the Go tests check the wire itself; the
// official JS SDK drives the same server in compat/authing-js.
type authingClient struct {
	t      testing.TB
	url    string
	header http.Header
	key    *rsa.PublicKey
}

func (in *instance) authing(t testing.TB) *authingClient {
	c := &authingClient{t: t, url: in.URL, header: http.Header{}}
	c.header.Set("x-authing-app-id", "app1")
	c.header.Set("x-authing-request-from", "sdk")
	c.header.Set("x-authing-sdk-version", "js:4.21.8")
	return c
}

// gqlAnswer is a GraphQL answer with Authing's error objects.
type gqlAnswer struct {
	Status int
	Data   map[string]json.RawMessage
	Errors []struct {
		Message   json.RawMessage `json:"message"`
		Locations []any           `json:"locations"`
		Path      []any           `json:"path"`
	}
	Raw []byte
}

// errObject is the first error's message object; it fails the test when
// the message is not an object, which the JS SDK would not understand.
func (a *gqlAnswer) errObject(t testing.TB) (code int, msg string) {
	t.Helper()
	if len(a.Errors) == 0 {
		t.Fatalf("want an error, got %s", a.Raw)
	}
	var o struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(a.Errors[0].Message, &o); err != nil || o.Code == nil || o.Message == nil {
		t.Fatalf("error message is not an object {code, message, data}: %s", a.Raw)
	}
	return *o.Code, *o.Message
}

func (a *gqlAnswer) wantCode(t testing.TB, code int) string {
	t.Helper()
	if a.Status != http.StatusOK {
		t.Fatalf("HTTP %d, want 200 for errors too: %s", a.Status, a.Raw)
	}
	got, msg := a.errObject(t)
	if got != code {
		t.Fatalf("want code %d, got %d (%s)", code, got, a.Raw)
	}
	return msg
}

// field decodes data.<name> into v and fails on any error.
func (a *gqlAnswer) field(t testing.TB, name string, v any) {
	t.Helper()
	if a.Status != http.StatusOK || len(a.Errors) > 0 {
		t.Fatalf("%s: HTTP %d, %s", name, a.Status, a.Raw)
	}
	if err := json.Unmarshal(a.Data[name], v); err != nil {
		t.Fatalf("%s: %v in %s", name, err, a.Raw)
	}
}

// post sends raw bytes to path and returns status and body.
func (c *authingClient) post(path, contentType string, body []byte, hdr http.Header) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	return c.send(req)
}

func (c *authingClient) send(req *http.Request) (int, []byte) {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// gql runs a document with variables; token "" sends no bearer.
func (c *authingClient) gql(doc string, vars map[string]any, token string) *gqlAnswer {
	c.t.Helper()
	body := map[string]any{"query": doc}
	if vars != nil {
		body["variables"] = vars
	}
	b, _ := json.Marshal(body)
	hdr := http.Header{}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	st, raw := c.post("/graphql/v2", "application/json", b, hdr)
	a := &gqlAnswer{Status: st, Raw: raw}
	if err := json.Unmarshal(raw, a); err != nil {
		c.t.Fatalf("answer is not JSON (HTTP %d): %s", st, raw)
	}
	return a
}

// restAnswer is the REST envelope.
type restAnswer struct {
	Status  int
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Raw     []byte
}

func (c *authingClient) rest(method, path string, body any, token string) *restAnswer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	st, raw := c.send(req)
	a := &restAnswer{Status: st, Raw: raw}
	if err := json.Unmarshal(raw, a); err != nil {
		c.t.Fatalf("%s %s: answer is not JSON (HTTP %d): %s", method, path, st, raw)
	}
	if st != http.StatusOK {
		c.t.Fatalf("%s %s: HTTP %d, want 200 always: %s", method, path, st, raw)
	}
	return a
}

// publicKey fetches and parses /api/v2/.well-known as the JS SDK does.
func (c *authingClient) publicKey() *rsa.PublicKey {
	c.t.Helper()
	if c.key != nil {
		return c.key
	}
	a := c.rest(http.MethodGet, "/api/v2/.well-known", nil, "")
	var d struct {
		PublicKey string `json:"publicKey"`
	}
	if a.Code != 200 || json.Unmarshal(a.Data, &d) != nil {
		c.t.Fatalf(".well-known: %s", a.Raw)
	}
	block, _ := pem.Decode([]byte(d.PublicKey))
	if block == nil || block.Type != "PUBLIC KEY" {
		c.t.Fatalf(".well-known publicKey is not an SPKI PEM: %q", d.PublicKey)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		c.t.Fatal(err)
	}
	c.key = k.(*rsa.PublicKey)
	return c.key
}

// enc encrypts a password as the SDKs do: RSA PKCS#1 v1.5, base64.
func (c *authingClient) enc(pw string) string {
	c.t.Helper()
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, c.publicKey(), []byte(pw))
	if err != nil {
		c.t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

// The selection sets of authing-js-sdk 4.23.55 (docs/AUTHING.md).
const selU0 = `id arn userPoolId status username email emailVerified phone phoneVerified unionid openid
nickname registerSource photo password oauth token tokenExpiredAt loginsCount lastLogin lastIP
signedUp blocked isDeleted device browser company name givenName familyName middleName profile
preferredUsername website gender birthdate zoneinfo locale address formatted streetAddress
locality region postalCode city province country createdAt updatedAt`

var (
	selReg   = "{ " + selU0 + " externalId phoneCountryCode }"
	selLogin = "{ " + selU0 + " externalId phoneCountryCode newlyCreated phoneCountryCode customData { key value dataType label } }"
	selUpd   = "{ " + selU0 + " externalId phoneCountryCode expiredAt directManagement }"
	selSmall = "{ " + selU0 + " phoneCountryCode }"
	selMe    = "{ " + strings.Replace(selU0, "phoneVerified", "phoneVerified identities { openid userIdInIdp userId connectionId isSocial provider type userPoolId extIdpId }", 1) +
		" externalId phoneCountryCode customData { key value dataType label } }"
	selUDV = "{ key dataType value label }"
)

// docs are the 21 operation documents of authing-js-sdk 4.23.55, by root
// field.
var docs = map[string]string{
	"registerByEmail":      "mutation registerByEmail($input: RegisterByEmailInput!) { registerByEmail(input: $input) " + selReg + " }",
	"registerByUsername":   "mutation registerByUsername($input: RegisterByUsernameInput!) { registerByUsername(input: $input) " + selReg + " }",
	"registerByPhoneCode":  "mutation registerByPhoneCode($input: RegisterByPhoneCodeInput!) { registerByPhoneCode(input: $input) " + selReg + " }",
	"loginByEmail":         "mutation loginByEmail($input: LoginByEmailInput!) { loginByEmail(input: $input) " + selLogin + " }",
	"loginByUsername":      "mutation loginByUsername($input: LoginByUsernameInput!) { loginByUsername(input: $input) " + selLogin + " }",
	"loginByPhoneCode":     "mutation loginByPhoneCode($input: LoginByPhoneCodeInput!) { loginByPhoneCode(input: $input) " + selLogin + " }",
	"loginByPhonePassword": "mutation loginByPhonePassword($input: LoginByPhonePasswordInput!) { loginByPhonePassword(input: $input) " + selLogin + " }",
	"checkLoginStatus":     "query checkLoginStatus($token: String) { checkLoginStatus(token: $token) { code message status exp iat data { id userPoolId arn } } }",
	"sendEmail":            "mutation sendEmail($email: String!, $scene: EmailScene!) { sendEmail(email: $email, scene: $scene) { message code } }",
	"resetPassword":        "mutation resetPassword($phone: String, $phoneCountryCode: String, $email: String, $code: String!, $newPassword: String!) { resetPassword(phone: $phone, phoneCountryCode: $phoneCountryCode, email: $email, code: $code, newPassword: $newPassword) { message code } }",
	"updateUser":           "mutation updateUser($id: String, $input: UpdateUserInput!, $emailToken: String, $phoneToken: String) { updateUser(id: $id, input: $input, emailToken: $emailToken, phoneToken: $phoneToken) " + selUpd + " }",
	"updatePassword":       "mutation updatePassword($newPassword: String!, $oldPassword: String) { updatePassword(newPassword: $newPassword, oldPassword: $oldPassword) " + selSmall + " }",
	"updatePhone":          "mutation updatePhone($phone: String!, $phoneCode: String!, $oldPhone: String, $oldPhoneCode: String, $phoneCountryCode: String, $oldPhoneCountryCode: String) { updatePhone(phone: $phone, phoneCode: $phoneCode, oldPhone: $oldPhone, oldPhoneCode: $oldPhoneCode, phoneCountryCode: $phoneCountryCode, oldPhoneCountryCode: $oldPhoneCountryCode) " + selSmall + " }",
	"updateEmail":          "mutation updateEmail($email: String!, $emailCode: String!, $oldEmail: String, $oldEmailCode: String) { updateEmail(email: $email, emailCode: $emailCode, oldEmail: $oldEmail, oldEmailCode: $oldEmailCode) " + selSmall + " }",
	"refreshToken":         "mutation refreshToken($id: String) { refreshToken(id: $id) { token iat exp } }",
	"bindPhone":            "mutation bindPhone($phone: String!, $phoneCode: String!, $phoneCountryCode: String) { bindPhone(phone: $phone, phoneCode: $phoneCode, phoneCountryCode: $phoneCountryCode) " + selSmall + " }",
	"unbindPhone":          "mutation unbindPhone { unbindPhone " + selSmall + " }",
	"user":                 "query user($id: String) { user(id: $id) " + selMe + " }",
	"udv":                  "query udv($targetType: UDFTargetType!, $targetId: String!) { udv(targetType: $targetType, targetId: $targetId) " + selUDV + " }",
	"setUdv":               "mutation setUdv($targetType: UDFTargetType!, $targetId: String!, $key: String!, $value: String!) { setUdv(targetType: $targetType, targetId: $targetId, key: $key, value: $value) " + selUDV + " }",
	"removeUdv":            "mutation removeUdv($targetType: UDFTargetType!, $targetId: String!, $key: String!) { removeUdv(targetType: $targetType, targetId: $targetId, key: $key) " + selUDV + " }",
}

// authingUser is the part of User the tests read.
type authingUser struct {
	ID             string  `json:"id"`
	Arn            string  `json:"arn"`
	UserPoolID     string  `json:"userPoolId"`
	Status         string  `json:"status"`
	Email          *string `json:"email"`
	Username       *string `json:"username"`
	Nickname       *string `json:"nickname"`
	Password       *string `json:"password"`
	Token          *string `json:"token"`
	TokenExpiredAt *string `json:"tokenExpiredAt"`
	LoginsCount    int     `json:"loginsCount"`
	NewlyCreated   *bool   `json:"newlyCreated"`
	Company        *string `json:"company"`
	CustomData     []any   `json:"customData"`
}

// registerEmail registers through the wire as the JS SDK does (profile {},
// forceLogin and generateToken false, params and context null).
func (c *authingClient) registerEmail(email, pw string, extra map[string]any) authingUser {
	c.t.Helper()
	in := map[string]any{"email": email, "password": c.enc(pw), "profile": map[string]any{}, "forceLogin": false, "generateToken": false, "params": nil, "context": nil}
	for k, v := range extra {
		in[k] = v
	}
	var u authingUser
	c.gql(docs["registerByEmail"], map[string]any{"input": in}, "").field(c.t, "registerByEmail", &u)
	return u
}

func (c *authingClient) loginEmail(email, pw, bearer string) *gqlAnswer {
	c.t.Helper()
	return c.gql(docs["loginByEmail"], map[string]any{"input": map[string]any{
		"email": email, "password": c.enc(pw), "autoRegister": false, "params": nil, "context": nil,
	}}, bearer)
}

func mustJSON(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
