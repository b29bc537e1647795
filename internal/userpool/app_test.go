package userpool

import (
	"strings"
	"testing"
	"time"
)

func TestMatchRedirectURI(t *testing.T) {
	web := &App{Type: AppWeb, RedirectURIs: []string{
		"https://app.example.com/callback",
		"https://app.example.com:8443/cb?tenant=1",
		"https://app.example.com/a%2Fb",
	}}
	native := &App{Type: AppNative, RedirectURIs: []string{
		"http://127.0.0.1/callback",
		"http://[::1]:4000/cb",
		"http://localhost/done?x=1",
		"com.example.app:/oauth",
		"https://app.example.com/native",
	}}
	machine := &App{Type: AppMachine, RedirectURIs: []string{"https://app.example.com/callback"}}
	tests := []struct {
		name string
		app  *App
		uri  string
		want bool
	}{
		{"web exact", web, "https://app.example.com/callback", true},
		{"web exact with port and query", web, "https://app.example.com:8443/cb?tenant=1", true},
		{"web encoded exact", web, "https://app.example.com/a%2Fb", true},
		{"web prefix (longer path)", web, "https://app.example.com/callback/evil", false},
		{"web prefix (suffix in host)", web, "https://app.example.com.evil.net/callback", false},
		{"web shorter", web, "https://app.example.com/callbac", false},
		{"web trailing slash", web, "https://app.example.com/callback/", false},
		{"web extra query", web, "https://app.example.com/callback?x=1", false},
		{"web empty query", web, "https://app.example.com/callback?", false},
		{"web fragment", web, "https://app.example.com/callback#x", false},
		{"web upper-case host", web, "https://APP.example.com/callback", false},
		{"web upper-case scheme", web, "HTTPS://app.example.com/callback", false},
		{"web upper-case path", web, "https://app.example.com/Callback", false},
		{"web userinfo", web, "https://evil@app.example.com/callback", false},
		{"web userinfo host confusion", web, "https://app.example.com@evil.net/callback", false},
		{"web decoded differs", web, "https://app.example.com/a/b", false},
		{"web encoded letter", web, "https://app.example.com/%63allback", false},
		{"web lower-case escape", web, "https://app.example.com/a%2fb", false},
		{"web other port", web, "https://app.example.com:444/callback", false},
		{"web default port spelled", web, "https://app.example.com:443/callback", false},
		{"web port dropped", web, "https://app.example.com/cb?tenant=1", false},
		{"web http downgrade", web, "http://app.example.com/callback", false},
		{"web dot segment", web, "https://app.example.com/x/../callback", false},
		{"web empty", web, "", false},
		{"web loopback any port not for web", &App{Type: AppWeb, RedirectURIs: []string{"http://127.0.0.1/cb"}}, "http://127.0.0.1:5000/cb", false},
		{"spa loopback any port not for spa", &App{Type: AppSPA, RedirectURIs: []string{"http://localhost/cb"}}, "http://localhost:5000/cb", false},
		{"web NUL appended", web, "https://app.example.com/callback\x00", false},
		{"web space appended", web, "https://app.example.com/callback ", false},

		{"native loopback exact", native, "http://127.0.0.1/callback", true},
		{"native loopback any port", native, "http://127.0.0.1:51234/callback", true},
		{"native loopback port 1", native, "http://127.0.0.1:1/callback", true},
		{"native loopback port 65535", native, "http://127.0.0.1:65535/callback", true},
		{"native loopback port 0", native, "http://127.0.0.1:0/callback", false},
		{"native loopback port too big", native, "http://127.0.0.1:65536/callback", false},
		{"native loopback port leading zero", native, "http://127.0.0.1:08080/callback", false},
		{"native loopback port sign", native, "http://127.0.0.1:+80/callback", false},
		{"native loopback empty port", native, "http://127.0.0.1:/callback", false},
		{"native loopback letters in port", native, "http://127.0.0.1:80a/callback", false},
		{"native loopback other path", native, "http://127.0.0.1:5000/callback2", false},
		{"native loopback trailing slash", native, "http://127.0.0.1:5000/callback/", false},
		{"native loopback query added", native, "http://127.0.0.1:5000/callback?x", false},
		{"native loopback fragment", native, "http://127.0.0.1:5000/callback#f", false},
		{"native loopback userinfo", native, "http://user@127.0.0.1:5000/callback", false},
		{"native loopback other host", native, "http://127.0.0.2:5000/callback", false},
		{"native loopback host swapped", native, "http://localhost:5000/callback", false},
		{"native loopback https", native, "https://127.0.0.1:5000/callback", false},
		{"native loopback upper-case scheme", native, "HTTP://127.0.0.1:5000/callback", false},
		{"native ipv6 registered port ignored", native, "http://[::1]:9999/cb", true},
		{"native ipv6 without port", native, "http://[::1]/cb", true},
		{"native ipv6 unbracketed", native, "http://::1:9999/cb", false},
		{"native localhost any port", native, "http://localhost:8080/done?x=1", true},
		{"native localhost upper case", native, "http://LOCALHOST:8080/done?x=1", false},
		{"native localhost query differs", native, "http://localhost:8080/done?x=2", false},
		{"native localhost encoded path", native, "http://localhost:8080/%64one?x=1", false},
		{"native custom scheme exact", native, "com.example.app:/oauth", true},
		{"native custom scheme prefix", native, "com.example.app:/oauth/x", false},
		{"native custom scheme case", native, "com.Example.app:/oauth", false},
		{"native https exact", native, "https://app.example.com/native", true},
		{"native https other port", native, "https://app.example.com:8443/native", false},
		{"machine never", machine, "https://app.example.com/callback", false},
		{"nil app", nil, "https://app.example.com/callback", false},
	}
	for _, tc := range tests {
		if got := MatchRedirectURI(tc.app, tc.uri); got != tc.want {
			t.Errorf("%s: MatchRedirectURI(%q) = %t, want %t", tc.name, tc.uri, got, tc.want)
		}
	}
	// The post-logout list is its own list.
	a := &App{Type: AppNative, RedirectURIs: []string{"http://127.0.0.1/cb"}, PostLogoutRedirectURIs: []string{"http://127.0.0.1/bye"}}
	if MatchPostLogoutRedirectURI(a, "http://127.0.0.1:3000/cb") || !MatchPostLogoutRedirectURI(a, "http://127.0.0.1:3000/bye") || MatchRedirectURI(a, "http://127.0.0.1/bye") {
		t.Error("redirect and post-logout lists are mixed up")
	}
}

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		typ  AppType
		uri  string
		ok   bool
		want string // in the message when refused
	}{
		{AppWeb, "https://app.example.com/callback", true, ""},
		{AppWeb, "https://app.example.com:8443/cb?x=1&y=%20", true, ""},
		{AppWeb, "https://192.0.2.7/cb", true, ""},
		{AppWeb, "https://[2001:db8::1]:8443/cb", true, ""},
		{AppWeb, "https://app.example.com", true, ""},
		{AppSPA, "https://spa.example.com/", true, ""},
		{AppWeb, "http://app.example.com/callback", false, "https"},
		{AppWeb, "http://localhost:3000/callback", false, "https"},
		{AppSPA, "http://127.0.0.1/cb", false, "https"},
		{AppWeb, "https://*.example.com/cb", false, "host"},
		{AppWeb, "https://app.example.com/cb*", true, ""}, // '*' in a path is a character like any other: exact match
		{AppWeb, "https://APP.example.com/cb", false, "lower-case"},
		{AppWeb, "HTTPS://app.example.com/cb", false, "lower-case"},
		{AppWeb, "https://app.example.com/cb#frag", false, "fragment"},
		{AppWeb, "https://app.example.com/cb#", false, "fragment"},
		{AppWeb, "https://user:pw@app.example.com/cb", false, "user information"},
		{AppWeb, "https://app.example.com:0/cb", false, "port"},
		{AppWeb, "https://app.example.com:99999/cb", false, "port"},
		{AppWeb, "https://app.example.com:/cb", false, "port"},
		{AppWeb, "https:///cb", false, "host"},
		{AppWeb, "https:app.example.com/cb", false, "host"},
		{AppWeb, "https://-bad.example.com/cb", false, "host"},
		{AppWeb, "https://app..example.com/cb", false, "host"},
		{AppWeb, "/callback", false, "absolute"},
		{AppWeb, "app.example.com/callback", false, "absolute"},
		{AppWeb, "", false, "empty"},
		{AppWeb, "https://app.example.com/" + strings.Repeat("a", MaxAppURIBytes), false, "at most"},
		{AppWeb, "https://app.example.com/c b", false, "ASCII"},
		{AppWeb, "https://app.example.com/cb\n", false, "ASCII"},
		{AppWeb, "https://app.example.com/cb\x00", false, "ASCII"},
		{AppWeb, "https://app.example.com/\\evil.net", false, "ASCII"},
		{AppWeb, "https://app.example.com/<script>", false, "ASCII"},
		{AppWeb, "https://app.example.com/%zz", false, "ASCII"},
		{AppWeb, "https://app.example.com/%4", false, "ASCII"},
		{AppWeb, "https://bücher.example/cb", false, "ASCII"},
		{AppWeb, "https://app.example.com/\u202e", false, "ASCII"},
		{AppWeb, "javascript:alert(1)", false, "never"},
		{AppWeb, "javascript://app.example.com/%0aalert(1)", false, "never"},
		{AppNative, "javascript:alert(1)", false, "never"},
		{AppNative, "data:text/html,hi", false, "never"},
		{AppNative, "vbscript:msgbox", false, "never"},
		{AppNative, "file:///etc/passwd", false, "never"},
		{AppSPA, "data:text/html;base64,PHNjcmlwdD4=", false, "never"},
		{AppWeb, "com.example.app:/cb", false, "https"},
		{AppNative, "com.example.app:/cb", true, ""},
		{AppNative, "com.example.app://callback", true, ""},
		{AppNative, "myapp://callback", false, "reverse domain"},
		{AppNative, "com.example.app:", false, "path"},
		{AppNative, "1com.example:/cb", false, "scheme"},
		{AppNative, "http://127.0.0.1/callback", true, ""},
		{AppNative, "http://127.0.0.1:8080/callback", true, ""},
		{AppNative, "http://[::1]/callback", true, ""},
		{AppNative, "http://localhost/callback", true, ""},
		{AppNative, "http://localhost.evil.net/callback", false, "loopback"},
		{AppNative, "http://127.0.0.1.nip.io/cb", false, "loopback"},
		{AppNative, "http://app.example.com/callback", false, "loopback"},
		{AppNative, "http://evil@127.0.0.1/callback", false, "user information"},
		{AppNative, "https://app.example.com/native", true, ""},
		{AppMachine, "https://app.example.com/callback", false, "machine"},
	}
	for _, tc := range tests {
		err := ValidateRedirectURI(tc.typ, tc.uri)
		if tc.ok != (err == nil) {
			t.Errorf("%s %q: %v, want ok=%t", tc.typ, tc.uri, err, tc.ok)
			continue
		}
		if err != nil {
			e := err.(*Error)
			if e.Code != CodeInvalidArgument || !strings.Contains(e.Message, tc.want) {
				t.Errorf("%s %q: %v, want a 1003 mentioning %q", tc.typ, tc.uri, err, tc.want)
			}
		}
	}
}

func TestValidateApp(t *testing.T) {
	good := func() *App {
		a := &App{Name: "Shop", Type: AppWeb, RedirectURIs: []string{"https://shop.example.com/cb"}, SecretHash: make([]byte, 32)}
		NormalizeApp(a)
		return a
	}
	if err := ValidateApp(good()); err != nil {
		t.Fatalf("good app: %v", err)
	}
	a := good()
	if a.AccessTokenTTL != DefaultAccessTokenTTL || a.IDTokenTTL != DefaultIDTokenTTL || a.RefreshTokenTTL != DefaultRefreshTokenTTL ||
		strings.Join(a.Scopes, " ") != "email openid profile" || a.PostLogoutRedirectURIs == nil {
		t.Errorf("defaults: %+v", a)
	}
	m := &App{Name: "Batch", Type: AppMachine, SecretHash: make([]byte, 32)}
	NormalizeApp(m)
	if len(m.Scopes) != 0 || ValidateApp(m) != nil {
		t.Errorf("machine defaults: %+v %v", m, ValidateApp(m))
	}
	d := &App{Scopes: []string{"openid", "email", "openid"}}
	NormalizeApp(d)
	if strings.Join(d.Scopes, " ") != "email openid" {
		t.Errorf("scopes not sorted and unique: %v", d.Scopes)
	}

	many := make([]string, MaxAppRedirectURIs+1)
	for i := range many {
		many[i] = "https://shop.example.com/cb" + strings.Repeat("x", i)
	}
	manyScopes := make([]string, MaxAppScopes+1)
	for i := range manyScopes {
		manyScopes[i] = "s" + strings.Repeat("x", i)
	}
	tests := []struct {
		name, reason string
		edit         func(*App)
	}{
		{"empty name", "invalid_name", func(a *App) { a.Name = "" }},
		{"blank name", "invalid_name", func(a *App) { a.Name = "   " }},
		{"padded name", "invalid_name", func(a *App) { a.Name = " Shop" }},
		{"long name", "invalid_name", func(a *App) { a.Name = strings.Repeat("名", MaxAppNameRunes+1) }},
		{"control in name", "invalid_name", func(a *App) { a.Name = "Sh\x00op" }},
		{"newline in name", "invalid_name", func(a *App) { a.Name = "Sh\nop" }},
		{"right-to-left override in name", "invalid_name", func(a *App) { a.Name = "Shop\u202egoogle" }},
		{"zero-width joiner in name", "invalid_name", func(a *App) { a.Name = "Sh\u200dop" }},
		{"invalid UTF-8 name", "invalid_name", func(a *App) { a.Name = "Sh\xffop" }},
		{"unknown type", "invalid_app_type", func(a *App) { a.Type = "server" }},
		{"empty type", "invalid_app_type", func(a *App) { a.Type = "" }},
		{"upper-case type", "invalid_app_type", func(a *App) { a.Type = "WEB" }},
		{"too many redirect URIs", "invalid_redirect_uri", func(a *App) { a.RedirectURIs = many }},
		{"too many logout URIs", "invalid_redirect_uri", func(a *App) { a.PostLogoutRedirectURIs = many }},
		{"duplicate redirect URI", "invalid_redirect_uri", func(a *App) {
			a.RedirectURIs = []string{"https://shop.example.com/cb", "https://shop.example.com/cb"}
		}},
		{"bad logout URI", "invalid_redirect_uri", func(a *App) { a.PostLogoutRedirectURIs = []string{"javascript:alert(1)"} }},
		{"machine with redirect", "invalid_redirect_uri", func(a *App) { a.Type = AppMachine; a.Scopes = nil }},
		{"too many scopes", "invalid_scope", func(a *App) { a.Scopes = manyScopes }},
		{"scope with space", "invalid_scope", func(a *App) { a.Scopes = []string{"openid email"} }},
		{"empty scope", "invalid_scope", func(a *App) { a.Scopes = []string{""} }},
		{"scope with quote", "invalid_scope", func(a *App) { a.Scopes = []string{`a"b`} }},
		{"scope starting with dash", "invalid_scope", func(a *App) { a.Scopes = []string{"-x"} }},
		{"long scope", "invalid_scope", func(a *App) { a.Scopes = []string{strings.Repeat("s", MaxAppScopeBytes+1)} }},
		{"unicode scope", "invalid_scope", func(a *App) { a.Scopes = []string{"ordérs"} }},
		{"machine with openid", "invalid_scope", func(a *App) {
			a.Type, a.RedirectURIs, a.PostLogoutRedirectURIs, a.Scopes = AppMachine, nil, nil, []string{"openid"}
		}},
		{"machine with offline_access", "invalid_scope", func(a *App) {
			a.Type, a.RedirectURIs, a.PostLogoutRedirectURIs, a.Scopes = AppMachine, nil, nil, []string{"offline_access"}
		}},
		{"access TTL too short", "invalid_token_ttl", func(a *App) { a.AccessTokenTTL = time.Second }},
		{"access TTL too long", "invalid_token_ttl", func(a *App) { a.AccessTokenTTL = 25 * time.Hour }},
		{"access TTL negative", "invalid_token_ttl", func(a *App) { a.AccessTokenTTL = -time.Hour }},
		{"access TTL fractional", "invalid_token_ttl", func(a *App) { a.AccessTokenTTL = time.Hour + time.Millisecond }},
		{"ID TTL too long", "invalid_token_ttl", func(a *App) { a.IDTokenTTL = 48 * time.Hour }},
		{"refresh TTL too short", "invalid_token_ttl", func(a *App) { a.RefreshTokenTTL = time.Minute }},
		{"refresh TTL too long", "invalid_token_ttl", func(a *App) { a.RefreshTokenTTL = 366 * 24 * time.Hour }},
		{"web without secret", "invalid_secret", func(a *App) { a.SecretHash = nil }},
		{"spa with secret", "invalid_secret", func(a *App) { a.Type = AppSPA }},
	}
	for _, tc := range tests {
		a := good()
		tc.edit(a)
		err := ValidateApp(a)
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalidArgument || e.Reason != tc.reason {
			t.Errorf("%s: %v, want a 1003 %s", tc.name, err, tc.reason)
		}
	}
	a = good()
	a.RefreshTokenTTL = time.Minute
	if err := ValidateApp(a); err == nil || !strings.Contains(err.Error(), "between 1h and 8760h") {
		t.Errorf("refresh TTL message: %v", err)
	}
	custom := good()
	custom.Scopes = []string{"orders:read", "api.write", "A_b-1", "openid", "offline_access", "phone", "address"}
	if err := ValidateApp(custom); err != nil {
		t.Errorf("custom scopes: %v", err)
	}
}
