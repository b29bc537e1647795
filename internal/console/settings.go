package console

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// settingsSections groups the pool's settings (by wire name) as the page
// shows them; a setting in no section shows under "general", so one added
// to PoolSettings is editable at once (its meaning then falls back to its
// name until the catalogue has one).
var settingsSections = []struct {
	Key   string
	Names []string
}{
	{"settings.general", []string{"tokenTTL", "registerByEmail", "registerByUsername", "registerByPhone", "verifyOldEmail", "verifyOldPhone", "uniformLoginError", "allowPlaintextPassword"}},
	{"settings.password", []string{"passwordMinLength", "passwordRejectCommon"}},
	{"settings.codes", []string{"smsCodeTTL", "emailCodeTTL", "codeMaxAttempts", "smsPhoneInterval", "smsPhonePerDay", "smsIPPerHour", "smsCountryPerDay", "emailAddressInterval", "emailAddressPerDay", "emailIPPerHour"}},
	{"settings.protection", []string{"loginFailureDetection", "loginFailureThreshold", "loginFailureWindow", "lockoutEnabled", "lockoutThreshold", "lockoutDuration", "lockoutWindow"}},
	{"settings.mfa", []string{"mfaPolicy"}},
	{"settings.branding", []string{"brandDisplayName", "brandLogoURL", "brandPrimaryColor"}},
}

// settingRow is one setting's editor.
type settingRow struct {
	Name    string // wire name, the input's name and id
	Kind    string // bool, int, duration, mfa, text
	Value   string
	Checked bool
	Error   string
	Options []string // the choices of an mfa setting
}

type settingsSection struct {
	Key  string
	Rows []settingRow
}

type settingsData struct {
	Sections []settingsSection
}

// settingRows are the editors of s, in the page's sections; typed holds
// what the form sent (kept when it is refused) and errs the problems per
// setting.
func settingRows(s userpool.PoolSettings, typed url.Values, errs map[string]string) settingsData {
	v := reflect.ValueOf(s)
	rows := map[string]settingRow{}
	var order []string
	for i := range v.NumField() {
		f := v.Field(i)
		name := admin.SettingName(v.Type().Field(i).Name)
		r := settingRow{Name: name, Error: errs[name]}
		switch {
		case f.Type() == reflect.TypeOf(time.Duration(0)):
			r.Kind, r.Value = "duration", time.Duration(f.Int()).String()
		case f.Kind() == reflect.Bool:
			r.Kind, r.Checked = "bool", f.Bool()
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			r.Kind, r.Value = "int", strconv.FormatInt(f.Int(), 10)
		case name == "mfaPolicy":
			r.Kind, r.Value = "mfa", f.String()
			r.Options = []string{userpool.MFAOff, userpool.MFAOptional, userpool.MFARequired}
		default:
			r.Kind, r.Value = "text", f.String()
		}
		if typed != nil {
			if r.Kind == "bool" {
				r.Checked = typed.Get(name) == "1"
			} else {
				r.Value = typed.Get(name)
			}
		}
		rows[name] = r
		order = append(order, name)
	}
	var d settingsData
	placed := map[string]bool{}
	for _, sec := range settingsSections {
		ss := settingsSection{Key: sec.Key}
		for _, n := range sec.Names {
			if r, ok := rows[n]; ok {
				ss.Rows = append(ss.Rows, r)
				placed[n] = true
			}
		}
		d.Sections = append(d.Sections, ss)
	}
	for _, n := range order {
		if !placed[n] {
			d.Sections[0].Rows = append(d.Sections[0].Rows, rows[n])
		}
	}
	return d
}

// settings shows every setting of the pool with its meaning.
func (s *Service) settings(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	pg := Page{Title: "nav.settings", Section: "nav.settings", Pool: p, Data: settingRows(p.Settings, nil, nil)}
	if r.URL.Query().Get("done") == "saved" {
		pg.Notice = T(c.lang, "done.settings_saved")
	}
	s.render(w, r, c, http.StatusOK, "settings", pg)
	return nil
}

// settingsForm reads the form into a copy of cur: every setting is in
// the form (an unticked box is false). Values that do not parse are
// reported per setting, nothing else is judged here: the use case's
// ValidateSettings, as on the admin API, judges the result.
func settingsForm(lang string, cur userpool.PoolSettings, f url.Values) (userpool.PoolSettings, map[string]string) {
	errs := map[string]string{}
	v := reflect.ValueOf(&cur).Elem()
	for i := range v.NumField() {
		fv := v.Field(i)
		name := admin.SettingName(v.Type().Field(i).Name)
		text := strings.TrimSpace(f.Get(name))
		switch {
		case fv.Type() == reflect.TypeOf(time.Duration(0)):
			d, err := time.ParseDuration(text)
			if err != nil {
				errs[name] = T(lang, "settings.bad_duration")
				continue
			}
			fv.SetInt(int64(d))
		case fv.Kind() == reflect.Bool:
			fv.SetBool(f.Get(name) == "1")
		case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
			n, err := strconv.ParseInt(text, 10, 32)
			if err != nil {
				errs[name] = T(lang, "settings.bad_number")
				continue
			}
			fv.SetInt(n)
		case fv.Kind() == reflect.String:
			fv.SetString(text)
		}
	}
	return cur, errs
}

// settingWord finds setting names in a problem the use case reported.
var settingWord = regexp.MustCompile(`[a-z][A-Za-z]+`)

// problemsBySetting spreads ValidateSettings' message ("invalid settings:
// p1; p2") over the settings each problem names.
func problemsBySetting(msg string, known map[string]bool) map[string]string {
	out := map[string]string{}
	msg = strings.TrimPrefix(msg, "invalid settings: ")
	for _, p := range strings.Split(msg, "; ") {
		for _, w := range settingWord.FindAllString(p, -1) {
			if known[w] {
				if out[w] != "" {
					out[w] += "; "
				}
				out[w] += p
			}
		}
	}
	return out
}

// saveSettings saves the whole form through the same use case as the
// admin API's PATCH; a refusal shows the form again as typed, with each
// problem beside the setting it names.
func (s *Service) saveSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	next, errs := settingsForm(c.lang, p.Settings, r.PostForm)
	if len(errs) == 0 {
		_, err = s.d.Admin.UpdatePool(r.Context(), c.meta, nil, func(ps *userpool.PoolSettings) error {
			*ps = next
			return nil
		})
		if err == nil {
			s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(p.ID)+"/settings?done=saved")
			return nil
		}
		if codeOf(err) != userpool.CodeInvalidArgument {
			return err
		}
		known := map[string]bool{}
		v := reflect.TypeOf(p.Settings)
		for i := range v.NumField() {
			known[admin.SettingName(v.Field(i).Name)] = true
		}
		errs = problemsBySetting(userpool.AsError(err).Message, known)
		if len(errs) == 0 { // a problem naming no setting: show it whole
			errs[""] = formError(c.lang, err)
		}
	}
	msg := T(c.lang, "settings.refused")
	if m := errs[""]; m != "" {
		msg += " " + m
	}
	s.render(w, r, c, http.StatusBadRequest, "settings", Page{Title: "nav.settings", Section: "nav.settings", Pool: p,
		Data: settingRows(p.Settings, r.PostForm, errs), Error: msg})
	return nil
}
