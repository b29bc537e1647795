package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// Codes are the settings of verification codes and their delivery. The
// policy part (validity, tries, sending limits, verifyOld*) is the initial
// value of the default pool's settings; after first start the stored
// settings rule.
type Codes struct {
	// CodeSecret keys the HMAC codes are stored under; "" means a random
	// secret generated at first start and kept in the store.
	CodeSecret string `json:"codeSecret"`
	// PhoneDefaultRegion is assumed for numbers without "+"; "ZZ" assumes
	// none (every number must be international).
	PhoneDefaultRegion string `json:"phoneDefaultRegion"`
	// PublicURL is the server's address as users reach it, for links in
	// mails; "" means http://<addr>.
	PublicURL string `json:"publicUrl"`
	// TemplateDir holds files overriding the built-in message templates.
	TemplateDir string `json:"templateDir"`
	// WebTemplatesDir holds replacements of the hosted pages' templates
	// (a file named like a built-in one) and an optional custom.css.
	WebTemplatesDir string `json:"webTemplatesDir"`

	Mailer   string `json:"mailer"` // console | smtp
	SMTPURL  string `json:"smtpUrl"`
	MailFrom string `json:"mailFrom"`

	SMS              string `json:"sms"` // console | http | twilio
	SMSHTTPURL       string `json:"smsHttpUrl"`
	SMSHTTPSecret    string `json:"smsHttpSecret"`
	TwilioAccountSID string `json:"twilioAccountSid"`
	TwilioAuthToken  string `json:"twilioAuthToken"`
	TwilioFrom       string `json:"twilioFrom"`
	TwilioBaseURL    string `json:"twilioBaseUrl"`

	SMSCodeTTL           Duration `json:"smsCodeTtl"`
	EmailCodeTTL         Duration `json:"emailCodeTtl"`
	CodeMaxAttempts      int      `json:"codeMaxAttempts"`
	SMSPhoneInterval     Duration `json:"smsPhoneInterval"`
	SMSPhonePerDay       int      `json:"smsPhonePerDay"`
	SMSIPPerHour         int      `json:"smsIpPerHour"`
	SMSCountryPerDay     int      `json:"smsCountryPerDay"`
	EmailAddressInterval Duration `json:"emailAddressInterval"`
	EmailAddressPerDay   int      `json:"emailAddressPerDay"`
	EmailIPPerHour       int      `json:"emailIpPerHour"`
	VerifyOldPhone       bool     `json:"verifyOldPhone"`
	VerifyOldEmail       bool     `json:"verifyOldEmail"`
}

func defaultCodes() Codes {
	d := userpool.DefaultPoolSettings()
	return Codes{
		PhoneDefaultRegion:   "CN",
		Mailer:               "console",
		SMS:                  "console",
		TwilioBaseURL:        "https://api.twilio.com",
		SMSCodeTTL:           Duration(d.SMSCodeTTL),
		EmailCodeTTL:         Duration(d.EmailCodeTTL),
		CodeMaxAttempts:      d.CodeMaxAttempts,
		SMSPhoneInterval:     Duration(d.SMSPhoneInterval),
		SMSPhonePerDay:       d.SMSPhonePerDay,
		SMSIPPerHour:         d.SMSIPPerHour,
		SMSCountryPerDay:     d.SMSCountryPerDay,
		EmailAddressInterval: Duration(d.EmailAddressInterval),
		EmailAddressPerDay:   d.EmailAddressPerDay,
		EmailIPPerHour:       d.EmailIPPerHour,
		VerifyOldPhone:       d.VerifyOldPhone,
		VerifyOldEmail:       d.VerifyOldEmail,
	}
}

// load reads the AUTHPOOL_* variables of c through env (which also reads
// <NAME>_FILE) and reports malformed values through bad.
func (c *Codes) load(env func(string) (string, bool), bad func(error)) {
	str := func(name string, dst *string) {
		if v, ok := env(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *Duration) {
		if v, ok := env(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				bad(fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = Duration(d)
		}
	}
	num := func(name string, dst *int) {
		if v, ok := env(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad(fmt.Errorf("%s: %q is not a whole number", name, v))
				return
			}
			*dst = n
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := env(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(fmt.Errorf("%s: %q is not true or false", name, v))
				return
			}
			*dst = b
		}
	}
	str("AUTHPOOL_CODE_SECRET", &c.CodeSecret)
	str("AUTHPOOL_PHONE_DEFAULT_REGION", &c.PhoneDefaultRegion)
	str("AUTHPOOL_PUBLIC_URL", &c.PublicURL)
	str("AUTHPOOL_TEMPLATE_DIR", &c.TemplateDir)
	str("AUTHPOOL_WEB_TEMPLATES_DIR", &c.WebTemplatesDir)
	str("AUTHPOOL_MAILER", &c.Mailer)
	str("AUTHPOOL_SMTP_URL", &c.SMTPURL)
	str("AUTHPOOL_MAIL_FROM", &c.MailFrom)
	str("AUTHPOOL_SMS", &c.SMS)
	str("AUTHPOOL_SMS_HTTP_URL", &c.SMSHTTPURL)
	str("AUTHPOOL_SMS_HTTP_SECRET", &c.SMSHTTPSecret)
	str("AUTHPOOL_TWILIO_ACCOUNT_SID", &c.TwilioAccountSID)
	str("AUTHPOOL_TWILIO_AUTH_TOKEN", &c.TwilioAuthToken)
	str("AUTHPOOL_TWILIO_FROM", &c.TwilioFrom)
	str("AUTHPOOL_TWILIO_BASE_URL", &c.TwilioBaseURL)
	dur("AUTHPOOL_SMS_CODE_TTL", &c.SMSCodeTTL)
	dur("AUTHPOOL_EMAIL_CODE_TTL", &c.EmailCodeTTL)
	num("AUTHPOOL_CODE_MAX_ATTEMPTS", &c.CodeMaxAttempts)
	dur("AUTHPOOL_SMS_PHONE_INTERVAL", &c.SMSPhoneInterval)
	num("AUTHPOOL_SMS_PHONE_PER_DAY", &c.SMSPhonePerDay)
	num("AUTHPOOL_SMS_IP_PER_HOUR", &c.SMSIPPerHour)
	num("AUTHPOOL_SMS_COUNTRY_PER_DAY", &c.SMSCountryPerDay)
	dur("AUTHPOOL_EMAIL_ADDRESS_INTERVAL", &c.EmailAddressInterval)
	num("AUTHPOOL_EMAIL_ADDRESS_PER_DAY", &c.EmailAddressPerDay)
	num("AUTHPOOL_EMAIL_IP_PER_HOUR", &c.EmailIPPerHour)
	boolean("AUTHPOOL_VERIFY_OLD_PHONE", &c.VerifyOldPhone)
	boolean("AUTHPOOL_VERIFY_OLD_EMAIL", &c.VerifyOldEmail)
}

// validate reports every invalid setting of c.
func (c Codes) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.CodeSecret != "" && len(c.CodeSecret) < 32 {
		bad("codeSecret (AUTHPOOL_CODE_SECRET) must be at least 32 bytes (or unset: a random one is kept in the store)")
	}
	if c.PhoneDefaultRegion != "ZZ" && !phonenumbers.GetSupportedRegions()[c.PhoneDefaultRegion] {
		bad("phoneDefaultRegion (AUTHPOOL_PHONE_DEFAULT_REGION) %q is not a region code such as CN or US (ZZ: numbers must start with +)", c.PhoneDefaultRegion)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("publicUrl (AUTHPOOL_PUBLIC_URL) must be an http:// or https:// URL")
		}
	}
	if _, err := notify.LoadTemplates(c.TemplateDir); err != nil {
		bad("templateDir (AUTHPOOL_TEMPLATE_DIR): %v", err)
	}
	if c.WebTemplatesDir != "" {
		if _, err := web.NewRendererDir(nil, c.WebTemplatesDir); err != nil {
			bad("webTemplatesDir (AUTHPOOL_WEB_TEMPLATES_DIR): %v", err)
		}
	}
	switch c.Mailer {
	case "console":
	case "smtp":
		if c.SMTPURL == "" || c.MailFrom == "" {
			bad("mailer smtp needs smtpUrl (AUTHPOOL_SMTP_URL) and mailFrom (AUTHPOOL_MAIL_FROM)")
		} else if _, err := notify.NewSMTPMailer(c.SMTP()); err != nil {
			bad("smtpUrl / mailFrom (AUTHPOOL_SMTP_URL, AUTHPOOL_MAIL_FROM): %v", err)
		}
	default:
		bad("mailer (AUTHPOOL_MAILER) must be console or smtp")
	}
	switch c.SMS {
	case "console":
	case "http":
		if _, err := notify.NewHTTPSMS(notify.HTTPSMSConfig{URL: c.SMSHTTPURL, Secret: c.SMSHTTPSecret}); err != nil {
			bad("sms http (AUTHPOOL_SMS_HTTP_URL, AUTHPOOL_SMS_HTTP_SECRET): %v", err)
		}
	case "twilio":
		if _, err := notify.NewTwilio(c.TwilioConfig()); err != nil {
			bad("sms twilio (AUTHPOOL_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM, _BASE_URL): %v", err)
		}
	default:
		bad("sms (AUTHPOOL_SMS) must be console, http or twilio")
	}
	if c.SMSCodeTTL < Duration(10*time.Second) || c.EmailCodeTTL < Duration(10*time.Second) {
		bad("smsCodeTtl and emailCodeTtl (AUTHPOOL_SMS_CODE_TTL, AUTHPOOL_EMAIL_CODE_TTL) must be at least 10s")
	}
	if c.CodeMaxAttempts < 1 || c.CodeMaxAttempts > 100 {
		bad("codeMaxAttempts (AUTHPOOL_CODE_MAX_ATTEMPTS) must be between 1 and 100")
	}
	if c.SMSPhoneInterval < 0 || c.EmailAddressInterval < 0 || c.SMSPhonePerDay < 0 || c.SMSIPPerHour < 0 ||
		c.SMSCountryPerDay < 0 || c.EmailAddressPerDay < 0 || c.EmailIPPerHour < 0 {
		bad("sending limits (AUTHPOOL_SMS_*, AUTHPOOL_EMAIL_* intervals and counts) must not be negative (0 disables one)")
	}
	return errs
}

// applyTo copies the policy part into pool settings.
func (c Codes) applyTo(s *userpool.PoolSettings) {
	s.SMSCodeTTL, s.EmailCodeTTL = time.Duration(c.SMSCodeTTL), time.Duration(c.EmailCodeTTL)
	s.CodeMaxAttempts = c.CodeMaxAttempts
	s.SMSPhoneInterval, s.SMSPhonePerDay = time.Duration(c.SMSPhoneInterval), c.SMSPhonePerDay
	s.SMSIPPerHour, s.SMSCountryPerDay = c.SMSIPPerHour, c.SMSCountryPerDay
	s.EmailAddressInterval, s.EmailAddressPerDay = time.Duration(c.EmailAddressInterval), c.EmailAddressPerDay
	s.EmailIPPerHour = c.EmailIPPerHour
	s.VerifyOldPhone, s.VerifyOldEmail = c.VerifyOldPhone, c.VerifyOldEmail
}

// SMTP returns the SMTP mailer configuration.
func (c Codes) SMTP() notify.SMTPConfig { return notify.SMTPConfig{URL: c.SMTPURL, From: c.MailFrom} }

// TwilioConfig returns the Twilio sender configuration.
func (c Codes) TwilioConfig() notify.TwilioConfig {
	return notify.TwilioConfig{AccountSID: c.TwilioAccountSID, AuthToken: c.TwilioAuthToken, From: c.TwilioFrom, BaseURL: c.TwilioBaseURL}
}

// PublicBase is PublicURL, or http://<addr> when it is unset (with
// "localhost" for an address that listens on every interface).
func (c Config) PublicBase() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "http://" + c.Addr
	}
	if ip, perr := netip.ParseAddr(host); host == "" || (perr == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
