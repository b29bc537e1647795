package authingcompat

import (
	"context"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/userpool"
)

// User is the caller's own user, with the caller's token (the JS SDK's
// getCurrentUser stores it). Another user's id is refused: this is an
// end-user endpoint.
func (r *resolver) User(ctx context.Context, args struct{ ID *string }) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, "")
	res, err := r.s.Auth.GetCurrentUser(ctx, m, cl.bearer)
	if err != nil {
		return nil, err
	}
	if id := deref(args.ID); id != "" && id != res.User.ID {
		return nil, userpool.Errorf(userpool.CodeNoPermission, "no_permission", "an end user may read only their own account")
	}
	return r.s.render(m, res), nil
}

// updateUserInput is UpdateUserInput.
type updateUserInput struct {
	Email, Unionid, Openid                          *string
	EmailVerified                                   *bool
	Phone                                           *string
	PhoneVerified                                   *bool
	Username, Nickname, Password, Photo, Company    *string
	Browser, Device, Oauth, TokenExpiredAt          *string
	LoginsCount                                     *int32
	LastLogin, LastIP                               *string
	Blocked                                         *bool
	Name, GivenName, FamilyName, MiddleName         *string
	Profile, PreferredUsername, Website, Gender     *string
	Birthdate, Zoneinfo, Locale, Address, Formatted *string
	StreetAddress, Locality, Region, PostalCode     *string
	City, Province, Country, ExternalID             *string
	PhoneCountryCode                                *string
	MainDepartmentID, MainDepartmentCode, ExpiredAt *string
	DirectManagement                                *string
}

// readOnlyFields are the UpdateUserInput members an end user may not set
// (administrative ones) or authpool does not keep: refused, not dropped.
func (in *updateUserInput) readOnlyFields() error {
	set := func(p *string) bool { return p != nil }
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"unionid", set(in.Unionid)}, {"openid", set(in.Openid)},
		{"emailVerified", in.EmailVerified != nil}, {"phoneVerified", in.PhoneVerified != nil},
		{"oauth", set(in.Oauth)}, {"tokenExpiredAt", set(in.TokenExpiredAt)},
		{"loginsCount", in.LoginsCount != nil}, {"lastLogin", set(in.LastLogin)},
		{"blocked", in.Blocked != nil}, {"formatted", set(in.Formatted)},
		{"externalId", set(in.ExternalID)}, {"phoneCountryCode", set(in.PhoneCountryCode)},
		{"mainDepartmentId", set(in.MainDepartmentID)}, {"mainDepartmentCode", set(in.MainDepartmentCode)},
		{"expiredAt", set(in.ExpiredAt)}, {"directManagement", set(in.DirectManagement)},
	} {
		if f.set {
			return userpool.Errorf(userpool.CodeInvalidArgument, "read_only_field", "%s cannot be changed with updateUser", f.name)
		}
	}
	return nil
}

// UpdateUser changes the caller's profile. email and phone change only
// with the emailToken or phoneToken that proves them (else 2225, 2226:
// updateEmail and updatePhone are the usual calls); password has its own
// operation (1003).
func (r *resolver) UpdateUser(ctx context.Context, args struct {
	ID         *string
	Input      updateUserInput
	EmailToken *string
	PhoneToken *string
}) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	in := &args.Input
	phone := in.Phone
	if in.Phone != nil && in.PhoneCountryCode != nil {
		// Authing's national number and country code, as one number.
		p, err := withCountryCode(*in.Phone, in.PhoneCountryCode)
		if err != nil {
			return nil, err
		}
		phone, in.PhoneCountryCode = &p, nil
	}
	if err := in.readOnlyFields(); err != nil {
		return nil, err
	}
	up := auth.ProfileUpdate{
		UserID: deref(args.ID),
		Fields: map[string]*string{
			"username": in.Username, "nickname": in.Nickname, "photo": in.Photo, "company": in.Company,
			"browser": in.Browser, "device": in.Device, "lastIP": in.LastIP, "name": in.Name,
			"givenName": in.GivenName, "familyName": in.FamilyName, "middleName": in.MiddleName,
			"profile": in.Profile, "preferredUsername": in.PreferredUsername, "website": in.Website,
			"gender": in.Gender, "birthdate": in.Birthdate, "zoneinfo": in.Zoneinfo, "locale": in.Locale,
			"address": in.Address, "streetAddress": in.StreetAddress, "locality": in.Locality,
			"region": in.Region, "postalCode": in.PostalCode, "city": in.City, "province": in.Province,
			"country": in.Country,
		},
		Email: in.Email, Phone: phone, Password: in.Password,
		// The tokens prove the new email and phone (see tokens).
		EmailCode: deref(args.EmailToken), PhoneCode: deref(args.PhoneToken),
	}
	m := r.s.meta(cl.r, "")
	res, err := r.s.Auth.UpdateProfile(ctx, m, cl.bearer, up)
	if err != nil {
		return nil, err
	}
	return r.s.render(m, res), nil
}

// UpdatePassword changes the caller's password and keeps the caller's
// session: the SDKs do not store the token of this answer, so ending their
// session would log them out silently. Every other session ends.
func (r *resolver) UpdatePassword(ctx context.Context, args struct {
	NewPassword string
	OldPassword *string
}) (*user, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	m := r.s.meta(cl.r, "")
	newPw, err := r.s.password(ctx, m, args.NewPassword)
	if err != nil {
		return nil, err
	}
	if newPw == "" {
		return nil, userpool.Errorf(userpool.CodeInvalidArgument, "missing_field", "field \"newPassword\" is required")
	}
	oldPw, err := r.s.password(ctx, m, deref(args.OldPassword))
	if err != nil {
		return nil, err
	}
	res, err := r.s.Auth.UpdatePasswordKeepSession(ctx, m, cl.bearer, newPw, oldPw)
	if err != nil {
		return nil, err
	}
	return r.s.render(m, res), nil
}

// RefreshToken issues a later-expiring token for the caller's session. The
// id argument of Authing's schema is unused by the SDKs and ignored.
func (r *resolver) RefreshToken(ctx context.Context, args struct{ ID *string }) (*refreshed, error) {
	cl := callFrom(ctx)
	if err := cl.spend(); err != nil {
		return nil, err
	}
	res, err := r.s.Auth.RefreshToken(ctx, r.s.meta(cl.r, ""), cl.bearer)
	if err != nil {
		return nil, err
	}
	return &refreshed{Token: str(res.Token), Iat: epoch(res.TokenIssued.Unix()), Exp: epoch(res.TokenExpires.Unix())}, nil
}
