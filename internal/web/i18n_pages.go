package web

// The texts of the hosted user pages (sign-up, password reset, email
// verification), kept beside the shared catalogue so that pages added in
// parallel do not edit the same lines.
func init() {
	for k, v := range pageTexts {
		texts[k] = v
	}
}

var pageTexts = map[string][2]string{
	"signup.title":          {"Create your account", "注册账号"},
	"signup.by":             {"Sign up with", "注册方式"},
	"signup.email":          {"Email address", "邮箱"},
	"signup.username":       {"Username", "用户名"},
	"signup.phone":          {"Phone number", "手机号"},
	"signup.method_email":   {"Email", "邮箱"},
	"signup.method_user":    {"Username", "用户名"},
	"signup.method_phone":   {"Phone", "手机号"},
	"signup.password":       {"Password", "密码"},
	"signup.code":           {"SMS code", "短信验证码"},
	"signup.submit":         {"Create account", "注册"},
	"signup.closed":         {"Sign-up is closed for this application.", "该应用暂不开放注册。"},
	"signup.have_account":   {"Already have an account? Sign in", "已有账号？去登录"},
	"signup.done_title":     {"Your account is ready", "注册成功"},
	"signup.done_body":      {"You are signed in. You can close this page or go back to the application.", "您已登录，可以关闭此页面或返回应用。"},
	"signup.done_mfa":       {"Your account is ready. Sign in to set up two-step verification, which this application requires.", "账号已创建。该应用要求二次验证，请登录后完成设置。"},
	"signup.verify_sent":    {"We sent you a mail to confirm your email address.", "我们已向您的邮箱发送验证邮件。"},
	"rules.title":           {"Your password must:", "密码要求："},
	"rules.length":          {"have at least %d characters", "至少 %d 个字符"},
	"rules.max":             {"be at most 256 bytes long", "不超过 256 字节"},
	"rules.identity":        {"not contain your username, the name of your email address or your phone number", "不包含用户名、邮箱名或手机号"},
	"rules.common":          {"not be a common password (checked when you submit)", "不是常见密码（提交时检查）"},
	"pw.too_short":          {"The password is too short: it needs at least %d characters.", "密码太短：至少需要 %d 个字符。"},
	"pw.too_long":           {"The password is too long: at most 256 bytes.", "密码太长：最多 256 字节。"},
	"pw.identity":           {"The password must not contain your username, the name of your email address or your phone number.", "密码不能包含用户名、邮箱名或手机号。"},
	"pw.common":             {"This password is among the most common ones. Please choose another.", "该密码过于常见，请换一个。"},
	"reset.title":           {"Reset your password", "重置密码"},
	"reset.intro_email":     {"We will send a code to your email address.", "我们将向您的邮箱发送验证码。"},
	"reset.intro_phone":     {"We will send a code to your phone.", "我们将向您的手机发送验证码。"},
	"reset.by_email":        {"Use my email address", "使用邮箱"},
	"reset.by_phone":        {"Use my phone number", "使用手机号"},
	"reset.send":            {"Send code", "发送验证码"},
	"reset.sent_email":      {"If an account has this address, a code is on its way. You can ask for another one in 60 seconds.", "如果该邮箱有对应账号，验证码已发送。60 秒后可重新获取。"},
	"reset.sent_phone":      {"A code was sent. You can ask for another one in 60 seconds.", "验证码已发送，60 秒后可重新获取。"},
	"reset.code":            {"Code", "验证码"},
	"reset.new_password":    {"New password", "新密码"},
	"reset.submit":          {"Set new password", "设置新密码"},
	"reset.done_title":      {"Your password is changed", "密码已重置"},
	"reset.done_body":       {"You were signed out everywhere: every session of your account has ended. Sign in again with your new password.", "您已在所有设备上退出登录，账号的所有会话均已结束。请使用新密码重新登录。"},
	"reset.code_used":       {"The code is not correct or was already used. If you just set a new password, it is done: sign in with it.", "验证码错误或已被使用。如果您刚刚已设置新密码，请直接用新密码登录。"},
	"reset.back_signin":     {"Back to sign-in", "返回登录"},
	"verify.title":          {"Confirm your email address", "验证邮箱"},
	"verify.ok_title":       {"Email address confirmed", "邮箱已验证"},
	"verify.ok_body":        {"Your email address is confirmed. You can close this page.", "您的邮箱已验证，可以关闭此页面。"},
	"verify.already_title":  {"Already confirmed", "邮箱已验证"},
	"verify.already_body":   {"This email address was confirmed already. Nothing more to do.", "该邮箱此前已验证，无需再次操作。"},
	"verify.expired_title":  {"This link has expired", "链接已过期"},
	"verify.expired_body":   {"Sign in and ask for a new mail on this page.", "请登录后在本页面重新获取验证邮件。"},
	"verify.failed_title":   {"Email address not confirmed", "邮箱未验证"},
	"verify.status_ok":      {"Your email address %s is confirmed.", "您的邮箱 %s 已验证。"},
	"verify.status_pending": {"Your email address %s is not confirmed yet.", "您的邮箱 %s 尚未验证。"},
	"verify.no_email":       {"Your account has no email address.", "您的账号没有绑定邮箱。"},
	"verify.resend":         {"Send a new confirmation mail", "重新发送验证邮件"},
	"verify.resent":         {"A new mail is on its way. Open its link to confirm your address.", "新的验证邮件已发送，请打开邮件中的链接完成验证。"},
	"verify.signin":         {"Sign in to ask for a new confirmation mail.", "登录后可重新获取验证邮件。"},
}
