package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/internal/userpool"
)

// WeChat's website QR login (微信开放平台 网站应用微信登录). Not OAuth 2.0
// as x/oauth2 knows it: the client is "appid"/"secret" in a GET query,
// every answer is HTTP 200, and an error is an {errcode, errmsg} body.
const (
	wechatAuthURL     = "https://open.weixin.qq.com/connect/qrconnect"
	wechatTokenURL    = "https://api.weixin.qq.com/sns/oauth2/access_token"
	wechatUserInfoURL = "https://api.weixin.qq.com/sns/userinfo"
)

// wechatUpstream: the subject is the unionid (one user across the apps of
// one WeChat open platform account) when WeChat sends it, else the openid
// (this app's). WeChat gives no email: a WeChat identity never links to an
// account by email.
type wechatUpstream struct {
	g        *Registry
	c        *userpool.Connector
	secret   string
	redirect string
}

// AuthURL is the QR page. WeChat knows no PKCE; the state (single use,
// bound to the browser) and the secret protect the code.
func (u *wechatUpstream) AuthURL(_ context.Context, r Request) (string, error) {
	base, err := url.Parse(or(u.c.AuthURL, wechatAuthURL))
	if err != nil {
		return "", Invalid(err)
	}
	scope := "snsapi_login"
	if len(u.c.Scopes) > 0 {
		scope = u.c.Scopes[0]
	}
	// WeChat reads its parameters in this order and wants the fragment.
	v := url.Values{}
	for k, vs := range base.Query() {
		v[k] = vs
	}
	base.RawQuery = ""
	q := "appid=" + url.QueryEscape(u.c.ClientID) + "&redirect_uri=" + url.QueryEscape(u.redirect) +
		"&response_type=code&scope=" + url.QueryEscape(scope) + "&state=" + url.QueryEscape(r.State)
	if extra := v.Encode(); extra != "" {
		q = extra + "&" + q
	}
	base.RawQuery = q
	return base.String() + "#wechat_redirect", nil
}

// wechatErr reads WeChat's error body (errcode 0 or absent: no error).
func wechatErr(m map[string]any, what string) error {
	code := text(m["errcode"])
	if code == "" || code == "0" {
		return nil
	}
	return Refused(fmt.Errorf("wechat %s: errcode %s %s", what, truncate(code, 16), truncate(text(m["errmsg"]), 200)))
}

func (u *wechatUpstream) Exchange(ctx context.Context, _ Request, code string) (*Profile, error) {
	tv := url.Values{"appid": {u.c.ClientID}, "secret": {u.secret}, "code": {code}, "grant_type": {"authorization_code"}}
	var tok map[string]any
	if err := u.get(ctx, or(u.c.TokenURL, wechatTokenURL), tv, &tok); err != nil {
		return nil, err
	}
	if err := wechatErr(tok, "token"); err != nil {
		return nil, err
	}
	access, openid := text(tok["access_token"]), text(tok["openid"])
	if access == "" || openid == "" {
		return nil, Invalid(errors.New("wechat token: the answer has no access_token or openid"))
	}
	var info map[string]any
	if err := u.get(ctx, or(u.c.UserInfoURL, wechatUserInfoURL), url.Values{"access_token": {access}, "openid": {openid}}, &info); err != nil {
		return nil, err
	}
	if err := wechatErr(info, "userinfo"); err != nil {
		return nil, err
	}
	if text(info["openid"]) != openid {
		return nil, Invalid(errors.New("wechat userinfo: openid is not the token's"))
	}
	union := text(tok["unionid"])
	if iu := text(info["unionid"]); union == "" {
		union = iu
	} else if iu != "" && iu != union {
		return nil, Invalid(errors.New("wechat userinfo: unionid is not the token's"))
	}
	p := &Profile{Subject: openid, Name: text(info["nickname"]), Username: text(info["nickname"]), Picture: text(info["headimgurl"])}
	if union != "" {
		p.Subject = union
	}
	kept := keep(info)
	kept["sub"], kept["openid"] = p.Subject, openid
	if union != "" {
		kept["unionid"] = union
	}
	delete(kept, "email")
	delete(kept, "email_verified")
	p.Claims = kept
	return finish(p)
}

// get calls a WeChat endpoint with query v (the secret travels in it, as
// WeChat requires; the URL is never logged: errors name only the host).
func (u *wechatUpstream) get(ctx context.Context, endpoint string, v url.Values, out any) error {
	base, err := url.Parse(endpoint)
	if err != nil {
		return Invalid(err)
	}
	q := base.Query()
	for k, vs := range v {
		q[k] = vs
	}
	base.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String(), nil)
	if err != nil {
		return Invalid(errors.New("wechat: bad endpoint"))
	}
	req.Header.Set("Accept", "application/json")
	err = u.g.doJSON(req, out)
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error carries the URL with the secret and code: drop it.
		return Unreachable(fmt.Errorf("wechat %s: %w", base.Host, ue.Err))
	}
	return err
}
