package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"golang.org/x/text/language"
)

//go:embed templates/*.txt
var builtin embed.FS

// Languages of the built-in texts.
const (
	English           = "en"
	SimplifiedChinese = "zh-CN"
)

// Kinds of message; each is a template file "<kind>.<language>.txt".
const (
	KindSMS           = "sms"
	KindResetPassword = "reset_password"
	KindVerifyEmail   = "verify_email"
	KindChangeEmail   = "change_email"
	KindMFAVerify     = "mfa_verify"
)

var (
	kinds     = []string{KindSMS, KindResetPassword, KindVerifyEmail, KindChangeEmail, KindMFAVerify}
	languages = []string{English, SimplifiedChinese}
	matcher   = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})
)

// Data is what a template may use: {{.Code}}, {{.Minutes}} (validity,
// rounded up), {{.Link}} (the confirmation link of VERIFY_EMAIL mails) and
// {{.To}} (the recipient).
type Data struct {
	Code    string
	Minutes int
	Link    string
	To      string
}

// Templates are the texts of every kind of message in every language. A
// mail template's first line is "Subject: ...", then a blank line, then
// the body; an SMS template is the text alone.
type Templates struct {
	t map[string]*template.Template // "<kind>.<language>"
}

// LoadTemplates returns the built-in templates, each replaced by the file
// of the same name in dir when dir is not "". A file in dir whose name is
// not "<kind>.<language>.txt" for a known kind and language is an error (a
// typo would otherwise silently keep the default), and so is a template
// that does not render.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{t: map[string]*template.Template{}}
	for _, k := range kinds {
		for _, l := range languages {
			name := k + "." + l + ".txt"
			b, err := fs.ReadFile(builtin, "templates/"+name)
			if err != nil {
				return nil, fmt.Errorf("notify: built-in template %s: %w", name, err)
			}
			if err := t.add(k, l, name, string(b)); err != nil {
				return nil, err
			}
		}
	}
	if dir == "" {
		return t, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("notify: template directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		k, l, ok := splitName(e.Name())
		if !ok {
			errs = append(errs, fmt.Errorf("notify: template %s: want <kind>.<language>.txt with kind one of %v and language one of %v", e.Name(), kinds, languages))
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: template %s: %w", e.Name(), err))
			continue
		}
		if err := t.add(k, l, e.Name(), string(b)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func splitName(name string) (kind, lang string, ok bool) {
	base := strings.TrimSuffix(name, ".txt")
	kind, lang, ok = strings.Cut(base, ".")
	if !ok {
		return "", "", false
	}
	knownKind, knownLang := false, false
	for _, k := range kinds {
		knownKind = knownKind || k == kind
	}
	for _, l := range languages {
		knownLang = knownLang || l == lang
	}
	return kind, lang, knownKind && knownLang
}

// add parses one template and renders it once with sample data, so that a
// broken template stops the server at start, not a user's request later.
func (t *Templates) add(kind, lang, name, text string) error {
	tpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return fmt.Errorf("notify: template %s: %w", name, err)
	}
	t.t[kind+"."+lang] = tpl
	if _, _, err := t.Render(kind, lang, Data{Code: "000000", Minutes: 1, Link: "https://example.com/", To: "to@example.com"}); err != nil {
		return fmt.Errorf("notify: template %s: %w", name, err)
	}
	return nil
}

// Render renders the kind's template in lang (English when lang has
// none). For mail kinds it returns the subject and the body; for SMS the
// subject is "".
func (t *Templates) Render(kind, lang string, d Data) (subject, text string, err error) {
	tpl, ok := t.t[kind+"."+lang]
	if !ok {
		tpl, ok = t.t[kind+"."+English]
	}
	if !ok {
		return "", "", fmt.Errorf("notify: no template for %q", kind)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, d); err != nil {
		return "", "", err
	}
	out := strings.ReplaceAll(b.String(), "\r\n", "\n")
	if kind == KindSMS {
		return "", strings.TrimSpace(out), nil
	}
	first, rest, _ := strings.Cut(out, "\n")
	subject, ok = strings.CutPrefix(first, "Subject:")
	if !ok {
		return "", "", errors.New(`a mail template must start with a "Subject: ..." line`)
	}
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return "", "", errors.New("the subject is empty")
	}
	return subject, strings.TrimLeft(rest, "\n"), nil
}

// MatchLanguage picks the language of a message: the user's profile
// locale when it names a language we have, else the best of the request's
// Accept-Language, else English. Malformed values are ignored.
func MatchLanguage(locale, acceptLanguage string) string {
	var tags []language.Tag
	if locale != "" {
		if tag, err := language.Parse(locale); err == nil {
			tags = append(tags, tag)
		}
	}
	if acceptLanguage != "" && len(acceptLanguage) <= 256 {
		if ts, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
			tags = append(tags, ts...)
		}
	}
	if len(tags) == 0 {
		return English
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	return languages[i]
}
