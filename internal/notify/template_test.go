package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinTemplates(t *testing.T) {
	tpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Code: "482913", Minutes: 10, Link: "http://127.0.0.1:8080/api/v1/email/verify?code=482913&email=a%40example.com", To: "a@example.com"}
	for _, k := range kinds {
		for _, l := range languages {
			subject, text, err := tpl.Render(k, l, d)
			if err != nil {
				t.Fatalf("%s.%s: %v", k, l, err)
			}
			if !strings.Contains(text, d.Code) || (k != KindSMS) == (subject == "") {
				t.Errorf("%s.%s: subject %q text %q", k, l, subject, text)
			}
			if k == KindVerifyEmail && !strings.Contains(text, d.Link) {
				t.Errorf("%s.%s has no link", k, l)
			}
		}
	}
	_, zh, _ := tpl.Render(KindSMS, SimplifiedChinese, d)
	_, en, _ := tpl.Render(KindSMS, "fr", d)
	if !strings.Contains(zh, "验证码") || !strings.HasPrefix(en, "Your verification code") {
		t.Fatalf("zh %q, fallback %q", zh, en)
	}
}

func TestTemplateOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sms.en.txt", "ACME code {{.Code}}")
	write("reset_password.zh-CN.txt", "Subject: ACME 重置密码\n\n验证码 {{.Code}}")
	write("README.md", "not a template, ignored")
	tpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, text, _ := tpl.Render(KindSMS, English, Data{Code: "1"}); text != "ACME code 1" {
		t.Fatalf("override not used: %q", text)
	}
	if s, text, _ := tpl.Render(KindResetPassword, SimplifiedChinese, Data{Code: "2"}); s != "ACME 重置密码" || text != "验证码 2" {
		t.Fatalf("mail override: %q %q", s, text)
	}
	if _, text, _ := tpl.Render(KindSMS, SimplifiedChinese, Data{Code: "3"}); !strings.Contains(text, "验证码是 3") {
		t.Fatalf("the other language kept its default: %q", text)
	}

	for name, text := range map[string]string{
		"sms.fr.txt":             "code {{.Code}}",
		"welcome.en.txt":         "hi",
		"sms.en.txt":             "{{.Nope}}",
		"change_email.en.txt":    "no subject line {{.Code}}",
		"verify_email.zh-CN.txt": "Subject: x\n\n{{.Code",
		"reset_password.en.txt":  "Subject:   \n\nbody",
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTemplates(bad); err == nil {
			t.Errorf("%s with %q accepted", name, text)
		}
	}
	if _, err := LoadTemplates(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory accepted")
	}
}

func TestMatchLanguage(t *testing.T) {
	cases := []struct{ locale, accept, want string }{
		{"", "", English},
		{"", "zh-CN,zh;q=0.9,en;q=0.8", SimplifiedChinese},
		{"", "zh", SimplifiedChinese},
		{"", "de-DE,de;q=0.9", English},
		{"", "fr;q=0.9, zh-Hans;q=0.5", SimplifiedChinese},
		{"zh_CN", "en-US", SimplifiedChinese},
		{"en", "zh-CN", English},
		{"fr", "zh-CN", SimplifiedChinese},
		{"not a locale!", "garbage;;q=", English},
	}
	for _, tc := range cases {
		if got := MatchLanguage(tc.locale, tc.accept); got != tc.want {
			t.Errorf("MatchLanguage(%q, %q) = %q, want %q", tc.locale, tc.accept, got, tc.want)
		}
	}
}
