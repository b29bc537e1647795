package authingcompat

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// resolver is the root resolver of schema.graphql: one method per root
// field (Query and Mutation alike), each decoding its arguments, calling a
// use case and encoding the answer.
type resolver struct{ s *Server }

// registerProfile is RegisterProfile.
type registerProfile struct {
	IP, Phone, Email, Oauth, Username, Nickname, Company, Photo, Device, Browser,
	Name, GivenName, FamilyName, MiddleName, Profile, PreferredUsername, Website,
	Gender, Birthdate, Zoneinfo, Locale, Address, Formatted, StreetAddress,
	Locality, Region, PostalCode, Country *string
	Udf *[]userDdfInput
}

// userDdfInput is UserDdfInput.
type userDdfInput struct{ Key, Value string }

// registerCommon are the optional members every Register*Input has.
type registerCommon struct {
	Profile       *registerProfile
	ForceLogin    *bool
	GenerateToken *bool
	ClientIP      *string
	Params        *string
	Context       *string
}

type registerByEmailInput struct {
	Email, Password string
	registerCommon
	PhoneToken *string
}

type registerByUsernameInput struct {
	Username, Password string
	registerCommon
	PhoneToken, EmailToken *string
}

// loginCommon are the optional members every password Login*Input has.
type loginCommon struct {
	CaptchaCode  *string
	AutoRegister *bool
	ClientIP     *string
	Params       *string
	Context      *string
}

type loginByEmailInput struct {
	Email, Password string
	loginCommon
}

type loginByUsernameInput struct {
	Username, Password string
	loginCommon
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (r *resolver) RegisterByEmail(ctx context.Context, args struct{ Input registerByEmailInput }) (*user, error) {
	in := args.Input
	return r.register(ctx, in.Password, in.registerCommon, tokens{phone: in.PhoneToken}, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Auth.RegisterByEmail(ctx, m, in.Email, pw, p, o)
	})
}

func (r *resolver) RegisterByUsername(ctx context.Context, args struct{ Input registerByUsernameInput }) (*user, error) {
	in := args.Input
	return r.register(ctx, in.Password, in.registerCommon, tokens{phone: in.PhoneToken, email: in.EmailToken}, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Auth.RegisterByUsername(ctx, m, in.Username, pw, p, o)
	})
}

// tokens are a registration's phoneToken and emailToken. On authpool they
// are the codes that prove profile.phone (an SMS code) and profile.email
// (a CHANGE_EMAIL code): Authing's own tokens come from calls outside the
// 24 methods, which authpool does not have (docs/AUTHING.md).
type tokens struct{ phone, email *string }

type registerFunc func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error)

// register is what the registrations share: decode the common members and
// the password, register, render.
func (r *resolver) register(ctx context.Context, encPw string, c registerCommon, tk tokens, do registerFunc) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	profile, extra, err := toProfile(c.Profile)
	if err != nil {
		return nil, err
	}
	claimedIP := extra.ip
	if c.ClientIP != nil {
		claimedIP = *c.ClientIP
	}
	custom, err := customData(c.Params, extra.udf)
	if err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, claimedIP)
	if m.Context, err = requestContext(c.Context); err != nil {
		return nil, err
	}
	pw, err := r.s.password(ctx, m, encPw)
	if err != nil {
		return nil, err
	}
	res, err := do(m, pw, profile, auth.RegisterOptions{
		ForceLogin: deref(c.ForceLogin), GenerateToken: deref(c.GenerateToken), CustomData: custom,
		Phone: extra.phone, PhoneCode: deref(tk.phone), Email: extra.email, EmailCode: deref(tk.email),
	})
	if err != nil {
		return nil, err
	}
	return r.s.render(m, res), nil
}

func (r *resolver) LoginByEmail(ctx context.Context, args struct{ Input loginByEmailInput }) (*user, error) {
	in := args.Input
	return r.login(ctx, in.Password, in.loginCommon, func(m auth.Meta, pw string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Auth.LoginByEmail(ctx, m, in.Email, pw, o)
	})
}

func (r *resolver) LoginByUsername(ctx context.Context, args struct{ Input loginByUsernameInput }) (*user, error) {
	in := args.Input
	return r.login(ctx, in.Password, in.loginCommon, func(m auth.Meta, pw string, o auth.LoginOptions) (*auth.Result, error) {
		return r.s.Auth.LoginByUsername(ctx, m, in.Username, pw, o)
	})
}

type loginFunc func(m auth.Meta, pw string, o auth.LoginOptions) (*auth.Result, error)

// login is what the password logins share. A stale bearer token the SDK
// sends along is not looked at.
func (r *resolver) login(ctx context.Context, encPw string, c loginCommon, do loginFunc) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	custom, err := customData(c.Params, nil)
	if err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, deref(c.ClientIP))
	if m.Context, err = requestContext(c.Context); err != nil {
		return nil, err
	}
	pw, err := r.s.password(ctx, m, encPw)
	if err != nil {
		return nil, err
	}
	res, err := do(m, pw, auth.LoginOptions{AutoRegister: deref(c.AutoRegister), CaptchaCode: deref(c.CaptchaCode), CustomData: custom})
	if err != nil {
		return nil, err
	}
	return r.s.render(m, res), nil
}

// render is a use case's user answer. Its customData is the answer's own
// when the use case read it (logins, registrations, the current user),
// else read on demand with the answer's token, and only when the document
// selects it.
func (s *Server) render(m auth.Meta, res *auth.Result) *user {
	u := fromResult(res)
	if res.CustomData == nil && res.Token != "" {
		tok := res.Token
		u.loadCustom = func(ctx context.Context) ([]auth.UDV, error) { return s.Data.ListUdv(ctx, m, tok) }
	}
	return u
}

// CheckLoginStatus answers in data, never as an error: the token argument,
// else the bearer token, is valid or not, with 2020/2206/2207.
func (r *resolver) CheckLoginStatus(ctx context.Context, args struct{ Token *string }) (*jwtStatus, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	tok := deref(args.Token)
	if tok == "" {
		tok = cl.bearer
	}
	st, err := r.s.Auth.CheckLoginStatus(ctx, r.s.meta(cl.r, ""), tok)
	if err != nil {
		return nil, err
	}
	code := int32(st.Code)
	out := &jwtStatus{Code: &code, Status: boolean(st.Status)}
	if !st.Status {
		msg := message(lang(cl.r), userpool.Errorf(st.Code, reasonOf(st.Code), "%s", st.Message))
		out.Message = &msg
		return out, nil
	}
	out.Message = str(okMessage(lang(cl.r), "logged_in"))
	out.Exp, out.Iat = epoch(st.Exp), epoch(st.Iat)
	out.Data = &jwtDetail{ID: str(st.UserID), UserPoolID: str(st.UserPoolID), Arn: str(arn(st.UserPoolID, st.UserID))}
	return out, nil
}

// reasonOf names the codes a login status may carry, for their messages.
func reasonOf(c userpool.Code) string {
	switch c {
	case userpool.CodeNotLoggedIn:
		return "not_logged_in"
	case userpool.CodeTokenExpired:
		return "token_expired"
	}
	return "token_invalid"
}

// profileExtras are the members of RegisterProfile that are not profile
// fields.
type profileExtras struct {
	ip           string // a claimed client address, like clientIp
	phone, email string // identifiers proven by phoneToken and emailToken
	udf          []userDdfInput
}

// toProfile decodes RegisterProfile. Fields authpool does not keep are
// refused rather than dropped.
func toProfile(p *registerProfile) (userpool.Profile, profileExtras, error) {
	if p == nil {
		return userpool.Profile{}, profileExtras{}, nil
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"profile.formatted", p.Formatted}, {"profile.oauth", p.Oauth}} {
		if deref(f.v) != "" {
			return userpool.Profile{}, profileExtras{}, readOnly(f.name)
		}
	}
	extra := profileExtras{ip: deref(p.IP), phone: deref(p.Phone), email: deref(p.Email)}
	if p.Udf != nil {
		extra.udf = *p.Udf
	}
	return userpool.Profile{
		Username: deref(p.Username), Nickname: deref(p.Nickname), Company: deref(p.Company),
		Photo: deref(p.Photo), Device: deref(p.Device), Browser: deref(p.Browser),
		Name: deref(p.Name), GivenName: deref(p.GivenName), FamilyName: deref(p.FamilyName),
		MiddleName: deref(p.MiddleName), Profile: deref(p.Profile),
		PreferredUsername: deref(p.PreferredUsername), Website: deref(p.Website),
		Gender: deref(p.Gender), Birthdate: deref(p.Birthdate), Zoneinfo: deref(p.Zoneinfo),
		Locale: deref(p.Locale), Address: deref(p.Address), StreetAddress: deref(p.StreetAddress),
		Locality: deref(p.Locality), Region: deref(p.Region), PostalCode: deref(p.PostalCode),
		Country: deref(p.Country),
	}, extra, nil
}

// maxExtraBytes bounds params and context, which are JSON text.
const maxExtraBytes = 8 << 10

// requestContext decodes the context option: a JSON object for the pool's
// pipelines, carried to the use cases in auth.Meta.Context. The SDKs send
// null when there is none.
func requestContext(text *string) (map[string]any, error) {
	c := strings.TrimSpace(deref(text))
	if c == "" || c == "null" {
		return nil, nil
	}
	var obj map[string]any
	if len(c) > maxExtraBytes || json.Unmarshal([]byte(c), &obj) != nil || obj == nil {
		return nil, invalidArg("invalid_context", "context must be a JSON object of at most %d bytes", maxExtraBytes)
	}
	return obj, nil
}

func invalidArg(reason, format string, args ...any) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, reason, format, args...)
}

func readOnly(field string) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, "read_only_field", "%s cannot be set on this server", field)
}
