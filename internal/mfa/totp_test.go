package mfa

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfcSecret is RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890",
// in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// RFC 6238 Appendix B, the SHA-1 rows (eight digits).
var rfcVectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestRFC6238Vectors(t *testing.T) {
	for _, v := range rfcVectors {
		got, err := totp.GenerateCodeCustom(rfcSecret, time.Unix(v.unix, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		if err != nil || got != v.code {
			t.Errorf("T=%d: got %q, %v; want %q", v.unix, got, err, v.code)
		}
		// Our six-digit codes are the last six digits of the same value.
		six, err := Code(rfcSecret, Step(time.Unix(v.unix, 0)))
		if err != nil || six != v.code[2:] {
			t.Errorf("T=%d: six digits %q, %v; want %q", v.unix, six, err, v.code[2:])
		}
		step, ok := Match(rfcSecret, v.code[2:], time.Unix(v.unix, 0))
		if !ok || step != v.unix/30 {
			t.Errorf("T=%d: Match = %d, %v", v.unix, step, ok)
		}
	}
}

func TestMatchWindow(t *testing.T) {
	now := time.Unix(1234567890, 0)
	cur := Step(now)
	for d := int64(-3); d <= 3; d++ {
		code, err := Code(rfcSecret, cur+d)
		if err != nil {
			t.Fatal(err)
		}
		step, ok := Match(rfcSecret, code, now)
		want := d >= -Skew && d <= Skew
		if ok != want || ok && step != cur+d {
			t.Errorf("step %+d: Match = %d, %v; want accepted=%v", d, step, ok, want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", strings.Repeat("9", 1000)} {
		if _, ok := Match(rfcSecret, bad, now); ok {
			t.Errorf("Match(%q) accepted", bad)
		}
	}
}

// TestReplayRule is the rule the store applies (UseTOTPStep): a step is
// accepted only after the last accepted one, so a code used once, or any
// code of an earlier step in the window, is refused.
func TestReplayRule(t *testing.T) {
	now := time.Unix(1234567890, 0)
	last := int64(0)
	use := func(code string) bool {
		step, ok := Match(rfcSecret, code, now)
		if !ok || step <= last {
			return false
		}
		last = step
		return true
	}
	cur, _ := Code(rfcSecret, Step(now))
	prev, _ := Code(rfcSecret, Step(now)-1)
	if !use(cur) {
		t.Fatal("a fresh code was refused")
	}
	if use(cur) {
		t.Error("the same code was accepted twice")
	}
	if use(prev) {
		t.Error("an earlier step's code was accepted after a later one")
	}
}

func TestNewTOTPKey(t *testing.T) {
	k, err := NewTOTPKey("authpool", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != 32 || !strings.HasPrefix(k.URI, "otpauth://totp/") || !strings.Contains(k.URI, "secret="+k.Secret) {
		t.Errorf("key: %+v", k.URI)
	}
	if len(k.QRPNG) < 8 || string(k.QRPNG[1:4]) != "PNG" {
		t.Error("QR code is not a PNG")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	seen := map[string]bool{}
	for _, c := range codes {
		n, ok := NormalizeRecoveryCode(strings.ToUpper(c))
		if !ok || seen[n] || len(n) != 10 {
			t.Errorf("code %q: %q %v", c, n, ok)
		}
		seen[n] = true
	}
	if len(codes) != RecoveryCodeCount {
		t.Errorf("%d codes", len(codes))
	}
	for _, bad := range []string{"", "abc", "aaaaa-aaaa0", strings.Repeat("a", 65), "ééééé-ééééé"} {
		if _, ok := NormalizeRecoveryCode(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
