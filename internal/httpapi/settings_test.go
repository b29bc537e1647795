package httpapi

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// TestSettingNames pins the wire names of the pool settings: they are
// derived from PoolSettings, so a renamed Go field would silently rename
// a setting of the admin API. A new setting only needs adding here (and
// to docs/API.md).
func TestSettingNames(t *testing.T) {
	want := []string{
		"allowPlaintextPassword", "allowSelfDelete", "brandDisplayName", "brandLogoURL", "brandPrimaryColor", "codeMaxAttempts", "emailAddressInterval", "emailAddressPerDay",
		"emailCodeTTL", "emailIPPerHour", "frameAncestors", "lockoutDuration", "lockoutEnabled", "lockoutThreshold", "lockoutWindow",
		"loginFailureDetection", "loginFailureThreshold", "loginFailureWindow", "mfaPolicy", "passwordMinLength",
		"passwordRejectCommon", "registerByEmail", "registerByPhone", "registerByUsername",
		"smsCodeTTL", "smsCountryPerDay", "smsIPPerHour", "smsPhoneInterval", "smsPhonePerDay", "socialAutoLinkVerifiedEmail",
		"tokenTTL", "uniformLoginError", "verifyOldEmail", "verifyOldPhone",
	}
	var got []string
	for name := range settingsToWire(userpool.DefaultPoolSettings()) {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("setting names:\n got %v\nwant %v", got, want)
	}
}

func TestApplySettings(t *testing.T) {
	base := userpool.DefaultPoolSettings()
	ps := base
	err := applySettings(map[string]any{"tokenTTL": "2h", "verifyOldEmail": false, "smsPhonePerDay": 3.0})(&ps)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.TokenTTL, want.VerifyOldEmail, want.SMSPhonePerDay = 2*time.Hour, false, 3
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("applied: %+v", ps)
	}
	for _, bad := range []map[string]any{
		{"tokenTTL": 7200.0},
		{"tokenTTL": "two hours"},
		{"verifyOldEmail": "false"},
		{"smsPhonePerDay": 1.5},
		{"smsPhonePerDay": 1e12},
		{"nope": true},
		{"verifyOldEmail": false, "nope": true},
	} {
		ps := base
		err := applySettings(bad)(&ps)
		if userpool.AsError(err).Code != userpool.CodeInvalidArgument || !reflect.DeepEqual(ps, base) {
			t.Errorf("applySettings(%v) = %v, settings changed: %v", bad, err, !reflect.DeepEqual(ps, base))
		}
	}
	if applySettings(nil) != nil {
		t.Error("no settings must mean no edit")
	}
}
