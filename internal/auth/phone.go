package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/authpool/authpool/internal/userpool"
)

const maxPhoneLen = 64

var (
	errInvalidPhone      = userpool.Errorf(userpool.CodeInvalidPhone, "invalid_phone", "phone number is not valid")
	errPhoneAlreadyBound = userpool.Errorf(userpool.CodePhoneAlreadyBound, "phone_already_bound", "this account already has a phone number: use UpdatePhone to change it")
	errPhoneNotBound     = userpool.Errorf(userpool.CodeNotBound, "phone_not_bound", "this account has no phone number: use BindPhone to add one")
	errPhoneUnchanged    = userpool.Errorf(userpool.CodePhoneUnchanged, "phone_unchanged", "the new phone number is the current one")
	errOldPhoneRequired  = userpool.Errorf(userpool.CodeOldAddressRequired, "old_phone_required", "this user pool requires the current phone number and a code sent to it")
	errOldPhoneMismatch  = userpool.Errorf(userpool.CodeOldPhoneMismatch, "old_phone_mismatch", "the old phone number is not this account's phone number")
	errPhoneLastLogin    = userpool.Errorf(userpool.CodeLastLoginMethod, "last_login_method", "the phone number is this account's only way to log in: add an email address, or a username and password, first")
	errPhoneAutoRegister = invalid("auto_register_unsupported", "autoRegister is not available with a phone number and password: an account for a phone number is created only with a code sent to it (RegisterByPhoneCode or LoginByPhoneCode)")
)

// normalizePhone validates a phone number and returns it in E.164 with its
// country calling code. A number without "+" is read in the configured
// default region. Numbers are stored, compared and sent to only in this
// form, so "+86 138-0013-8000" and "13800138000" (region CN) are one.
func (s *Service) normalizePhone(phone string) (string, int, error) {
	phone = strings.TrimSpace(phone)
	if phone == "" || len(phone) > maxPhoneLen {
		return "", 0, errInvalidPhone
	}
	region := s.cfg.PhoneRegion
	if region == "" {
		region = "ZZ"
	}
	num, err := phonenumbers.Parse(phone, region)
	if err != nil || !phonenumbers.IsValidNumber(num) || num.GetExtension() != "" {
		return "", 0, errInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), int(num.GetCountryCode()), nil
}

// SendSmsCode sends a fresh code to phone, within the pool's sending
// limits: one per phone per interval, per phone per day, per client IP per
// hour and per country calling code per day (against SMS pumping). Over a
// limit nothing is sent and a LimitError (1005) tells when to retry. The
// code is queued and sent by the courier's workers (see SendEmail); the
// language of the message is the account's, looked up by the worker.
func (s *Service) SendSmsCode(ctx context.Context, m Meta, phone string) error {
	phone, cc, err := s.normalizePhone(phone)
	if err != nil {
		return err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return err
	}
	set := pool.Settings
	key := func(parts ...string) string { return "sms:" + pool.ID + ":" + strings.Join(parts, ":") }
	release, err := s.reserve(ctx, []limit{
		{"sms_phone_interval", key("phone-interval", phone), 1, set.SMSPhoneInterval, "to this phone number just now"},
		{"sms_phone_daily", key("phone-day", phone), set.SMSPhonePerDay, 24 * time.Hour, "to this phone number today"},
		{"sms_ip_hourly", key("ip", m.ClientIP), set.SMSIPPerHour, time.Hour, "from this address in the last hour"},
		{"sms_country_daily", key("cc", strconv.Itoa(cc)), set.SMSCountryPerDay, 24 * time.Hour, "to this country today"},
	})
	if err != nil {
		return err
	}
	if err := s.queueCode(ctx, m, pool.ID, set.SMSCodeTTL, message{Channel: "sms", Purpose: purposeSMS, To: phone, Code: newCode()}); err != nil {
		release()
		return err
	}
	return nil
}

// methodPhoneCode is the flow method of the phone-code flows, so that
// pipelines and webhooks tell them from a password login by phone
// ("phone"); the registration method (which a pool may close) is phone.
const methodPhoneCode = "phone-code"

// RegisterByPhoneCode creates a user whose phone number is proven by an
// SMS code (and so verified). The password is optional: without one the
// user logs in by code and may set one later with UpdatePassword. It is
// the registration of register(): the pre-register pipelines run on the
// input, and the code is spent only once everything else has passed
// (pipelines included), just before the user is stored; with the codes of
// any other identifiers the registration proves, none is spent before all
// are checked.
func (s *Service) RegisterByPhoneCode(ctx context.Context, m Meta, phone, code, pw string, profile userpool.Profile, opts RegisterOptions) (*Result, error) {
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	if !wellFormedCode(code) {
		// Cannot be right: refused before any pipeline runs.
		return nil, errWrongCode
	}
	m.flow.method = methodPhoneCode
	u := &userpool.User{Phone: phone, PhoneVerified: true, Profile: profile}
	return s.register(ctx, m, methodPhone, u, pw, opts, [3]string{purposeSMS, phone, code})
}

// LoginByPhoneCode logs in with a phone number and its SMS code, creating
// the account (NewlyCreated) when no user has that number and the pool
// lets users register by phone. It is the complete login process: the
// pre-authentication pipelines run before the code is checked, then (for
// a new account) pre- and post-register, post-authentication, token and
// count. A refused attempt is reported as user.login_failed.
func (s *Service) LoginByPhoneCode(ctx context.Context, m Meta, phone, code string, opts LoginOptions) (*Result, error) {
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: methodPhoneCode, identifier: phone, params: opts.Context}
	res, err := s.loginPhoneCode(ctx, m, phone, code, opts)
	return res, s.loginFailed(ctx, m, err)
}

func (s *Service) loginPhoneCode(ctx context.Context, m Meta, phone, code string, opts LoginOptions) (*Result, error) {
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	if err := s.preAuthentication(ctx, &m, pool.ID); err != nil {
		return nil, err
	}
	custom, err := s.parseCustomData(ctx, pool.ID, opts.CustomData, byUser)
	if err != nil {
		return nil, err
	}
	if err := s.checkCode(ctx, pool.Settings, pool.ID, purposeSMS, phone, code, true); err != nil {
		return nil, err
	}
	u, err := s.store.GetUserByPhone(ctx, pool.ID, phone)
	if isNotFound(err) {
		res, rerr := s.register(ctx, m, methodPhone, &userpool.User{Phone: phone, PhoneVerified: true}, "", RegisterOptions{ForceLogin: true, CustomData: opts.CustomData})
		if rerr == nil {
			res.NewlyCreated = true
			return res, nil
		}
		if !errors.Is(rerr, userpool.ErrPhoneTaken) {
			return nil, rerr
		}
		// Created meanwhile (by an administrator, say): log in to it.
		u, err = s.store.GetUserByPhone(ctx, pool.ID, phone)
	}
	if err != nil {
		return nil, err
	}
	if u.Blocked {
		s.audit(ctx, s.auditEvent(m, u.PoolID, u.ID, userpool.AuditLoginFailure, map[string]string{"reason": "user_blocked", "method": methodPhoneCode}))
		return nil, errBlocked
	}
	if !u.PhoneVerified {
		// The code proves the number.
		if u, err = s.store.UpdateUser(ctx, u.PoolID, u.ID, func(x *userpool.User) error {
			x.PhoneVerified = x.Phone == phone || x.PhoneVerified
			x.UpdatedAt = s.now().UTC()
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if err := s.setCustomData(ctx, u, opts.CustomData, custom); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, m, pool.Settings, u, false)
}

// LoginByPhonePassword logs in with a phone number and password, exactly as
// email and username logins do. autoRegister is refused: an account for a
// phone number that nobody proved would let its creator capture the
// number's real owner when they later log in by code.
func (s *Service) LoginByPhonePassword(ctx context.Context, m Meta, phone, pw string, opts LoginOptions) (*Result, error) {
	if opts.AutoRegister {
		return nil, errPhoneAutoRegister
	}
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	m.flow = flow{method: methodPhone, identifier: phone, params: opts.Context}
	res, err := s.loginPassword(ctx, m, pw, opts, s.store.GetUserByPhone, methodPhone, phone, phone, nil)
	return res, s.loginFailed(ctx, m, err)
}

// ResetPasswordByPhoneCode sets a new password for the user of phone, proven
// by an SMS code, and ends every session of that user.
func (s *Service) ResetPasswordByPhoneCode(ctx context.Context, m Meta, phone, code, newPw string) error {
	phone, _, err := s.normalizePhone(phone)
	if err != nil {
		return err
	}
	return s.resetPassword(ctx, m, newPw, purposeSMS, phone, code, s.store.GetUserByPhone, func(u *userpool.User) {
		if u.Phone == phone {
			u.PhoneVerified = true
		}
	})
}

// BindPhone gives the caller, who has no phone number yet, a phone number
// proven by its code.
func (s *Service) BindPhone(ctx context.Context, m Meta, tok, phone, code string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	plan, err := s.bindPhonePlan(u, phone, code)
	if err != nil {
		return nil, err
	}
	return s.changeIdentifier(ctx, m, p, u, nil, plan)
}

// UnbindPhone removes the caller's phone number, unless it is the only way
// left to log in to the account.
func (s *Service) UnbindPhone(ctx context.Context, m Meta, tok string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if u.Phone == "" {
		return nil, errPhoneNotBound
	}
	return s.changeIdentifier(ctx, m, p, u, nil, &identChange{kind: identPhone, apply: func(x *userpool.User) error {
		if x.Phone == "" {
			return errPhoneNotBound
		}
		if x.Email == "" && !(x.Username != "" && x.HasPassword()) {
			return errPhoneLastLogin
		}
		x.Phone, x.PhoneVerified = "", false
		return nil
	}})
}

// UpdatePhone moves the caller to a new phone number proven by its code.
// With the pool's VerifyOldPhone (on by default) the current number and a
// code sent to it are required too.
func (s *Service) UpdatePhone(ctx context.Context, m Meta, tok, phone, code, oldPhone, oldCode string) (*Result, error) {
	p, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, u.PoolID)
	if err != nil {
		return nil, err
	}
	plan, err := s.updatePhonePlan(pool.Settings, u, phone, code, oldPhone, oldCode)
	if err != nil {
		return nil, err
	}
	return s.changeIdentifier(ctx, m, p, u, nil, plan)
}
