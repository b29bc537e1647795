package auth

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"

	"github.com/authpool/authpool/internal/userpool"
)

// minIdentityLen is the shortest identifier the password may not contain:
// a one- or two-letter username inside a password is coincidence.
const minIdentityLen = 3

// identitiesOf lists u's identifiers a password must not contain: the
// username, the name part of the email and the phone number's digits.
func identitiesOf(u *userpool.User) []string {
	ids := []string{u.Username}
	if at := strings.LastIndexByte(u.Email, '@'); at > 0 {
		ids = append(ids, u.Email[:at])
	}
	ids = append(ids, strings.TrimPrefix(u.Phone, "+"))
	return ids
}

// containsIdentity reports whether pw equals or contains one of ids,
// ignoring case.
func containsIdentity(pw string, ids []string) bool {
	lower := strings.ToLower(pw)
	for _, id := range ids {
		if utf8.RuneCountInString(id) >= minIdentityLen && strings.Contains(lower, strings.ToLower(id)) {
			return true
		}
	}
	return false
}

// commonPasswords is the set of the 30,000 most common passwords of the
// zxcvbn project's frequency list (from leaked password corpora), shipped
// as Go data in github.com/trustelem/zxcvbn/frequency: no file to deploy
// and no network call. Built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	set := make(map[string]struct{}, len(list))
	for _, p := range list {
		set[strings.ToLower(p)] = struct{}{}
	}
	return set
})

// isCommonPassword reports whether pw, ignoring case, is on the list.
func isCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}
