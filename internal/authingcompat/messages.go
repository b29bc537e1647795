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
	"not_implemented":         "当前版本尚未实现该功能",
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
}

// message is e's message in language l.
func message(l string, e *userpool.Error) string {
	if l == langZH {
		if m, ok := zhMessages[e.Reason]; ok {
			return m
		}
		if e.Reason == "invalid_query" {
			// The engine's text names the offending part of the document.
			return "GraphQL 请求无效: " + e.Message
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
}

func okMessage(l, key string) string {
	m := okMessages[key]
	if l == langEN {
		return m[1]
	}
	return m[0]
}
