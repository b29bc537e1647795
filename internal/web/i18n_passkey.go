package web

// The passkey pages' texts (docs/MFA.md "Passkeys"), kept beside the
// shared catalogue so that their lines stay apart from other pages'.
var passkeyTexts = map[string][2]string{
	"passkey.signin":        {"Sign in with a passkey", "使用通行密钥登录"},
	"passkey.use":           {"Use a passkey", "使用通行密钥"},
	"passkey.unsupported":   {"This browser cannot use passkeys.", "此浏览器不支持通行密钥。"},
	"passkey.failed":        {"The passkey was not used. Please try again.", "未能使用通行密钥，请重试。"},
	"passkeys.title":        {"Passkeys", "通行密钥"},
	"passkeys.signin_first": {"Sign in first, then come back to this page to manage your passkeys.", "请先登录，然后返回此页面管理通行密钥。"},
	"passkeys.none":         {"No passkeys yet.", "尚未添加通行密钥。"},
	"passkeys.add":          {"Add a passkey", "添加通行密钥"},
	"passkeys.name":         {"Name (optional)", "名称（可选）"},
	"passkeys.remove":       {"Remove", "移除"},
	"passkeys.created":      {"added", "添加于"},
	"passkeys.last_used":    {"last used", "上次使用"},
}

func init() {
	for k, v := range passkeyTexts {
		texts[k] = v
	}
}
