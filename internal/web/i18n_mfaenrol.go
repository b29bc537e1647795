package web

// The texts of the hosted sign-in's MFA enrolment step
// (internal/oidc/mfaenrolpage.go, templates mfaenrol.html and
// mfarecovery.html); they join the one catalogue at start.
func init() {
	for k, v := range mfaEnrolTexts {
		texts[k] = v
	}
}

var mfaEnrolTexts = map[string][2]string{
	"mfa.enrol_title":    {"Set up two-step verification", "设置二次验证"},
	"mfa.enrol_intro":    {"This account must use two-step verification. Set up an authenticator app to continue.", "该账号必须使用二次验证。请设置身份验证器应用后继续。"},
	"mfa.enrol_scan":     {"Scan this code with your authenticator app, then type the code it shows.", "请用身份验证器应用扫描二维码，然后输入应用显示的验证码。"},
	"mfa.enrol_qr_alt":   {"QR code for your authenticator app", "身份验证器应用的二维码"},
	"mfa.enrol_secret":   {"Or type this key:", "或手动输入密钥："},
	"mfa.enrol_confirm":  {"Turn on and continue", "启用并继续"},
	"mfa.enrol_or":       {"Or use a passkey: your fingerprint, face or screen lock on this device, or a security key.", "或使用通行密钥：本设备的指纹、面容或屏幕锁，或安全密钥。"},
	"mfa.enrol_passkey":  {"Use a passkey instead", "改用通行密钥"},
	"mfa.attempts_left":  {"Attempts left:", "剩余尝试次数："},
	"mfa.recovery_title": {"Save your recovery codes", "保存恢复码"},
	"mfa.recovery_once":  {"If you lose your authenticator app, each of these codes signs you in once. Keep them somewhere safe: they are shown only now.", "如果丢失身份验证器应用，每个恢复码可代替验证码登录一次。请妥善保存：它们仅显示这一次。"},
	"mfa.recovery_saved": {"I saved them, continue", "我已保存，继续"},
}
