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
	if err := notImplementedIfSet(in.PhoneToken, "phoneToken", "issue 3"); err != nil {
		return nil, err
	}
	return r.register(ctx, in.Password, in.registerCommon, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Auth.RegisterByEmail(ctx, m, in.Email, pw, p, o)
	})
}

func (r *resolver) RegisterByUsername(ctx context.Context, args struct{ Input registerByUsernameInput }) (*user, error) {
	in := args.Input
	if err := notImplementedIfSet(in.PhoneToken, "phoneToken", "issue 3"); err != nil {
		return nil, err
	}
	if err := notImplementedIfSet(in.EmailToken, "emailToken", "issue 3"); err != nil {
		return nil, err
	}
	return r.register(ctx, in.Password, in.registerCommon, func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error) {
		return r.s.Auth.RegisterByUsername(ctx, m, in.Username, pw, p, o)
	})
}

type registerFunc func(m auth.Meta, pw string, p userpool.Profile, o auth.RegisterOptions) (*auth.Result, error)

// register is what the password registrations share: decode the common
// members and the password, register, render.
func (r *resolver) register(ctx context.Context, encPw string, c registerCommon, do registerFunc) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	profile, claimedIP, err := toProfile(c.Profile)
	if err != nil {
		return nil, err
	}
	if c.ClientIP != nil {
		claimedIP = *c.ClientIP
	}
	if err := checkExtras(c.Params, c.Context); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, claimedIP)
	pw, err := r.s.password(ctx, m, encPw)
	if err != nil {
		return nil, err
	}
	res, err := do(m, pw, profile, auth.RegisterOptions{ForceLogin: deref(c.ForceLogin), GenerateToken: deref(c.GenerateToken)})
	if err != nil {
		return nil, err
	}
	return r.s.render(ctx, m, res)
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
	if err := checkExtras(c.Params, c.Context); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, deref(c.ClientIP))
	pw, err := r.s.password(ctx, m, encPw)
	if err != nil {
		return nil, err
	}
	res, err := do(m, pw, auth.LoginOptions{AutoRegister: deref(c.AutoRegister), CaptchaCode: deref(c.CaptchaCode)})
	if err != nil {
		return nil, err
	}
	return r.s.render(ctx, m, res)
}

// render is a user answer with its custom data when user-defined values
// exist in this build.
func (s *Server) render(ctx context.Context, m auth.Meta, res *auth.Result) (*user, error) {
	var data []UDV
	if s.Data != nil {
		var err error
		if data, err = s.Data.ValuesOf(ctx, m, res.User.PoolID, res.User.ID); err != nil {
			return nil, err
		}
	}
	return fromResult(res, data), nil
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

// toProfile decodes RegisterProfile. ip is returned as a claimed client
// address (believed only from a trusted proxy, like clientIp); fields
// authpool does not keep, or that need a verification this build lacks,
// are refused rather than dropped.
func toProfile(p *registerProfile) (userpool.Profile, string, error) {
	if p == nil {
		return userpool.Profile{}, "", nil
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"profile.formatted", p.Formatted}, {"profile.oauth", p.Oauth}} {
		if deref(f.v) != "" {
			return userpool.Profile{}, "", readOnly(f.name)
		}
	}
	if err := notImplementedIfSet(p.Phone, "profile.phone (with phoneToken)", "issue 3"); err != nil {
		return userpool.Profile{}, "", err
	}
	if err := notImplementedIfSet(p.Email, "profile.email (with emailToken)", "issue 3"); err != nil {
		return userpool.Profile{}, "", err
	}
	if p.Udf != nil && len(*p.Udf) > 0 {
		return userpool.Profile{}, "", notImplemented("profile.udf (user-defined values)", "issue 5")
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
	}, deref(p.IP), nil
}

// maxExtraBytes bounds params and context, which are JSON text.
const maxExtraBytes = 8 << 10

// checkExtras validates params (user-defined values to set, a JSON list)
// and context (for pipelines, a JSON object). The SDKs send both, usually
// null. Until user-defined values exist in this build a non-empty params
// is refused, so that nothing asked for is silently dropped; context is
// checked and, with no pipelines to hand it to, has no effect.
func checkExtras(params, ctxJSON *string) error {
	if p := strings.TrimSpace(deref(params)); p != "" {
		var list []json.RawMessage
		if len(p) > maxExtraBytes || json.Unmarshal([]byte(p), &list) != nil {
			return invalidArg("invalid_params", "params must be a JSON list of {key, value} of at most %d bytes", maxExtraBytes)
		}
		if len(list) > 0 {
			return notImplemented("params (user-defined values)", "issue 5")
		}
	}
	if c := strings.TrimSpace(deref(ctxJSON)); c != "" {
		var obj map[string]json.RawMessage
		if len(c) > maxExtraBytes || json.Unmarshal([]byte(c), &obj) != nil {
			return invalidArg("invalid_context", "context must be a JSON object of at most %d bytes", maxExtraBytes)
		}
	}
	return nil
}

func invalidArg(reason, format string, args ...any) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, reason, format, args...)
}

func readOnly(field string) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, "read_only_field", "%s cannot be set on this server", field)
}
