package authingcompat

import (
	"context"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// The operations of one-time codes: phone accounts, SMS and email codes,
// password reset, binding and changing phone and email. What is Authing's
// here is the wire: phone numbers come as a national number plus a
// separate phoneCountryCode, and scenes have Authing's names.

type registerByPhoneCodeInput struct {
	Phone, Code      string
	PhoneCountryCode *string
	Password         *string
	registerCommon
	EmailToken *string
}

type loginByPhoneCodeInput struct {
	Phone, Code      string
	PhoneCountryCode *string
	// AutoRegister is accepted and has no effect: a code login creates the
	// account of a number nobody has (when the pool lets users register by
	// phone), as on Authing.
	AutoRegister *bool
	ClientIP     *string
	Params       *string
	Context      *string
}

type loginByPhonePasswordInput struct {
	Phone, Password string
	loginCommon
}

// withCountryCode joins Authing's phoneCountryCode ("+86", "86") to a
// national number; the use cases read numbers with "+" as international
// and others in the configured default region. A number that already has
// its "+" keeps it, and must agree with a country code given beside it.
func withCountryCode(phone string, cc *string) (string, error) {
	phone = strings.TrimSpace(phone)
	code := strings.TrimPrefix(strings.TrimSpace(deref(cc)), "+")
	if code == "" {
		return phone, nil
	}
	if len(code) > 4 || strings.Trim(code, "0123456789") != "" {
		return "", invalidArg("invalid_country_code", "phoneCountryCode must be a country calling code such as +86")
	}
	if strings.HasPrefix(phone, "+") {
		if !strings.HasPrefix(phone, "+"+code) {
			return "", invalidArg("invalid_country_code", "phoneCountryCode +%s does not match the number's own country code", code)
		}
		return phone, nil
	}
	return "+" + code + phone, nil
}

// smsScenes are the scenes of Authing's sendSmsCode. One SMS code serves
// every phone flow in authpool (as in Authing), so a known scene only
// passes the check.
var smsScenes = map[string]bool{
	"": true, "login": true, "register": true, "reset": true, "bind": true, "unbind": true,
	"mfa-bind": true, "mfa-verify": true, "mfa-unbind": true, "complete-phone": true,
}

// emailScenes maps Authing's EmailScene values to the use cases' scenes.
// The 4.23.55 aliases of those map to them; scenes of features authpool
// does not have (code login, ...) are refused, since no call here would
// accept their codes. MFA_VERIFY codes pass the email second factor.
var emailScenes = map[string]string{
	"RESET_PASSWORD": "RESET_PASSWORD", "RESET_PASSWORD_VERIFY_CODE": "RESET_PASSWORD",
	"VERIFY_EMAIL": "VERIFY_EMAIL",
	"CHANGE_EMAIL": "CHANGE_EMAIL", "EMAIL_BIND_VERIFY_CODE": "CHANGE_EMAIL",
	"MFA_VERIFY": "MFA_VERIFY", "MFA_VERIFY_CODE": "MFA_VERIFY",
}

func (r *resolver) RegisterByPhoneCode(ctx context.Context, args struct{ Input registerByPhoneCodeInput }) (*user, error) {
	in := args.Input
	phone, err := withCountryCode(in.Phone, in.PhoneCountryCode)
	if err != nil {
		return nil, err
	}
	c := in.registerCommon
	return r.register(ctx, deref(in.Password), c, tokens{email: in.EmailToken}, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Codes.RegisterByPhoneCode(ctx, m, phone, in.Code, pw, p, o)
	})
}

func (r *resolver) LoginByPhoneCode(ctx context.Context, args struct{ Input loginByPhoneCodeInput }) (*user, error) {
	in := args.Input
	phone, err := withCountryCode(in.Phone, in.PhoneCountryCode)
	if err != nil {
		return nil, err
	}
	c := loginCommon{ClientIP: in.ClientIP, Params: in.Params, Context: in.Context}
	// No password: login's decryption of "" is a no-op.
	return r.login(ctx, "", c, func(m auth.Meta, _ string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Codes.LoginByPhoneCode(ctx, m, phone, in.Code, o)
	})
}

func (r *resolver) LoginByPhonePassword(ctx context.Context, args struct{ Input loginByPhonePasswordInput }) (*user, error) {
	in := args.Input
	return r.login(ctx, in.Password, in.loginCommon, func(m auth.Meta, pw string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Codes.LoginByPhonePassword(ctx, m, in.Phone, pw, o)
	})
}

func (r *resolver) SendEmail(ctx context.Context, args struct{ Email, Scene string }) (*commonMessage, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	scene, ok := emailScenes[args.Scene]
	if !ok {
		return nil, invalidArg("invalid_scene", "scene %s is not served by this server: use RESET_PASSWORD, VERIFY_EMAIL, CHANGE_EMAIL or MFA_VERIFY", args.Scene)
	}
	if err := r.s.Codes.SendEmail(ctx, r.s.meta(cl.r, ""), args.Email, scene); err != nil {
		return nil, err
	}
	return r.s.ok(cl, "sent"), nil
}

// ResetPassword resets by phone when a phone is given, else by email.
func (r *resolver) ResetPassword(ctx context.Context, args struct {
	Phone, PhoneCountryCode, Email *string
	Code, NewPassword              string
}) (*commonMessage, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, "")
	pw, err := r.s.password(ctx, m, args.NewPassword)
	if err != nil {
		return nil, err
	}
	switch {
	case deref(args.Phone) != "":
		var phone string
		if phone, err = withCountryCode(*args.Phone, args.PhoneCountryCode); err == nil {
			err = r.s.Codes.ResetPasswordByPhoneCode(ctx, m, phone, args.Code, pw)
		}
	case deref(args.Email) != "":
		err = r.s.Codes.ResetPasswordByEmailCode(ctx, m, *args.Email, args.Code, pw)
	default:
		err = userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "phone or email is required")
	}
	if err != nil {
		return nil, err
	}
	return r.s.ok(cl, "reset"), nil
}

func (r *resolver) UpdatePhone(ctx context.Context, args struct {
	Phone, PhoneCode                      string
	OldPhone, OldPhoneCode                *string
	PhoneCountryCode, OldPhoneCountryCode *string
}) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		phone, err := withCountryCode(args.Phone, args.PhoneCountryCode)
		if err != nil {
			return nil, err
		}
		old := deref(args.OldPhone)
		if old != "" {
			if old, err = withCountryCode(old, args.OldPhoneCountryCode); err != nil {
				return nil, err
			}
		}
		return r.s.Codes.UpdatePhone(ctx, m, tok, phone, args.PhoneCode, old, deref(args.OldPhoneCode))
	})
}

func (r *resolver) UpdateEmail(ctx context.Context, args struct {
	Email, EmailCode       string
	OldEmail, OldEmailCode *string
}) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UpdateEmail(ctx, m, tok, args.Email, args.EmailCode, deref(args.OldEmail), deref(args.OldEmailCode))
	})
}

func (r *resolver) BindPhone(ctx context.Context, args struct {
	Phone, PhoneCode string
	PhoneCountryCode *string
}) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		phone, err := withCountryCode(args.Phone, args.PhoneCountryCode)
		if err != nil {
			return nil, err
		}
		return r.s.Codes.BindPhone(ctx, m, tok, phone, args.PhoneCode)
	})
}

func (r *resolver) UnbindPhone(ctx context.Context) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UnbindPhone(ctx, m, tok)
	})
}

// BindEmail binds a first email address proven by a CHANGE_EMAIL code
// (the Python SDK's bind_email; not one of the reference's 24 methods).
func (r *resolver) BindEmail(ctx context.Context, args struct{ Email, EmailCode string }) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.BindEmail(ctx, m, tok, args.Email, args.EmailCode)
	})
}

func (r *resolver) UnbindEmail(ctx context.Context) (*user, error) {
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UnbindEmail(ctx, m, tok)
	})
}

// authenticated runs an operation of the caller's account and renders its
// user, whose token must be the caller's (the SDKs store it).
func (r *resolver) authenticated(ctx context.Context, do func(m auth.Meta, tok string) (*auth.Result, error)) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, "")
	res, err := do(m, cl.bearer)
	if err != nil {
		return nil, err
	}
	if res.Token == "" {
		res.Token = cl.bearer
	}
	return r.s.render(m, res), nil
}

func (s *Server) ok(cl *call, key string) *commonMessage {
	code := int32(200)
	return &commonMessage{Code: &code, Message: str(okMessage(lang(cl.r), key))}
}
