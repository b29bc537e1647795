package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authpool/authpool/internal/userpool"
)

const (
	maxEmailLen    = 254
	maxUsernameLen = 64
	maxPasswordLen = 256 // bytes; bounds hashing work and rejects abuse
	maxFieldLen    = 512
	maxURLFieldLen = 2048
)

func invalid(reason, format string, args ...any) error {
	return userpool.Errorf(userpool.CodeInvalidArgument, reason, format, args...)
}

// checkEmail validates an address's syntax and returns it trimmed, with
// the index of its "@".
func checkEmail(email string) (string, int, error) {
	email = strings.TrimSpace(email)
	bad := userpool.Errorf(userpool.CodeInvalidEmail, "invalid_email", "email address is not valid")
	if email == "" || len(email) > maxEmailLen || !utf8.ValidString(email) {
		return "", 0, bad
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", 0, bad
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", 0, bad
	}
	domain := strings.ToLower(email[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", 0, bad
	}
	return email, at, nil
}

// spellingAndKey validates an address and returns it as given (trimmed),
// which the store's lookups take (GetUserByEmail finds a row not keyed yet
// by its spelling), and its comparison key, which codes, limits and
// counters go by.
func spellingAndKey(email string) (spelled, key string, err error) {
	spelled, _, err = checkEmail(email)
	if err != nil {
		return "", "", err
	}
	return spelled, userpool.EmailKey(spelled), nil
}

// normalizeEmail validates an address and returns its comparison key
// (userpool.EmailKey), which every lookup, code and sending limit goes by.
// It applies no rule for new addresses (newEmail does), so an account
// created before those rules can still log in and reset its password.
func normalizeEmail(email string) (string, error) {
	email, _, err := checkEmail(email)
	if err != nil {
		return "", err
	}
	return userpool.EmailKey(email), nil
}

// newEmail validates an address an account is to have and returns how it
// is stored and shown (trimmed, the domain lower-cased, the local part as
// given) and its comparison key. Beyond the syntax it refuses look-alikes
// (lookalike.go) in the local part and the domain.
func newEmail(email string) (display, key string, err error) {
	email, at, err := checkEmail(email)
	if err != nil {
		return "", "", err
	}
	local, domain := email[:at], strings.ToLower(email[at+1:])
	problem := identifierProblem(local)
	if problem == "" {
		problem = domainProblem(domain)
	}
	if problem != "" {
		return "", "", userpool.Errorf(userpool.CodeInvalidEmail, "invalid_email", "email address %s", problem)
	}
	display = local + "@" + domain
	return display, userpool.EmailKey(display), nil
}

// validateUsername accepts 1..64 characters of letters, digits, marks and
// ". _ - +"; no spaces, no "@" (so a username never looks like an email),
// and nothing lookalike.go refuses. The name is kept as given (trimmed);
// it is compared by userpool.UsernameKey.
func validateUsername(name string) (string, error) {
	name, err := lookupUsername(name)
	if err != nil {
		return "", err
	}
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || strings.ContainsRune("._-+", r) {
			continue
		}
		return "", invalid("invalid_username", "username may contain only letters, digits and . _ - +")
	}
	if problem := identifierProblem(name); problem != "" {
		return "", invalid("invalid_username", "username %s", problem)
	}
	return name, nil
}

// lookupUsername is the check of a username given to find an account
// (login): trimmed, 1..64 characters of valid UTF-8. The rules for new
// names are not applied, so that an account created before them still
// logs in.
func lookupUsername(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "", invalid("invalid_username", "username must not be empty")
	}
	if n > maxUsernameLen || !utf8.ValidString(name) {
		return "", invalid("invalid_username", "username must be at most %d characters", maxUsernameLen)
	}
	return name, nil
}

// checkPassword applies the pool's password policy; the rules run in this
// order and the first that fails names itself in the reason (code 2029).
// identities are the account's own identifiers (identitiesOf), which the
// password must not contain. It runs before any hashing.
func (s *Service) checkPassword(set userpool.PoolSettings, pw string, identities ...string) error {
	if len(pw) > maxPasswordLen {
		return userpool.Errorf(userpool.CodePasswordTooWeak, "password_too_long", "password must be at most %d bytes", maxPasswordLen)
	}
	if !utf8.ValidString(pw) {
		return userpool.Errorf(userpool.CodePasswordTooWeak, "password_invalid", "password must be valid UTF-8")
	}
	if utf8.RuneCountInString(pw) < set.PasswordMinLength {
		return userpool.Errorf(userpool.CodePasswordTooWeak, "password_too_short", "password must be at least %d characters", set.PasswordMinLength)
	}
	if containsIdentity(pw, identities) {
		return userpool.Errorf(userpool.CodePasswordTooWeak, "password_contains_identity", "password must not contain the username, the email address's name or the phone number")
	}
	if set.PasswordRejectCommon && isCommonPassword(pw) {
		return userpool.Errorf(userpool.CodePasswordTooWeak, "password_too_common", "password is among the most common (breached) passwords: choose another")
	}
	return nil
}

// profileFields lists every profile field with its name and maximum length;
// used both to validate and to apply updates.
func profileFields(p *userpool.Profile) []struct {
	name string
	ptr  *string
	max  int
} {
	type f = struct {
		name string
		ptr  *string
		max  int
	}
	return []f{
		{"username", &p.Username, maxUsernameLen}, {"nickname", &p.Nickname, maxFieldLen},
		{"photo", &p.Photo, maxURLFieldLen}, {"company", &p.Company, maxFieldLen},
		{"browser", &p.Browser, maxFieldLen}, {"device", &p.Device, maxFieldLen},
		{"lastIP", &p.LastIP, 64}, {"name", &p.Name, maxFieldLen},
		{"givenName", &p.GivenName, maxFieldLen}, {"familyName", &p.FamilyName, maxFieldLen},
		{"middleName", &p.MiddleName, maxFieldLen}, {"profile", &p.Profile, maxURLFieldLen},
		{"preferredUsername", &p.PreferredUsername, maxFieldLen}, {"website", &p.Website, maxURLFieldLen},
		{"gender", &p.Gender, 1}, {"birthdate", &p.Birthdate, 64},
		{"zoneinfo", &p.Zoneinfo, 128}, {"locale", &p.Locale, 64},
		{"address", &p.Address, maxFieldLen}, {"streetAddress", &p.StreetAddress, maxFieldLen},
		{"locality", &p.Locality, maxFieldLen}, {"region", &p.Region, maxFieldLen},
		{"postalCode", &p.PostalCode, 64}, {"city", &p.City, maxFieldLen},
		{"province", &p.Province, maxFieldLen}, {"country", &p.Country, maxFieldLen},
	}
}

// validateProfile checks every field of p and normalises the username.
func validateProfile(p *userpool.Profile) error { return validateProfileFrom(p, "") }

// validateProfileFrom is validateProfile for a change of a stored profile
// whose username was old: an unchanged username is not judged again by
// the rules for new names, so an account created before them keeps it.
func validateProfileFrom(p *userpool.Profile, old string) error {
	for _, f := range profileFields(p) {
		v := *f.ptr
		if !utf8.ValidString(v) {
			return invalid("invalid_profile", "%s must be valid UTF-8", f.name)
		}
		if f.name != "gender" && utf8.RuneCountInString(v) > f.max {
			return invalid("invalid_profile", "%s must be at most %d characters", f.name, f.max)
		}
	}
	switch p.Gender {
	case "", "M", "F", "U":
	default:
		return invalid("invalid_gender", "gender must be M, F or U")
	}
	if p.Username != "" && p.Username != old {
		u, err := validateUsername(p.Username)
		if err != nil {
			return err
		}
		p.Username = u
	}
	return nil
}
