package authingcompat

import "github.com/authpool/authpool/internal/userpool"

// zhMessages are the Chinese messages of the main errors, by reason (the
// stable word of userpool.Error). English callers get the use case's own
// message, which may be more precise; a reason missing here falls back to
// it in Chinese answers too.
var zhMessages = map[string]string{
	"internal_error":          "系统内部错误，请稍后重试",
	"bad_request":             "请求格式错误",
	"body_too_large":          "请求体过大",
	"missing_field":           "缺少必填参数",
	"invalid_argument":        "请求参数错误",
	"invalid_username":        "用户名格式不正确",
	"invalid_profile":         "用户资料格式不正确",
	"invalid_gender":          "性别只能是 M、F 或 U",
	"cannot_update_password":  "请使用 updatePassword 修改密码",
	"read_only_field":         "该字段不能通过 updateUser 修改",
	"not_found":               "接口不存在",
	"method_not_allowed":      "不支持该请求方法",
	"rate_limited":            "请求过于频繁，请稍后重试",
	"unknown_user_pool":       "用户池不存在",
	"registration_closed":     "用户池已关闭该注册方式",
	"captcha_required":        "请输入图形验证码",
	"wrong_code":              "验证码不正确",
	"code_expired":            "验证码已过期",
	"invalid_email":           "邮箱格式不正确",
	"user_not_found":          "用户不存在",
	"wrong_password":          "密码错误",
	"password_decrypt_failed": "密码解密失败",
	"no_permission":           "无权限修改其他用户的信息",
	"not_logged_in":           "尚未登录，无访问权限",
	"bearer_scheme_required":  "Authorization 请求头须使用 Bearer 方案：Authorization: Bearer <token>",
	"email_taken":             "用户已存在",
	"phone_taken":             "该手机号已被绑定",
	"user_exists":             "用户已存在",
	"password_too_short":      "密码长度不足",
	"password_too_long":       "密码过长",
	"password_invalid":        "密码格式不正确",
	"username_taken":          "用户名已存在",
	"user_blocked":            "账号已被禁用",
	"wrong_old_password":      "原始密码错误",
	"token_expired":           "登录信息已过期，请重新登录",
	"token_invalid":           "登录信息无效，请重新登录",
	"cannot_update_email":     "请使用 updateEmail 修改邮箱",
	"cannot_update_phone":     "请使用 updatePhone 修改手机号",
	// Codes, phone and email.
	"invalid_phone":             "手机号格式不正确",
	"invalid_country_code":      "手机区号格式不正确",
	"invalid_scene":             "不支持该验证码场景",
	"code_attempts_exceeded":    "验证码错误次数过多，请重新获取",
	"send_failed":               "验证码发送失败，请稍后重试",
	"phone_already_bound":       "该账号已绑定手机号",
	"phone_not_bound":           "该账号未绑定手机号",
	"phone_unchanged":           "新手机号与原手机号相同",
	"old_phone_required":        "请提供原手机号及其验证码",
	"old_phone_mismatch":        "原手机号不正确",
	"email_already_bound":       "该账号已绑定邮箱",
	"email_not_bound":           "该账号未绑定邮箱",
	"email_unchanged":           "新邮箱与原邮箱相同",
	"old_email_required":        "请提供原邮箱及其验证码",
	"old_email_mismatch":        "原邮箱不正确",
	"last_login_method":         "这是该账号唯一的登录方式，无法解绑",
	"auto_register_unsupported": "手机号密码登录不支持自动注册",
	// Login protection.
	"wrong_captcha":              "图形验证码错误",
	"account_locked":             "登录失败次数过多，账号已被锁定",
	"wrong_account_or_password":  "用户名或密码错误",
	"password_too_common":        "密码过于简单",
	"password_contains_identity": "密码不能包含用户名、邮箱或手机号",
	// User-defined values and the options that set them.
	"unknown_field":       "自定义字段不存在",
	"field_type_mismatch": "自定义字段的值与其类型不符",
	"invalid_custom_data": "自定义数据格式不正确",
	"invalid_params":      "params 格式不正确",
	"invalid_context":     "context 格式不正确",
}

// message is e's message in language l.
func message(l string, e *userpool.Error) string {
	if l == langZH {
		if m, ok := zhMessages[e.Reason]; ok {
			return m
		}
		switch e.Reason {
		case "invalid_query":
			// The engine's text names the offending part of the document.
			return "GraphQL 请求无效: " + e.Message
		case "too_many_selections", "introspection_repeated", "answer_too_large":
			// The English text names the limit and its number.
			return "GraphQL 请求超出限制: " + e.Message
		}
	}
	return e.Message
}

// okMessages are the messages of successful answers, by key.
var okMessages = map[string][2]string{ // key -> {zh-CN, en-US}
	"fetched":    {"获取成功", "fetched"},
	"sent":       {"发送成功", "sent"},
	"logged_out": {"退出成功", "logged out"},
	"logged_in":  {"已登录", "logged in"},
	"reset":      {"重置密码成功", "password reset"},
	"bound":      {"TOTP MFA 绑定成功", "TOTP MFA bound"},
	"unbound":    {"TOTP MFA 解绑成功", "TOTP MFA unbound"},
}

func okMessage(l, key string) string {
	m := okMessages[key]
	if l == langEN {
		return m[1]
	}
	return m[0]
}
