package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
	"golang.org/x/text/language"
)

// The languages of the pages.
const (
	LangEN = "en"
	LangZH = "zh-CN"
)

var matcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// Lang picks the page language: the first of uiLocales (OpenID Connect's
// ui_locales, space separated) that we have, else Accept-Language, else
// English.
func Lang(r *http.Request, uiLocales string) string {
	var prefs []language.Tag
	for _, l := range strings.Fields(uiLocales) {
		if t, err := language.Parse(l); err == nil {
			prefs = append(prefs, t)
		}
		if len(prefs) == 8 {
			break
		}
	}
	if len(prefs) == 0 {
		al := r.Header.Get("Accept-Language")
		if len(al) > 256 {
			al = al[:256]
		}
		prefs, _, _ = language.ParseAcceptLanguage(al)
	}
	_, i, conf := matcher.Match(prefs...)
	if i == 1 && conf != language.No {
		return LangZH
	}
	return LangEN
}

// T is the text of key in lang (the key itself when missing, which a test
// forbids for the keys the templates use).
func T(lang, key string) string {
	if m, ok := texts[key]; ok {
		if lang == LangZH {
			return m[1]
		}
		return m[0]
	}
	return key
}

// texts: key -> {en, zh-CN}.
var texts = map[string][2]string{
	"signin.title":         {"Sign in", "登录"},
	"signin.to":            {"to continue to", "以继续访问"},
	"signin.identifier":    {"Email or username", "邮箱或用户名"},
	"signin.password":      {"Password", "密码"},
	"signin.submit":        {"Sign in", "登录"},
	"signin.with_phone":    {"Sign in with a phone code", "使用手机验证码登录"},
	"signin.social":        {"Or sign in with", "或使用以下方式登录"},
	"signin.with_password": {"Sign in with a password", "使用密码登录"},
	"signin.phone":         {"Phone number", "手机号"},
	"signin.code":          {"SMS code", "短信验证码"},
	"signin.send_code":     {"Send code", "发送验证码"},
	"signin.code_sent":     {"A code was sent. You can ask for another one in 60 seconds.", "验证码已发送，60 秒后可重新获取。"},
	"signin.resend_in":     {"Send again in", "重新发送"},
	"signin.captcha":       {"Characters in the image", "图形验证码"},
	"signin.captcha_alt":   {"CAPTCHA image", "图形验证码图片"},
	"signin.signup":        {"Create an account", "注册账号"},
	"signin.reset":         {"Forgot your password?", "忘记密码？"},
	"signin.not_you":       {"Use another account", "使用其他账号"},
	"mfa.title":            {"Two-step verification", "二次验证"},
	"mfa.totp":             {"Code from your authenticator app", "身份验证器应用中的验证码"},
	"mfa.sms":              {"Code sent to your phone", "发送到手机的验证码"},
	"mfa.email":            {"Code sent to your email", "发送到邮箱的验证码"},
	"mfa.recovery":         {"Recovery code", "恢复码"},
	"mfa.use_recovery":     {"Use a recovery code", "使用恢复码"},
	"mfa.send_sms":         {"Send a code to my phone", "发送验证码到手机"},
	"mfa.send_email":       {"Send a code to my email", "发送验证码到邮箱"},
	"mfa.sms_sent":         {"A code was sent to your phone.", "验证码已发送到您的手机。"},
	"mfa.email_sent":       {"A code was sent to your email address.", "验证码已发送到您的邮箱。"},
	"mfa.verify":           {"Verify", "验证"},
	"consent.title":        {"Allow access?", "是否授权？"},
	"consent.wants":        {"wants to access your account", "请求访问您的账号"},
	"consent.scopes":       {"It asks for:", "申请的权限："},
	"consent.allow":        {"Allow", "授权"},
	"consent.deny":         {"Deny", "拒绝"},
	"consent.signed_in_as": {"Signed in as", "当前账号"},
	"scope.openid":         {"Sign you in", "登录您的账号"},
	"scope.profile":        {"Your name and profile", "您的姓名和个人资料"},
	"scope.email":          {"Your email address", "您的邮箱地址"},
	"scope.phone":          {"Your phone number", "您的手机号"},
	"scope.address":        {"Your address", "您的地址"},
	"scope.offline_access": {"Keep access while you are away", "在您离开后保持访问"},
	"error.title":          {"Something went wrong", "出错了"},
	"error.csrf":           {"This form has expired. Please try again.", "表单已过期，请重试。"},
	"error.request":        {"This sign-in request is not valid or has expired. Go back to the application and start again.", "登录请求无效或已过期，请返回应用重新开始。"},
	"error.missing":        {"Please fill in every field.", "请填写所有字段。"},
	"loggedout.title":      {"You are signed out", "您已退出登录"},
	"loggedout.body":       {"You can close this window.", "您可以关闭此窗口。"},
	"common.back":          {"Back", "返回"},
	"retry.seconds":        {"Try again in %d seconds.", "请在 %d 秒后重试。"},
	"retry.minutes":        {"Try again in %d minutes.", "请在 %d 分钟后重试。"},
	"error.return_to":      {"The address to return to is not one this application registered.", "返回地址不是该应用登记的地址。"},
	"error.too_large":      {"The form is too large.", "提交的内容过大。"},
}

// codeMessages are the pages' messages for every coded error of the use
// cases (userpool codes): {en, zh-CN}. A test checks that every code
// declared in userpool has one.
var codeMessages = map[userpool.Code][2]string{
	userpool.CodeInternal: {"Something went wrong on our side. Please try again later.", "系统内部错误，请稍后重试。"},
	// Second factors (docs/MFA.md). The sign-in page asks for the second
	// factor itself; this message is shown only where it cannot.
	userpool.CodeMFARequired:            {"This account needs a second factor.", "该账号需要二次验证。"},
	userpool.CodeMFAWrongCode:           {"The verification code is wrong or was already used.", "验证码错误或已被使用。"},
	userpool.CodeMFATokenInvalid:        {"The sign-in took too long or had too many wrong codes. Please start again.", "登录已过期或错误次数过多，请重新登录。"},
	userpool.CodeMFAAlreadyEnrolled:     {"This second factor is already set up.", "该二次验证方式已启用。"},
	userpool.CodeMFANotEnrolled:         {"This second factor is not set up.", "该二次验证方式未启用。"},
	userpool.CodeMFAUnsupported:         {"This kind of verification is not supported.", "不支持该验证方式。"},
	userpool.CodePasskeyInvalid:         {"The passkey could not be verified. Please try again.", "通行密钥验证失败，请重试。"},
	userpool.CodePasskeyCloned:          {"This passkey was refused: it may have been copied. Use another way to sign in and remove it.", "该通行密钥已被拒绝：它可能已被复制。请用其他方式登录并移除它。"},
	userpool.CodeBadRequest:             {"The request could not be read.", "请求格式错误。"},
	userpool.CodeBodyTooLarge:           {"The form is too large.", "提交的内容过大。"},
	userpool.CodeInvalidArgument:        {"Some of the values are not valid.", "填写的内容格式不正确。"},
	userpool.CodeNotFound:               {"Not found.", "内容不存在。"},
	userpool.CodeRateLimited:            {"Too many attempts. Please wait a moment and try again.", "操作过于频繁，请稍后重试。"},
	userpool.CodeUnknownUserPool:        {"This user pool does not exist.", "用户池不存在。"},
	userpool.CodeUnavailable:            {"The service is busy. Please try again in a moment.", "服务繁忙，请稍后重试。"},
	userpool.CodeRegistrationClosed:     {"Registration by this method is closed.", "该注册方式已关闭。"},
	userpool.CodePipelineRejected:       {"Sign-in was refused by this application's rules.", "登录被应用规则拒绝。"},
	userpool.CodePipelineFailed:         {"Sign-in could not be completed. Please try again later.", "登录暂时无法完成，请稍后重试。"},
	userpool.CodeCaptchaRequired:        {"Please type the characters in the image.", "请输入图形验证码。"},
	userpool.CodeWrongCode:              {"The code is not correct.", "验证码不正确。"},
	userpool.CodeInvalidEmail:           {"The email address is not valid.", "邮箱格式不正确。"},
	userpool.CodeUserNotFound:           {"No account was found.", "用户不存在。"},
	userpool.CodeAccountLocked:          {"Too many failed sign-ins: the account is locked for a while.", "登录失败次数过多，账号已被暂时锁定。"},
	userpool.CodeWrongPassword:          {"The password is not correct.", "密码错误。"},
	userpool.CodeNotLoggedIn:            {"Please sign in.", "请先登录。"},
	userpool.CodeNoPermission:           {"You are not allowed to do this.", "无权限执行此操作。"},
	userpool.CodeSendFailed:             {"The code could not be sent. Please try again later.", "验证码发送失败，请稍后重试。"},
	userpool.CodeUserExists:             {"An account with these details exists already.", "用户已存在。"},
	userpool.CodeInvalidPhone:           {"The phone number is not valid.", "手机号格式不正确。"},
	userpool.CodePasswordTooWeak:        {"The password is too weak.", "密码强度不足。"},
	userpool.CodeUsernameTaken:          {"This username is taken.", "用户名已存在。"},
	userpool.CodePhoneAlreadyBound:      {"This phone number is in use already.", "该手机号已被绑定。"},
	userpool.CodeOldEmailMismatch:       {"The current email address is not correct.", "原邮箱不正确。"},
	userpool.CodeOldPhoneMismatch:       {"The current phone number is not correct.", "原手机号不正确。"},
	userpool.CodeUserBlocked:            {"This account is disabled.", "账号已被禁用。"},
	userpool.CodeEmailAlreadyBound:      {"This email address is in use already.", "该邮箱已被绑定。"},
	userpool.CodeWrongOldPassword:       {"The current password is not correct.", "原密码错误。"},
	userpool.CodeTokenExpired:           {"Your session has expired. Please sign in again.", "登录已过期，请重新登录。"},
	userpool.CodeTokenInvalid:           {"Your session is not valid. Please sign in again.", "登录信息无效，请重新登录。"},
	userpool.CodeLastLoginMethod:        {"This is the account's only way to sign in.", "这是该账号唯一的登录方式。"},
	userpool.CodeNotBound:               {"Nothing is bound to the account for this.", "该账号未绑定。"},
	userpool.CodeCannotUpdateEmail:      {"The email address cannot be changed here.", "无法在此修改邮箱。"},
	userpool.CodeCannotUpdatePhone:      {"The phone number cannot be changed here.", "无法在此修改手机号。"},
	userpool.CodeOldAddressRequired:     {"The current address and its code are required.", "请提供原地址及其验证码。"},
	userpool.CodeEmailUnchanged:         {"The new email address is the current one.", "新邮箱与原邮箱相同。"},
	userpool.CodePhoneUnchanged:         {"The new phone number is the current one.", "新手机号与原手机号相同。"},
	userpool.CodeCodeExpired:            {"The code has expired. Please ask for a new one.", "验证码已过期，请重新获取。"},
	userpool.CodeWrongAccountOrPassword: {"The account or the password is not correct.", "账号或密码错误。"},
	userpool.CodeUnsupportedMediaType:   {"The form was sent in a form this page does not accept.", "提交格式不受支持。"},
	userpool.CodeUnknownField:           {"This field does not exist.", "自定义字段不存在。"},
	userpool.CodeFieldTypeMismatch:      {"A value does not match its field's type.", "自定义字段的值与其类型不符。"},
	userpool.CodeFieldExists:            {"This field exists already.", "该字段已存在。"},
	userpool.CodeFieldInUse:             {"This field is in use.", "该字段正在使用中。"},
	userpool.CodeAdminUnauthorized:      {"Administrator access is required.", "需要管理员权限。"},
	userpool.CodePoolExists:             {"This user pool exists already.", "用户池已存在。"},
	userpool.CodeKeyRotationPending:     {"A key rotation is already pending.", "密钥轮换正在进行中。"},
	// Social sign-in (docs/SOCIAL.md).
	userpool.CodeSocialState:        {"This sign-in expired, was already used or was started in another browser. Please start again.", "此次登录已过期、已被使用或是在其他浏览器中发起的，请重新开始。"},
	userpool.CodeSocialUpstream:     {"The identity provider did not complete the sign-in. Please try again later.", "身份提供方未能完成登录，请稍后重试。"},
	userpool.CodeSocialLinkRequired: {"An account with this email already exists. Sign in to it first, then confirm linking this sign-in option.", "已存在使用该邮箱的账号。请先登录该账号，再确认关联此登录方式。"},
	userpool.CodeIdentityTaken:      {"This account at the identity provider is already linked to another user.", "该第三方账号已关联到其他用户。"},
	userpool.CodeConnectorExists:    {"A sign-in option with this id already exists.", "已存在相同 ID 的登录方式。"},
	userpool.CodeConnectorDisabled:  {"This sign-in option is not available.", "该登录方式不可用。"},
}

// ErrorMessage is the page's message for a use case's error: by its code,
// else (a code added later, such as one of the MFA step) the error's own
// message, which is written for end users.
// A refusal that says when to come back (a rate limit, a lockout: its
// data's retryAfter in seconds) gets that wait added.
func ErrorMessage(lang string, err error) string {
	e := userpool.AsError(err)
	msg := e.Message
	if m, ok := codeMessages[e.Code]; ok {
		msg = m[0]
		if lang == LangZH {
			msg = m[1]
		}
	}
	if w := RetryText(lang, e); w != "" {
		msg += " " + w
	}
	return msg
}

// RetryText says when to try again, from the error data's retryAfter
// (seconds), or "" when it has none.
func RetryText(lang string, e *userpool.Error) string {
	var secs int64
	switch v := e.Data["retryAfter"].(type) {
	case int64:
		secs = v
	case int:
		secs = int64(v)
	case float64:
		secs = int64(v)
	}
	if secs <= 0 {
		return ""
	}
	if secs < 120 {
		return fmt.Sprintf(T(lang, "retry.seconds"), secs)
	}
	return fmt.Sprintf(T(lang, "retry.minutes"), (secs+59)/60)
}
