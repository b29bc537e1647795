package console

import (
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// TestConfigPagesHaveTexts: every key the configuration pages use has
// both languages, including each setting's meaning (built from its name
// in the template) and every notice a change may leave.
func TestConfigPagesHaveTexts(t *testing.T) {
	used := map[string]bool{}
	tmplKey := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	for _, n := range []string{"settings", "fields", "fielddelete", "apps", "app", "pipelines", "pipeline", "webhooks", "webhook", "delivery", "audit", "keys", "pools"} {
		b, err := fs.ReadFile(templateFS, "templates/"+n+".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	v := reflect.TypeOf(userpool.PoolSettings{})
	for i := range v.NumField() {
		used["setting."+admin.SettingName(v.Field(i).Name)] = true
	}
	for _, sec := range settingsSections {
		used[sec.Key] = true
	}
	for _, m := range []map[string]bool{fieldDoneNotices, pipelineNotices, onePipelineNotices} {
		for k := range m {
			used["done."+k] = true
		}
	}
	for _, k := range []string{"done.settings_saved", "done.app_created", "done.app_updated", "done.app_deleted", "done.secret_rotated",
		"done.webhook_created", "done.webhook_saved", "done.webhook_deleted", "done.redelivered", "done.key_rotated", "done.pool_created", "done.pool_renamed",
		"settings.bad_duration", "settings.bad_number", "settings.refused", "audit.bad_time", "pipelines.bad_params", "common.unconfirmed"} {
		used[k] = true
	}
	for _, n := range s().nav() {
		used[n.Key] = true
	}
	for k := range used {
		en, zh := T(web.LangEN, k), T(web.LangZH, k)
		if en == k || zh == k || en == zh && !strings.ContainsAny(en, "IPW") {
			t.Errorf("key %q: en %q, zh-CN %q", k, en, zh)
		}
	}
}

func s() *Service { return &Service{} }

// TestProblemsBySetting: each problem of ValidateSettings lands beside
// every setting it names, and only there.
func TestProblemsBySetting(t *testing.T) {
	bad := userpool.DefaultPoolSettings()
	bad.PasswordMinLength = 0
	bad.LockoutEnabled, bad.LockoutThreshold = true, 0
	bad.BrandPrimaryColor = "red"
	err := admin.ValidateSettings(bad)
	if err == nil {
		t.Fatal("ValidateSettings accepted bad settings")
	}
	known := map[string]bool{}
	v := reflect.TypeOf(bad)
	for i := range v.NumField() {
		known[admin.SettingName(v.Field(i).Name)] = true
	}
	got := problemsBySetting(userpool.AsError(err).Message, known)
	for _, name := range []string{"passwordMinLength", "lockoutEnabled", "lockoutThreshold", "lockoutDuration", "brandPrimaryColor"} {
		if got[name] == "" {
			t.Errorf("no problem beside %s: %v", name, got)
		}
	}
	for name := range got {
		if !known[name] {
			t.Errorf("a problem beside %q, which is no setting", name)
		}
	}
	if got["tokenTTL"] != "" || got["mfaPolicy"] != "" {
		t.Errorf("problems beside good settings: %v", got)
	}
}

// TestSettingsFormRoundTrip: the page's editors, posted back unchanged,
// give the settings they show; an unticked box is false; text that does
// not parse is reported beside its setting.
func TestSettingsFormRoundTrip(t *testing.T) {
	cur := userpool.DefaultPoolSettings()
	cur.BrandDisplayName = "Acme"
	form := map[string][]string{}
	for _, sec := range settingRows(cur, nil, nil).Sections {
		for _, r := range sec.Rows {
			if r.Kind == "bool" {
				if r.Checked {
					form[r.Name] = []string{"1"}
				}
				continue
			}
			form[r.Name] = []string{r.Value}
		}
	}
	got, errs := settingsForm(web.LangEN, userpool.PoolSettings{}, form)
	if len(errs) != 0 || !reflect.DeepEqual(got, cur) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", errs, got, cur)
	}
	form["tokenTTL"], form["codeMaxAttempts"] = []string{"forever"}, []string{"1e9"}
	delete(form, "registerByEmail")
	got, errs = settingsForm(web.LangEN, cur, form)
	if errs["tokenTTL"] == "" || errs["codeMaxAttempts"] == "" || len(errs) != 2 || got.RegisterByEmail {
		t.Fatalf("errors %v, registerByEmail %v", errs, got.RegisterByEmail)
	}
}
