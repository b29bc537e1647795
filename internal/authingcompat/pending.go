package authingcompat

import (
	"context"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// The operations below belong to use cases of later issues. Each group is a
// small interface in Deps; while it is nil the operations answer
// notImplemented (code 1003, reason not_implemented) and change nothing.
// Wiring one is: give auth.Service the methods (or write a thin adapter
// with these signatures) and set the Deps field in internal/server.

// Codes are the one-time-code use cases: SMS and email codes, phone
// accounts, password reset, changing phone and email (issue 3).
type Codes interface {
	SendSMSCode(ctx context.Context, m auth.Meta, phone, countryCode, scene string) error
	SendEmailCode(ctx context.Context, m auth.Meta, email, scene string) error
	RegisterByPhoneCode(ctx context.Context, m auth.Meta, phone, countryCode, code, pw string, profile userpool.Profile, opts auth.RegisterOptions) (*auth.Result, error)
	LoginByPhoneCode(ctx context.Context, m auth.Meta, phone, countryCode, code string, opts auth.LoginOptions) (*auth.Result, error)
	LoginByPhonePassword(ctx context.Context, m auth.Meta, phone, pw string, opts auth.LoginOptions) (*auth.Result, error)
	ResetPasswordByPhoneCode(ctx context.Context, m auth.Meta, phone, countryCode, code, newPw string) error
	ResetPasswordByEmailCode(ctx context.Context, m auth.Meta, email, code, newPw string) error
	UpdatePhone(ctx context.Context, m auth.Meta, tok, phone, countryCode, code, oldPhone, oldCountryCode, oldCode string) (*auth.Result, error)
	UpdateEmail(ctx context.Context, m auth.Meta, tok, email, code, oldEmail, oldCode string) (*auth.Result, error)
	BindPhone(ctx context.Context, m auth.Meta, tok, phone, countryCode, code string) (*auth.Result, error)
	UnbindPhone(ctx context.Context, m auth.Meta, tok string) (*auth.Result, error)
}

// Captchas makes CAPTCHA images for browser login pages (issue 4): the
// answer is bound to the returned cookie value.
type Captchas interface {
	NewCaptcha(ctx context.Context, m auth.Meta) (cookie string, png []byte, err error)
}

// UserData are the user-defined values of the caller (issue 5). values
// travel as JSON text (see UDV); every change answers the full list.
type UserData interface {
	ListUdv(ctx context.Context, m auth.Meta, tok, userID string) ([]UDV, error)
	SetUdv(ctx context.Context, m auth.Meta, tok, userID, key, jsonValue string) ([]UDV, error)
	RemoveUdv(ctx context.Context, m auth.Meta, tok, userID, key string) ([]UDV, error)
	// ValuesOf are a user's values for User.customData.
	ValuesOf(ctx context.Context, m auth.Meta, poolID, userID string) ([]UDV, error)
}

// notImplemented is the answer of an operation whose use case is not in
// this build.
func notImplemented(what, issue string) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, "not_implemented", "%s is not implemented in this build (%s)", what, issue)
}

func notImplementedIfSet(v *string, what, issue string) error {
	if deref(v) != "" {
		return notImplemented(what, issue)
	}
	return nil
}

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
	AutoRegister     *bool
	ClientIP         *string
	Params           *string
	Context          *string
}

type loginByPhonePasswordInput struct {
	Phone, Password string
	loginCommon
}

func (r *resolver) RegisterByPhoneCode(ctx context.Context, args struct{ Input registerByPhoneCodeInput }) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("registerByPhoneCode", "issue 3")
	}
	in := args.Input
	if err := notImplementedIfSet(in.EmailToken, "emailToken", "issue 3"); err != nil {
		return nil, err
	}
	return r.register(ctx, deref(in.Password), in.registerCommon, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Codes.RegisterByPhoneCode(ctx, m, in.Phone, deref(in.PhoneCountryCode), in.Code, pw, p, o)
	})
}

func (r *resolver) LoginByPhoneCode(ctx context.Context, args struct{ Input loginByPhoneCodeInput }) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("loginByPhoneCode", "issue 3")
	}
	in := args.Input
	c := loginCommon{AutoRegister: in.AutoRegister, ClientIP: in.ClientIP, Params: in.Params, Context: in.Context}
	// No password: login's decryption of "" is a no-op.
	return r.login(ctx, "", c, func(m auth.Meta, _ string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Codes.LoginByPhoneCode(ctx, m, in.Phone, deref(in.PhoneCountryCode), in.Code, o)
	})
}

func (r *resolver) LoginByPhonePassword(ctx context.Context, args struct{ Input loginByPhonePasswordInput }) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("loginByPhonePassword", "issue 3")
	}
	in := args.Input
	return r.login(ctx, in.Password, in.loginCommon, func(m auth.Meta, pw string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Codes.LoginByPhonePassword(ctx, m, in.Phone, pw, o)
	})
}

func (r *resolver) SendEmail(ctx context.Context, args struct{ Email, Scene string }) (*commonMessage, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("sendEmail", "issue 3")
	}
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	if err := r.s.Codes.SendEmailCode(ctx, r.s.meta(cl.r, ""), args.Email, args.Scene); err != nil {
		return nil, err
	}
	return r.s.ok(cl, "sent"), nil
}

func (r *resolver) ResetPassword(ctx context.Context, args struct {
	Phone, PhoneCountryCode, Email *string
	Code, NewPassword              string
}) (*commonMessage, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("resetPassword", "issue 3")
	}
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
		err = r.s.Codes.ResetPasswordByPhoneCode(ctx, m, *args.Phone, deref(args.PhoneCountryCode), args.Code, pw)
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
	if r.s.Codes == nil {
		return nil, notImplemented("updatePhone", "issue 3")
	}
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UpdatePhone(ctx, m, tok, args.Phone, deref(args.PhoneCountryCode), args.PhoneCode,
			deref(args.OldPhone), deref(args.OldPhoneCountryCode), deref(args.OldPhoneCode))
	})
}

func (r *resolver) UpdateEmail(ctx context.Context, args struct {
	Email, EmailCode       string
	OldEmail, OldEmailCode *string
}) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("updateEmail", "issue 3")
	}
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UpdateEmail(ctx, m, tok, args.Email, args.EmailCode, deref(args.OldEmail), deref(args.OldEmailCode))
	})
}

func (r *resolver) BindPhone(ctx context.Context, args struct {
	Phone, PhoneCode string
	PhoneCountryCode *string
}) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("bindPhone", "issue 3")
	}
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.BindPhone(ctx, m, tok, args.Phone, deref(args.PhoneCountryCode), args.PhoneCode)
	})
}

func (r *resolver) UnbindPhone(ctx context.Context) (*user, error) {
	if r.s.Codes == nil {
		return nil, notImplemented("unbindPhone", "issue 3")
	}
	return r.authenticated(ctx, func(m auth.Meta, tok string) (*auth.Result, error) {
		return r.s.Codes.UnbindPhone(ctx, m, tok)
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
	return r.s.render(ctx, m, res)
}

func (s *Server) ok(cl *call, key string) *commonMessage {
	code := int32(200)
	return &commonMessage{Code: &code, Message: str(okMessage(lang(cl.r), key))}
}

// udvArgs are the arguments every UDV operation has; the SDKs always send
// targetType USER and the caller's own id.
type udvArgs struct {
	TargetType string
	TargetID   string
}

func (a udvArgs) check() error {
	if a.TargetType != "USER" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "invalid_argument", "only targetType USER is served")
	}
	return nil
}

func (r *resolver) Udv(ctx context.Context, args udvArgs) ([]*udvOut, error) {
	return r.udv(ctx, args, func(m auth.Meta, tok string) ([]UDV, error) {
		return r.s.Data.ListUdv(ctx, m, tok, args.TargetID)
	})
}

func (r *resolver) SetUdv(ctx context.Context, args struct {
	udvArgs
	Key, Value string
}) (*[]*udvOut, error) {
	out, err := r.udv(ctx, args.udvArgs, func(m auth.Meta, tok string) ([]UDV, error) {
		return r.s.Data.SetUdv(ctx, m, tok, args.TargetID, args.Key, args.Value)
	})
	return &out, err
}

func (r *resolver) RemoveUdv(ctx context.Context, args struct {
	udvArgs
	Key string
}) (*[]*udvOut, error) {
	out, err := r.udv(ctx, args.udvArgs, func(m auth.Meta, tok string) ([]UDV, error) {
		return r.s.Data.RemoveUdv(ctx, m, tok, args.TargetID, args.Key)
	})
	return &out, err
}

func (r *resolver) udv(ctx context.Context, args udvArgs, do func(m auth.Meta, tok string) ([]UDV, error)) ([]*udvOut, error) {
	if r.s.Data == nil {
		return nil, notImplemented("user-defined values (udv, setUdv, removeUdv)", "issue 5")
	}
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	vs, err := do(r.s.meta(cl.r, ""), cl.bearer)
	if err != nil {
		return nil, err
	}
	return fromUDVs(vs), nil
}
