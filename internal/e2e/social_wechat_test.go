package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authpool/authpool/client"
)

// wechatStandIn answers in WeChat's documented shapes (网站应用微信登录):
// the QR page redirects with code and state; the token and userinfo
// calls are GETs with the app's appid and secret in the query, and every
// answer is HTTP 200, an error being {errcode, errmsg}. The code the
// "user" scans with is *code; "wx-code" works once (then 40163), anything
// else is 40029. userinfo is the userinfo answer.
func wechatStandIn(t *testing.T, code *atomic.Value, token, userinfo string) *httptest.Server {
	mux := http.NewServeMux()
	var used atomic.Bool
	mux.HandleFunc("GET /connect/qrconnect", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("appid") != "wx-app" || q.Get("response_type") != "code" || q.Get("scope") != "snsapi_login" || q.Get("state") == "" {
			http.Error(w, "bad qrconnect request: "+r.URL.RawQuery, 400)
			return
		}
		u, _ := url.Parse(q.Get("redirect_uri"))
		u.RawQuery = url.Values{"code": {code.Load().(string)}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	answer := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/plain") // WeChat's content type, JSON inside
		_, _ = w.Write([]byte(body))
	}
	mux.HandleFunc("GET /sns/oauth2/access_token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("appid") != "wx-app" || q.Get("secret") != "wx-secret":
			answer(w, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
		case q.Get("grant_type") != "authorization_code" || q.Get("code") != "wx-code":
			answer(w, `{"errcode":40029,"errmsg":"invalid code, rid: 6572a1b2-4c2f8e1a-5d3b7f0c"}`)
		case used.Swap(true):
			answer(w, `{"errcode":40163,"errmsg":"code been used, rid: 6572a1b2-0a1b2c3d-4e5f6a7b"}`)
		default:
			answer(w, token)
		}
	})
	mux.HandleFunc("GET /sns/userinfo", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("access_token") != "ACCESS_TOKEN_wx" || q.Get("openid") != "oWx-openid-1" {
			answer(w, `{"errcode":40003,"errmsg":"invalid openid"}`)
			return
		}
		answer(w, userinfo)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

const (
	wechatToken        = `{"access_token":"ACCESS_TOKEN_wx","expires_in":7200,"refresh_token":"REFRESH_wx","openid":"oWx-openid-1","scope":"snsapi_login","unionid":"uWx-union-1"}`
	wechatTokenNoUnion = `{"access_token":"ACCESS_TOKEN_wx","expires_in":7200,"refresh_token":"REFRESH_wx","openid":"oWx-openid-1","scope":"snsapi_login"}`
	// A userinfo answer as WeChat documents it, plus an email and a
	// verified flag WeChat never sends: a hostile or broken upstream must
	// not make them the account's or link by them.
	wechatUserinfo = `{"openid":"oWx-openid-1","nickname":"小明","sex":1,"province":"广东","city":"广州","country":"中国","headimgurl":"https://thirdwx.qlogo.cn/mmopen/g3MonUZtNHkdmzicIlibx6iaFqAc56vxLSUfpb6n5WKSYVY0ChQKkiaJSgQ1dZuTOgvLLrhJbERQQ4eMsv84eavHiaiceqxibJxCfHe/0","privilege":["PRIVILEGE1"],"unionid":"uWx-union-1","email":"victim@example.com","email_verified":true}`
)

// TestSocialWeChat: the wechat preset's QR login against a stand-in: the
// authorize URL WeChat wants (fragment #wechat_redirect), the subject is
// the unionid (else the openid), no email ever (an existing account with
// the email a hostile answer names is neither linked nor touched), and
// WeChat's 200-with-errcode answers (40029 invalid code, 40163 code used,
// a userinfo for another openid) end in 2802 with nothing created.
func TestSocialWeChat(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		down := start(t, adminConfig(dbURL), nil)
		must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect}}))
		must[*client.User](t)(down.client().RegisterByEmail(ctx, "victim@example.com", "Owner-pass-9876", nil, nil))
		s := &socialSetup{down: down}
		var code atomic.Value
		code.Store("wx-code")
		create := func(id string, wx *httptest.Server) {
			must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
				ID: id, Type: client.ConnectorWeChat, Label: "微信", ClientID: "wx-app", ClientSecret: "wx-secret",
				AuthURL: wx.URL + "/connect/qrconnect", TokenURL: wx.URL + "/sns/oauth2/access_token", UserInfoURL: wx.URL + "/sns/userinfo",
			}))
		}
		signIn := func(id string, wx *httptest.Server) (*client.AuthenticationClient, *client.User, error) {
			b := newSocialBrowser(t, s)
			b.stopAtHost = strings.TrimPrefix(wx.URL, "http://")
			p := b.get(down.client().BuildSocialAuthorizeURL(id, socialAppRedirect, ""))
			if !strings.HasSuffix(p.Location, "#wechat_redirect") || !strings.HasPrefix(p.Location, wx.URL+"/connect/qrconnect?appid=wx-app&redirect_uri=") ||
				strings.Contains(p.Location, "code_challenge") || strings.Contains(p.Location, "wx-secret") {
				t.Fatalf("authorize URL: %q", p.Location)
			}
			return s.exchange(t, atApp(t, b.get(p.Location)).Get("code"))
		}
		wx := wechatStandIn(t, &code, wechatToken, wechatUserinfo)
		create("wechat", wx)
		users := s.userCount(t)

		c, u, err := signIn("wechat", wx)
		if err != nil || u.Email != "" || u.EmailVerified || u.Name != "小明" || !strings.HasPrefix(u.Photo, "https://thirdwx.qlogo.cn/") {
			t.Fatalf("wechat sign-in: %v %+v", err, u)
		}
		ids := must[[]client.Identity](t)(c.ListIdentities(ctx))
		if len(ids) != 1 || ids[0].Provider != "wechat" || ids[0].Subject != "uWx-union-1" {
			t.Fatalf("wechat identity: %+v", ids)
		}
		b, _ := json.Marshal(ids[0])
		if strings.Contains(string(b), "victim@") || strings.Contains(string(b), "ACCESS_TOKEN") || !strings.Contains(string(b), "oWx-openid-1") {
			t.Fatalf("identity data: %s", b)
		}
		if got := s.userCount(t); got != users+1 {
			t.Fatalf("users %d, want %d (a new account, the victim's untouched)", got, users+1)
		}
		vc := down.client()
		victim := must[*client.User](t)(vc.LoginByEmail(ctx, "victim@example.com", "Owner-pass-9876", nil))
		if got := must[[]client.Identity](t)(vc.ListIdentities(ctx)); len(got) != 0 || victim.ID == u.ID {
			t.Fatalf("the victim's account got the wechat identity: %+v", got)
		}

		// The same code again: WeChat says 40163; an unknown code 40029.
		for _, tc := range []struct{ code, want string }{{"wx-code", "40163"}, {"forged", "40029"}} {
			code.Store(tc.code)
			_, _, err := signIn("wechat", wx)
			if ce := wantCode(t, err, 2802); ce.Reason != "upstream_refused" {
				t.Fatalf("code %s: %+v", tc.code, ce)
			}
		}
		if got := s.userCount(t); got != users+1 {
			t.Fatalf("a refused sign-in created a user: %d", got)
		}

		// No unionid (an app not bound to an open platform account): the
		// openid is the subject.
		code.Store("wx-code")
		wx2 := wechatStandIn(t, &code, wechatTokenNoUnion, strings.Replace(wechatUserinfo, `"unionid":"uWx-union-1",`, "", 1))
		create("wechat2", wx2)
		c2, _, err := signIn("wechat2", wx2)
		if err != nil {
			t.Fatal(err)
		}
		if ids := must[[]client.Identity](t)(c2.ListIdentities(ctx)); len(ids) != 1 || ids[0].Subject != "oWx-openid-1" {
			t.Fatalf("identity without unionid: %+v", ids)
		}

		// A userinfo answer about another openid, or with another unionid
		// than the token's: not verified, nothing created.
		users = s.userCount(t)
		for i, info := range []string{
			strings.Replace(wechatUserinfo, `"openid":"oWx-openid-1"`, `"openid":"oWx-someone-else"`, 1),
			strings.Replace(wechatUserinfo, `"unionid":"uWx-union-1"`, `"unionid":"uWx-union-2"`, 1),
			`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}`,
		} {
			id := "wechat-bad" + string(rune('a'+i))
			wxb := wechatStandIn(t, &code, wechatToken, info)
			create(id, wxb)
			_, _, err := signIn(id, wxb)
			wantCode(t, err, 2802)
		}
		if got := s.userCount(t); got != users {
			t.Fatalf("an unverified answer created a user: %d, want %d", got, users)
		}

		// WeChat unreachable: the error logged names the host, never the
		// URL, which holds the AppSecret and the code.
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "wechat-gone", Type: "wechat", ClientID: "wx-app", ClientSecret: "wx-secret",
			AuthURL: wx.URL + "/connect/qrconnect", TokenURL: gone.URL + "/sns/oauth2/access_token", UserInfoURL: gone.URL + "/sns/userinfo",
		}))
		gb := newSocialBrowser(t, s)
		_, _, err = s.exchange(t, atApp(t, gb.get(down.client().BuildSocialAuthorizeURL("wechat-gone", socialAppRedirect, ""))).Get("code"))
		if ce := wantCode(t, err, 2802); ce.Reason != "upstream_unreachable" {
			t.Fatalf("wechat unreachable: %+v", ce)
		}
		down.Outbox.noLeak(t, "wx-secret", "wx-code", "ACCESS_TOKEN_wx", "forged")
	})
}
