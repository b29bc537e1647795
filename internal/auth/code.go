package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// Code purposes. One SMS code serves every phone flow (login, register,
// reset, bind, change), as in Authing; an email code is bound to its scene.
const purposeSMS = "sms"

func emailPurpose(scene EmailScene) string { return "email:" + string(scene) }

const codeLen = 6

var (
	errWrongCode    = userpool.ErrCodeNotFound
	errCodeExpired  = userpool.Errorf(userpool.CodeCodeExpired, "code_expired", "the verification code has expired: ask for a new one")
	errCodeAttempts = userpool.Errorf(userpool.CodeWrongCode, "code_attempts_exceeded", "too many wrong tries: this code no longer works, ask for a new one")
)

// newCode returns six uniformly random digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash is what the store keeps instead of the code: an HMAC keyed by
// the server's code secret over everything the code is bound to, so a
// stolen table reveals nothing and a hash cannot be moved to another
// target.
func (s *Service) codeHash(poolID, purpose, target, code string) []byte {
	mac := hmac.New(sha256.New, s.cfg.CodeSecret)
	for _, part := range []string{poolID, purpose, target, code} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}

func wellFormedCode(code string) bool {
	if len(code) != codeLen {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkCode verifies code for (pool, purpose, target) and spends it when
// spend is true. The verdict is reached inside the store's transaction
// (UseCode), so of several concurrent tries on any replicas only one can
// spend a code, and every wrong try is counted. A code dies after
// CodeMaxAttempts wrong tries: later tries, right or wrong, get
// code_attempts_exceeded. Expiry is judged on the injected clock.
func (s *Service) checkCode(ctx context.Context, set userpool.PoolSettings, poolID, purpose, target, code string, spend bool) error {
	if !wellFormedCode(code) {
		// Cannot match any code we send; not worth a try against the limit.
		return errWrongCode
	}
	maxAttempts := max(set.CodeMaxAttempts, 1)
	h := s.codeHash(poolID, purpose, target, code)
	now := s.now()
	var verdict error
	err := s.store.UseCode(ctx, poolID, purpose, target, func(c *userpool.VerificationCode) bool {
		switch {
		case !now.Before(c.ExpiresAt):
			verdict = errCodeExpired
		case c.Attempts >= maxAttempts:
			verdict = errCodeAttempts
		case subtle.ConstantTimeCompare(c.Hash, h) != 1:
			c.Attempts++
			e := *errWrongCode
			e.Data = map[string]any{"attemptsLeft": maxAttempts - c.Attempts}
			verdict = &e
		default:
			verdict = nil
			return spend
		}
		return false
	})
	if err != nil {
		return err
	}
	return verdict
}

// checkCodes verifies every code before spending any, so that a typo in
// one of two codes (UpdatePhone with the old phone's code, for example)
// does not spend the other.
func (s *Service) checkCodes(ctx context.Context, set userpool.PoolSettings, poolID string, codes ...[3]string) error {
	for _, spend := range []bool{false, true} {
		for _, c := range codes {
			if err := s.checkCode(ctx, set, poolID, c[0], c[1], c[2], spend); err != nil {
				return err
			}
		}
	}
	return nil
}

// limit is one sending limit: at most max sends per window under key.
type limit struct {
	name   string
	key    string
	max    int
	window time.Duration
	what   string // for the message: "to this phone number"
}

// reserve counts one send against every limit. When a limit is over, it
// gives back every count it took and returns a LimitError naming the
// limit, so a refused request leaves the counters as they were. The
// returned release gives the counts back too (for a send that failed).
// The counters are in the store, shared by every replica.
func (s *Service) reserve(ctx context.Context, limits []limit) (release func(), err error) {
	now := s.now()
	var taken []string
	release = func() {
		// Also after the request's context ends: a count kept by mistake
		// would lock a user out for the rest of the window.
		bg := context.WithoutCancel(ctx)
		for _, key := range taken {
			if err := s.store.DecrCounter(bg, key, now); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "giving back a send count failed", slog.String("error", err.Error()))
			}
		}
	}
	for _, l := range limits {
		if l.max <= 0 || l.window <= 0 {
			continue // 0 disables the limit
		}
		n, end, err := s.store.IncrCounter(ctx, l.key, l.window, now)
		if err != nil {
			release()
			return nil, err
		}
		taken = append(taken, l.key)
		if n > int64(l.max) {
			release()
			wait := end.Sub(now)
			return nil, userpool.RateLimited(l.name, wait, "too many codes sent %s: try again in %s", l.what, roundUp(wait))
		}
	}
	return release, nil
}

func roundUp(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return strconv.FormatInt(secs, 10) + "s"
}

func minutes(d time.Duration) int {
	return max(1, int((d+time.Minute-1)/time.Minute))
}
