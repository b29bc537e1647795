package auth

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

// Login protection around the password check of loginPassword:
//
//   - failure detection: failed password logins are counted per client IP
//     and per account in fixed windows (PoolSettings.LoginFailureWindow);
//     once either count reaches LoginFailureThreshold, password logins from
//     that IP or for that account answer 2000 before any password is
//     checked, until one succeeds with a valid CAPTCHA;
//   - the budget (budget.go): at most threshold password checks of one
//     account are in flight at once, counting its failures; further
//     attempts wait, bounded, for a place instead of being refused;
//   - lockout (off by default): LockoutThreshold failures against one
//     account within LockoutWindow lock it for LockoutDuration (2005);
//   - the audit log records every outcome.
//
// All state is in the store's counters, so replicas share it and it expires
// by itself. An unknown account is counted and locked under the identifier
// that was tried, exactly like a known one under its user id, so neither
// the CAPTCHA demand nor the lockout tells which accounts exist.

var errWrongAccountOrPassword = userpool.Errorf(userpool.CodeWrongAccountOrPassword, "wrong_account_or_password", "wrong account or password")

// Windows used when a stored setting is zero, so that a half-filled
// settings row cannot turn counting off (IncrCounter needs a window).
const (
	failWindowFallback = 5 * time.Minute
	lockWindowFallback = time.Hour
)

// loginGuard is the protection state of one password login attempt: the
// counter keys and what they held before the attempt.
type loginGuard struct {
	s      *Service
	m      Meta
	set    userpool.PoolSettings
	poolID string
	userID string // "" for an unknown account
	method string
	// acct names the account in counter keys: "u:<user id>", or
	// "i:<method>:<identifier>" for an account that does not exist.
	acct, ip string

	ipFails, acctFails int64 // failures in the current windows, before this attempt
	lockFails          int64
	captchaSolved      bool
	// charged says this attempt holds a place in its account's budget of
	// password checks (budget.go); release gives it back.
	charged bool
	// chargeWin is the charge window the attempt's charge was counted in
	// (budget.go): its give-back goes to that window's counter.
	chargeWin int64
	// overBudget says no place could be had: the account's failures
	// reached the threshold, or the wait for a place ended.
	overBudget bool
	// waited says the attempt waited for a place.
	waited bool
	// keepCharge says the failure could not be counted: the charge stays
	// in its place.
	keepCharge bool
	// gave is the give-back of the charge that a right password writes
	// with its login (settles); once the store has sent it, release does
	// not give the charge back again.
	gave *userpool.CounterGiveBack
}

func (g *loginGuard) detecting() bool {
	return g.set.LoginFailureDetection && g.set.LoginFailureThreshold >= 1
}

func (g *loginGuard) locking() bool {
	return g.set.LockoutEnabled && g.set.LockoutThreshold >= 1 && g.set.LockoutDuration > 0
}

func (g *loginGuard) failWindow() time.Duration {
	if g.set.LoginFailureWindow > 0 {
		return g.set.LoginFailureWindow
	}
	return failWindowFallback
}

func (g *loginGuard) lockWindow() time.Duration {
	if g.set.LockoutWindow > 0 {
		return g.set.LockoutWindow
	}
	return lockWindowFallback
}

// Counter keys. Each includes the pool, so pools never share state.
func (g *loginGuard) ipFailKey() string   { return "lf:ip:" + g.poolID + ":" + g.ip }
func (g *loginGuard) acctFailKey() string { return acctFailKey(g.poolID, g.acct) }
func (g *loginGuard) lockFailKey() string { return lockFailKey(g.poolID, g.acct) }
func (g *loginGuard) lockKey() string     { return lockKey(g.poolID, g.acct) }

func acctFailKey(poolID, acct string) string { return "lf:acct:" + poolID + ":" + acct }
func lockFailKey(poolID, acct string) string { return "lock:fails:" + poolID + ":" + acct }
func lockKey(poolID, acct string) string     { return "lock:until:" + poolID + ":" + acct }
func userAcct(u *userpool.User) string       { return "u:" + u.ID }

// guardLogin runs before the password is checked: it refuses a locked
// account (2005) and, when failure detection has tripped for this IP or
// account, demands a CAPTCHA (2000) or spends the one given (2001 if
// wrong). u is nil for an unknown account.
func (s *Service) guardLogin(ctx context.Context, m Meta, pool *userpool.Pool, u *userpool.User, method, ident string, opts LoginOptions) (*loginGuard, error) {
	g := &loginGuard{s: s, m: m, set: pool.Settings, poolID: pool.ID, method: method, ip: ipKey(m.ClientIP)}
	if u != nil {
		g.userID, g.acct = u.ID, userAcct(u)
	} else {
		g.acct = "i:" + method + ":" + ident
	}
	now := s.now()
	if g.locking() {
		n, until, err := s.store.GetCounter(ctx, g.lockKey(), now)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			g.audit(ctx, userpool.AuditLoginFailure, "account_locked")
			return nil, lockedError(until, now)
		}
		if g.lockFails, _, err = s.store.GetCounter(ctx, g.lockFailKey(), now); err != nil {
			return nil, err
		}
	}
	if !g.detecting() {
		return g, nil
	}
	// The account's budget of password checks in flight (budget.go) is
	// taken before the password is checked, so that a parallel burst of
	// guesses gets at most threshold checks; attempts beyond it wait for
	// the earlier ones to resolve. An address already over the threshold
	// must answer a CAPTCHA anyway, so it takes no place. The client IP's
	// count is read, not reserved: many people share an address (a NAT, a
	// backend), and a burst from one address at many accounts is bounded
	// by the per-IP rate limit.
	var err error
	if g.ipFails, _, err = s.store.GetCounter(ctx, g.ipFailKey(), now); err != nil {
		return nil, err
	}
	limit := int64(g.set.LoginFailureThreshold)
	if g.ipFails < limit {
		if err := g.reserve(ctx); err != nil {
			return nil, err
		}
		if g.waited && g.charged && g.locking() {
			// Failures counted while this attempt waited may have locked
			// the account.
			if n, until, err := s.store.GetCounter(ctx, g.lockKey(), s.now()); err != nil || n > 0 {
				g.release(ctx)
				if err != nil {
					return nil, err
				}
				g.audit(ctx, userpool.AuditLoginFailure, "account_locked")
				return nil, lockedError(until, s.now())
			}
		}
		if g.charged {
			// Not required: a CAPTCHA sent anyway is left unspent.
			return g, nil
		}
	}
	id, answer := captchaClaim(opts.CaptchaCode, opts.CaptchaID, m.CaptchaID)
	// Refused before any password is checked: not a guess, and it holds
	// no place in the budget.
	if answer == "" {
		g.audit(ctx, userpool.AuditCaptchaRequired, "")
		s.metrics.CaptchaDemanded()
		return nil, errCaptchaRequired
	}
	if err := s.checkCaptcha(ctx, pool.ID, id, answer); err != nil {
		if errors.Is(err, errWrongCaptcha) {
			g.audit(ctx, userpool.AuditLoginFailure, "wrong_captcha")
		}
		return nil, err
	}
	g.captchaSolved = true
	return g, nil
}

// passwordProof is the guard of a password check that is not a login (a
// signed-in user proving the password again, e.g. to delete the account):
// a locked account is refused, and a wrong password counts toward the
// account's failure detection and lockout like a login's (else a stolen
// token could guess the password here without limit). It demands no
// CAPTCHA: the caller is signed in, and the per-IP rate limit bounds it.
func (s *Service) passwordProof(ctx context.Context, m Meta, pool *userpool.Pool, u *userpool.User) (*loginGuard, error) {
	g := &loginGuard{s: s, m: m, set: pool.Settings, poolID: pool.ID, method: "password_proof", ip: ipKey(m.ClientIP),
		userID: u.ID, acct: userAcct(u)}
	if g.locking() {
		now := s.now()
		n, until, err := s.store.GetCounter(ctx, g.lockKey(), now)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, lockedError(until, now)
		}
	}
	return g, nil
}

// fail records a failed password check and returns the answer for it:
// err (2004 or 2006), or 2333 in pools that hide which of the two it was,
// or 2005 when this failure locks the account.
func (g *loginGuard) fail(ctx context.Context, err error, reason string) error {
	now := g.s.now()
	if g.detecting() {
		// The account's failure is counted before the attempt's charge is
		// released (see grant); the client going away must not stop it.
		wctx := context.WithoutCancel(ctx)
		for _, key := range []string{g.acctFailKey(), g.ipFailKey()} {
			if _, _, cerr := g.s.store.IncrCounter(wctx, key, g.failWindow(), now); cerr != nil {
				// Losing a count weakens the protection: fail closed, and
				// let the charge stand for the failure.
				g.keepCharge = true
				return cerr
			}
		}
	}
	g.audit(ctx, userpool.AuditLoginFailure, reason)
	if g.locking() {
		n, _, cerr := g.s.store.IncrCounter(ctx, g.lockFailKey(), g.lockWindow(), now)
		if cerr != nil {
			return cerr
		}
		if n >= int64(g.set.LockoutThreshold) {
			// Concurrent failures may all get here; IncrCounter on a live
			// lock keeps its end, so they agree on one unlock time.
			_, until, cerr := g.s.store.IncrCounter(ctx, g.lockKey(), g.set.LockoutDuration, now)
			if cerr != nil {
				return cerr
			}
			if cerr := g.s.store.ResetCounter(ctx, g.lockFailKey()); cerr != nil {
				return cerr
			}
			g.audit(ctx, userpool.AuditAccountLocked, "")
			return lockedError(until, now)
		}
	}
	if g.set.UniformLoginError {
		var e *userpool.Error
		if errors.As(err, &e) && (e.Code == userpool.CodeUserNotFound || e.Code == userpool.CodeWrongPassword) {
			return errWrongAccountOrPassword
		}
	}
	return err
}

// succeeded clears what a proven password clears. A login without a
// CAPTCHA resets only the account's counters: resetting the IP's too would
// let an attacker with one account of their own wipe the per-IP count
// between guesses at other accounts. A login that solved a CAPTCHA resets
// the IP's count as well, which is what lifts the CAPTCHA demand.
func (g *loginGuard) succeeded(ctx context.Context) {
	for _, r := range g.resets() {
		if err := g.s.store.ResetCounter(ctx, r.(*userpool.CounterReset).Key); err != nil {
			// The login itself succeeded; a stale count only asks for a
			// CAPTCHA sooner.
			g.s.log.LogAttrs(ctx, slog.LevelWarn, "reset login failure counter failed", slog.String("error", err.Error()))
		}
	}
}

// resets are the counter resets a right password earns (see succeeded),
// as records a login writes with its session.
func (g *loginGuard) resets() []userpool.Record {
	var recs []userpool.Record
	if g.acctFails > 0 || g.detecting() {
		recs = append(recs, &userpool.CounterReset{Key: g.acctFailKey()})
	}
	if g.captchaSolved && g.ipFails > 0 {
		recs = append(recs, &userpool.CounterReset{Key: g.ipFailKey()})
	}
	if g.lockFails > 0 {
		recs = append(recs, &userpool.CounterReset{Key: g.lockFailKey()})
	}
	return recs
}

// settles are the records a right password writes with its login: the
// counter resets it earns (resets) and the give-back of its charge, so
// that the login's one transaction also ends its place in the budget
// (budget.go) instead of a write of its own after it.
func (g *loginGuard) settles() []userpool.Record {
	recs := g.resets()
	if g.charged && !g.keepCharge {
		if g.gave == nil {
			g.gave = &userpool.CounterGiveBack{Key: g.windowKey(g.chargeWin)}
		}
		g.gave.At = g.s.now()
		recs = append(recs, g.gave)
	}
	return recs
}

// audit appends a login event of this attempt. reason, when set, goes in
// Detail["reason"].
func (g *loginGuard) audit(ctx context.Context, event, reason string) {
	d := map[string]string{"method": g.method}
	if reason != "" {
		d["reason"] = reason
	}
	g.s.audit(ctx, g.s.auditEvent(g.m, g.poolID, g.userID, event, d))
}

// lockedError is code 2005 with the unlock time in Data (RFC 3339) and as
// the retry time.
func lockedError(until, now time.Time) error {
	at := until.UTC().Format(time.RFC3339)
	wait := until.Sub(now)
	return &userpool.RetryError{
		Err: &userpool.Error{
			Code: userpool.CodeAccountLocked, Reason: "account_locked",
			Message: "too many failed logins: this account is locked until " + at,
			Data:    map[string]any{"unlockAt": at, "retryAfter": int64((wait + time.Second - 1) / time.Second)},
		},
		After: wait,
	}
}

// clearLoginFailures forgets u's failed logins and lifts its lockout. The
// password reset flow calls it (a proven reset unlocks the account), and so
// does UpdatePassword.
func (s *Service) clearLoginFailures(ctx context.Context, u *userpool.User) error {
	acct := userAcct(u)
	var errs []error
	for _, k := range []string{acctFailKey(u.PoolID, acct), lockFailKey(u.PoolID, acct), lockKey(u.PoolID, acct)} {
		errs = append(errs, s.store.ResetCounter(ctx, k))
	}
	return errors.Join(errs...)
}

// auditEvent builds an event of the caller m.
func (s *Service) auditEvent(m Meta, poolID, userID, event string, detail map[string]string) *userpool.AuditEvent {
	if m.AppID != "" {
		if detail == nil {
			detail = map[string]string{}
		}
		detail["app"] = m.AppID
	}
	return &userpool.AuditEvent{
		PoolID: poolID, UserID: userID, Event: event, ClientIP: m.ClientIP,
		UserAgent: truncate(m.UserAgent, 512), Detail: detail, CreatedAt: s.now().UTC(),
	}
}

// audit appends an event that records no other change (a failed login, a
// CAPTCHA demand). A failure to write it is logged, not returned: the
// answer to the caller does not depend on it.
func (s *Service) audit(ctx context.Context, e *userpool.AuditEvent) {
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "audit append failed", slog.String("event", e.Event), slog.String("error", err.Error()))
	}
}
