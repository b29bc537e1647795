package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
)

// Bounds of `authpool bench`: a run is bounded in time and in the
// accounts it creates, whatever the flags say.
const (
	benchMaxDuration    = 10 * time.Minute
	benchMaxConcurrency = 256
	benchMaxUsers       = 10_000
	benchPoolName       = "authpool-bench"
	benchPassword       = "bench-Passw0rd!"
	benchField          = "bench_score"
)

type benchOptions struct {
	url, database, adminKey string
	duration                time.Duration
	concurrency, users      int
	json                    bool
}

// benchFlags declares bench's flags; bench and the help share it.
func benchFlags(fs *flag.FlagSet) *benchOptions {
	o := &benchOptions{}
	fs.StringVar(&o.url, "url", "", "the server to load (default: start one on loopback over -database)")
	fs.StringVar(&o.database, "database", "", "with no -url: the database of the server it starts (default: a temporary SQLite file)")
	fs.StringVar(&o.adminKey, "admin-key", "", "with -url: the administrator key (default: AUTHPOOL_ADMIN_KEY)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long the timed phase lasts (at most 10m)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent clients (at most 256)")
	fs.IntVar(&o.users, "users", 32, "accounts created for the run and deleted after it (at least -concurrency, at most 10000)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	return o
}

// bench drives every call of the Go SDK against a server, from accounts
// it creates in a pool of its own (reused across runs: pools are never
// deleted) and deletes afterwards, and prints throughput and latency
// percentiles per call.
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := benchFlags(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	r := &benchRun{opts: o}
	if o.url == "" {
		stop, err := r.startServer(ctx, getenv, stderr)
		if err != nil {
			return err
		}
		defer stop()
	} else {
		r.target, r.describe = strings.TrimRight(o.url, "/"), "server at "+o.url
		if r.adminKey = o.adminKey; r.adminKey == "" {
			r.adminKey = getenv("AUTHPOOL_ADMIN_KEY")
		}
		if r.adminKey == "" {
			return errors.New("bench: -url needs the administrator key (-admin-key or AUTHPOOL_ADMIN_KEY): the run creates its pool and accounts through the admin API")
		}
	}
	rep, err := r.run(ctx)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// validate checks the flags against the bounds of a run.
func (o *benchOptions) validate() error {
	var bad []string
	if o.duration < time.Second || o.duration > benchMaxDuration {
		bad = append(bad, fmt.Sprintf("-duration must be between 1s and %s", benchMaxDuration))
	}
	if o.concurrency < 1 || o.concurrency > benchMaxConcurrency {
		bad = append(bad, fmt.Sprintf("-concurrency must be between 1 and %d", benchMaxConcurrency))
	}
	if o.users < o.concurrency || o.users > benchMaxUsers {
		bad = append(bad, fmt.Sprintf("-users must be between -concurrency and %d", benchMaxUsers))
	}
	if o.url != "" && o.database != "" {
		bad = append(bad, "-database is for the server bench starts; with -url the server has its own")
	}
	if len(bad) > 0 {
		return errors.New("bench: " + strings.Join(bad, "; "))
	}
	return nil
}

// benchRun is one run: its target, its accounts and what it measured.
type benchRun struct {
	opts     *benchOptions
	target   string
	describe string
	adminKey string
	// codes reads the codes the server it started logs (console
	// senders); nil against -url, where no code can be read and no
	// message is sent.
	codes *codeLog

	mu    sync.Mutex
	calls map[string]*callStats
	timed bool // the timed phase is under way
}

// startServer starts a server on loopback with the configuration of the
// environment (so AUTHPOOL_PASSWORD_* apply; the production defaults
// otherwise), a random administrator key, console senders whose codes the
// run reads, and no per-IP rate limits (every request comes from one
// address).
func (r *benchRun) startServer(ctx context.Context, getenv func(string) string, stderr io.Writer) (func(), error) {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return nil, err
	}
	var tmp string
	if r.opts.database != "" {
		cfg.DatabaseURL = r.opts.database
	} else {
		if tmp, err = os.MkdirTemp("", "authpool-bench-"); err != nil {
			return nil, err
		}
		cfg.DatabaseURL = "sqlite:" + filepath.Join(tmp, "bench.db")
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.MetricsAddr = ""
	var key [24]byte
	rand.Read(key[:])
	cfg.AdminKey = "bench-" + hex.EncodeToString(key[:])
	cfg.Mailer, cfg.SMS = "console", "console"
	off := config.Rate{}
	cfg.RateLimitRegister, cfg.RateLimitLogin, cfg.RateLimitCaptcha, cfg.RateLimitTokenCheck, cfg.RateLimitGraphQL = off, off, off, off, off
	r.codes = newCodeLog()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv, err := server.New(sctx, cfg, server.Options{Log: slog.New(r.codes)})
	if err != nil {
		cancel()
		ln.Close()
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	r.target, r.adminKey = "http://"+ln.Addr().String(), cfg.AdminKey
	store := "SQLite (temporary file)"
	if r.opts.database != "" {
		store = strings.SplitN(r.opts.database, ":", 2)[0]
	}
	p := cfg.PasswordParams()
	hashes := cfg.PasswordConcurrency
	if hashes <= 0 {
		hashes = runtime.NumCPU()
	}
	r.describe = fmt.Sprintf("in-process server on loopback over %s; argon2id m=%d KiB t=%d p=%d, %d hashes at once; %d CPUs shared by server and clients",
		store, p.Memory, p.Time, p.Threads, hashes, runtime.NumCPU())
	return func() {
		cancel()
		<-done
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}, nil
}

// benchUser is one account of the run with its own client (holding its
// token).
type benchUser struct {
	email, username, phone string
	id                     string
	c                      *client.AuthenticationClient
}

// run is setup (pool, field, accounts), the timed phase, and teardown
// (password changes and resets, logout, deletion). Every SDK call of
// every phase is measured.
func (r *benchRun) run(ctx context.Context) (*benchReport, error) {
	r.calls = map[string]*callStats{}
	adm := client.NewManagementClient(client.ManagementOptions{Host: r.target, AdminKey: r.adminKey, Timeout: time.Minute})
	poolID, err := r.pool(ctx, adm)
	if err != nil {
		return nil, err
	}
	var run [4]byte
	rand.Read(run[:])
	tag := hex.EncodeToString(run[:])
	users := make([]*benchUser, r.opts.users)
	for i := range users {
		u := &benchUser{c: client.NewAuthenticationClient(client.Options{AppHost: r.target, UserPoolID: poolID, Timeout: time.Minute})}
		if i%2 == 0 {
			u.email = fmt.Sprintf("bench-%s-%d@bench.example.com", tag, i)
		} else {
			u.username = fmt.Sprintf("bench_%s_%d", tag, i)
		}
		users[i] = u
	}
	// One phone account per client when codes can be read: phone-code
	// registration and login need the code.
	var phones []*benchUser
	if r.codes != nil {
		for w := range r.opts.concurrency {
			phones = append(phones, &benchUser{
				phone: fmt.Sprintf("+86139%04d%04d", int(run[0])<<4|int(run[1])>>4, w),
				c:     client.NewAuthenticationClient(client.Options{AppHost: r.target, UserPoolID: poolID, Timeout: time.Minute}),
			})
		}
	}
	everyone := append(slices.Clone(users), phones...)
	cleaned := false
	defer func() {
		if !cleaned { // an interrupted run still deletes its accounts
			r.cleanup(adm, poolID, everyone)
		}
	}()

	setupStart := time.Now()
	r.each(users, func(u *benchUser) { r.setup(ctx, u) })
	r.each(phones, func(u *benchUser) { r.setupPhone(ctx, u) })
	setup := time.Since(setupStart)

	r.setTimed(true)
	loopStart := time.Now()
	deadline := loopStart.Add(r.opts.duration)
	var wg sync.WaitGroup
	for w := range r.opts.concurrency {
		// Client w owns the accounts w, w+concurrency, ...: no two
		// clients share an account's session.
		var own []*benchUser
		for i := w; i < len(users); i += r.opts.concurrency {
			own = append(own, users[i])
		}
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				u := own[i%len(own)]
				r.iteration(ctx, u, i)
				if len(phones) > 0 && time.Now().Before(deadline) {
					r.phoneIteration(ctx, phones[w])
				}
			}
		})
	}
	wg.Wait()
	loop := time.Since(loopStart)
	r.setTimed(false)

	r.each(users, func(u *benchUser) { r.teardown(ctx, u) })
	rep := r.report(setup, loop)
	rep.Deleted, rep.DeleteErrors = r.cleanup(adm, poolID, everyone)
	cleaned = true
	return rep, nil
}

// each runs fn for every user, -concurrency at a time.
func (r *benchRun) each(users []*benchUser, fn func(*benchUser)) {
	sem := make(chan struct{}, r.opts.concurrency)
	var wg sync.WaitGroup
	for _, u := range users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(u)
		})
	}
	wg.Wait()
}

// pool finds the bench pool or makes it, with the code sending limits
// off (each account gets several codes a minute) and the bench's
// user-defined field.
func (r *benchRun) pool(ctx context.Context, adm *client.ManagementClient) (string, error) {
	pools, err := adm.ListPools(ctx)
	if err != nil {
		return "", fmt.Errorf("bench: list pools (is the administrator key right?): %w", err)
	}
	settings := map[string]any{
		"smsPhoneInterval": "0s", "smsPhonePerDay": 0, "smsIPPerHour": 0, "smsCountryPerDay": 0,
		"emailAddressInterval": "0s", "emailAddressPerDay": 0, "emailIPPerHour": 0,
	}
	id := ""
	for _, p := range pools {
		if p.Name == benchPoolName {
			id = p.ID
		}
	}
	if id == "" {
		p, err := adm.CreatePool(ctx, client.CreatePoolRequest{Name: benchPoolName, Settings: settings})
		if err != nil {
			return "", fmt.Errorf("bench: create pool: %w", err)
		}
		id = p.ID
	} else if _, err := adm.UpdatePool(ctx, id, client.UpdatePoolRequest{Settings: settings}); err != nil {
		return "", fmt.Errorf("bench: update pool: %w", err)
	}
	if _, err := adm.DefineField(ctx, id, client.DefineFieldRequest{Key: benchField, DataType: "NUMBER", Label: "authpool bench", UserEditable: true}); err != nil {
		if _, gerr := adm.GetField(ctx, id, benchField); gerr != nil {
			return "", fmt.Errorf("bench: define field: %w", err)
		}
	}
	return id, nil
}

func (r *benchRun) setup(ctx context.Context, u *benchUser) {
	var usr *client.User
	var err error
	if u.email != "" {
		usr, err = timed(r, "RegisterByEmail", func() (*client.User, error) {
			return u.c.RegisterByEmail(ctx, u.email, benchPassword, nil, nil)
		})
	} else {
		usr, err = timed(r, "RegisterByUsername", func() (*client.User, error) {
			return u.c.RegisterByUsername(ctx, u.username, benchPassword, nil, nil)
		})
	}
	if err == nil {
		u.id = usr.ID
	}
	if u.email != "" && r.codes != nil {
		if r.call("SendEmail", func() error { return u.c.SendEmail(ctx, u.email, client.EmailSceneVerifyEmail) }) == nil {
			code := r.codes.wait(ctx, u.email)
			r.call("VerifyEmail", func() error { return u.c.VerifyEmail(ctx, u.email, code) })
		}
	}
}

func (r *benchRun) setupPhone(ctx context.Context, u *benchUser) {
	if r.call("SendSmsCode", func() error { return u.c.SendSmsCode(ctx, u.phone) }) != nil {
		return
	}
	code := r.codes.wait(ctx, u.phone)
	usr, err := timed(r, "RegisterByPhoneCode", func() (*client.User, error) {
		return u.c.RegisterByPhoneCode(ctx, u.phone, code, benchPassword, nil, nil)
	})
	if err == nil {
		u.id = usr.ID
	}
}

// iteration is one round of an account's session: log in, use the
// token every way the SDK can, log out.
func (r *benchRun) iteration(ctx context.Context, u *benchUser, i int) {
	var err error
	if u.email != "" {
		_, err = timed(r, "LoginByEmail", func() (*client.User, error) { return u.c.LoginByEmail(ctx, u.email, benchPassword, nil) })
	} else {
		_, err = timed(r, "LoginByUsername", func() (*client.User, error) { return u.c.LoginByUsername(ctx, u.username, benchPassword, nil) })
	}
	if err != nil {
		return
	}
	tok := u.c.Token()
	for range 4 { // checks outnumber logins in real traffic
		timed(r, "CheckLoginStatus", func() (*client.LoginStatus, error) { return u.c.CheckLoginStatus(ctx, tok) })
		timed(r, "GetCurrentUser", func() (*client.User, error) { return u.c.GetCurrentUser(ctx) })
	}
	nick := fmt.Sprintf("bench %d", i)
	timed(r, "UpdateProfile", func() (*client.User, error) {
		return u.c.UpdateProfile(ctx, client.UpdateProfileInput{Nickname: &nick})
	})
	timed(r, "SetUdv", func() ([]client.UserDefinedData, error) { return u.c.SetUdv(ctx, benchField, i) })
	timed(r, "ListUdv", func() ([]client.UserDefinedData, error) { return u.c.ListUdv(ctx) })
	timed(r, "RemoveUdv", func() ([]client.UserDefinedData, error) { return u.c.RemoveUdv(ctx, benchField) })
	timed(r, "RefreshToken", func() (*client.RefreshedToken, error) { return u.c.RefreshToken(ctx) })
	timed(r, "GetCaptcha", func() (*client.Captcha, error) { return u.c.GetCaptcha(ctx) })
	r.call("Logout", func() error { return u.c.Logout(ctx) })
}

func (r *benchRun) phoneIteration(ctx context.Context, u *benchUser) {
	if u.id == "" {
		return
	}
	timed(r, "LoginByPhonePassword", func() (*client.User, error) {
		return u.c.LoginByPhonePassword(ctx, u.phone, benchPassword, nil)
	})
	if r.call("SendSmsCode", func() error { return u.c.SendSmsCode(ctx, u.phone) }) != nil {
		return
	}
	code := r.codes.wait(ctx, u.phone)
	timed(r, "LoginByPhoneCode", func() (*client.User, error) { return u.c.LoginByPhoneCode(ctx, u.phone, code, nil) })
}

// teardown changes every password once: by code for email accounts
// (when codes can be read), with the old password otherwise.
func (r *benchRun) teardown(ctx context.Context, u *benchUser) {
	if u.id == "" {
		return
	}
	if u.email != "" && r.codes != nil {
		if r.call("SendEmail", func() error { return u.c.SendEmail(ctx, u.email, client.EmailSceneResetPassword) }) == nil {
			code := r.codes.wait(ctx, u.email)
			r.call("ResetPasswordByEmailCode", func() error {
				return u.c.ResetPasswordByEmailCode(ctx, u.email, code, benchPassword+"2")
			})
		}
		return
	}
	login := func() (*client.User, error) { return u.c.LoginByUsername(ctx, u.username, benchPassword, nil) }
	if u.email != "" {
		login = func() (*client.User, error) { return u.c.LoginByEmail(ctx, u.email, benchPassword, nil) }
	}
	if _, err := login(); err != nil {
		return
	}
	timed(r, "UpdatePassword", func() (*client.User, error) { return u.c.UpdatePassword(ctx, benchPassword+"2", benchPassword) })
}

// cleanup deletes the run's accounts (not measured), even after a failed
// or interrupted run, and counts the deletions and the failures.
func (r *benchRun) cleanup(adm *client.ManagementClient, poolID string, users []*benchUser) (deleted, failed int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var mu sync.Mutex
	r.each(users, func(u *benchUser) {
		if u.id == "" {
			return
		}
		err := adm.DeleteUser(ctx, poolID, u.id)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
		} else {
			deleted++
		}
	})
	return deleted, failed
}

// callStats are one call's measurements.
type callStats struct {
	durations []time.Duration
	errors    int
	firstErr  string
	timed     int // successes in the timed phase
}

func timed[T any](r *benchRun, name string, fn func() (T, error)) (T, error) {
	var v T
	err := r.call(name, func() error {
		var err error
		v, err = fn()
		return err
	})
	return v, err
}

func (r *benchRun) call(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	d := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.calls[name]
	if s == nil {
		s = &callStats{}
		r.calls[name] = s
	}
	if err != nil {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
		return err
	}
	s.durations = append(s.durations, d)
	if r.timed {
		s.timed++
	}
	return nil
}

func (r *benchRun) setTimed(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timed = on
}

// benchReport is what a run prints.
type benchReport struct {
	Target      string      `json:"target"`
	Concurrency int         `json:"concurrency"`
	Users       int         `json:"users"`
	Duration    string      `json:"duration"`
	SetupTime   string      `json:"setupTime"`
	Calls       []benchCall `json:"calls"`
	Total       benchCall   `json:"total"`
	// Deleted and DeleteErrors count the run's accounts deleted after it.
	Deleted      int `json:"deleted"`
	DeleteErrors int `json:"deleteErrors"`
}

// benchCall is one call's line: throughput over the timed phase (calls
// made only in setup or teardown show none), percentiles of the
// successful calls.
type benchCall struct {
	Call      string  `json:"call"`
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"perSecond"`
	P50ms     float64 `json:"p50Ms"`
	P90ms     float64 `json:"p90Ms"`
	P99ms     float64 `json:"p99Ms"`
	FirstErr  string  `json:"firstError,omitempty"`
}

func (r *benchRun) report(setup, loop time.Duration) *benchReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &benchReport{Target: r.describe, Concurrency: r.opts.concurrency, Users: r.opts.users,
		Duration: loop.Round(time.Millisecond).String(), SetupTime: setup.Round(time.Millisecond).String()}
	var all []time.Duration
	for name, s := range r.calls {
		c := benchCall{Call: name, Count: len(s.durations), Errors: s.errors, FirstErr: s.firstErr}
		sort.Slice(s.durations, func(i, j int) bool { return s.durations[i] < s.durations[j] })
		c.P50ms, c.P90ms, c.P99ms = pct(s.durations, .50), pct(s.durations, .90), pct(s.durations, .99)
		if s.timed > 0 && loop > 0 {
			c.PerSecond = float64(s.timed) / loop.Seconds()
		}
		all = append(all, s.durations...)
		rep.Calls = append(rep.Calls, c)
	}
	sort.Slice(rep.Calls, func(i, j int) bool { return rep.Calls[i].Call < rep.Calls[j].Call })
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	rep.Total = benchCall{Call: "all calls", Count: len(all), P50ms: pct(all, .5), P90ms: pct(all, .9), P99ms: pct(all, .99)}
	for _, c := range rep.Calls {
		rep.Total.Errors += c.Errors
		rep.Total.PerSecond += c.PerSecond
	}
	return rep
}

// pct is the nearest-rank percentile of sorted durations, in ms.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

func (rep *benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "authpool bench: %s\n", rep.Target)
	fmt.Fprintf(w, "%d clients, %d accounts; setup %s, timed phase %s (per second: successful calls of the timed phase over its length; percentiles: every successful call, setup and teardown included)\n\n",
		rep.Concurrency, rep.Users, rep.SetupTime, rep.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "call\tcount\terrors\tper second\tp50 ms\tp90 ms\tp99 ms\t")
	line := func(c benchCall) {
		rate := "-"
		if c.PerSecond > 0 {
			rate = fmt.Sprintf("%.1f", c.PerSecond)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.2f\t%.2f\t%.2f\t\n", c.Call, c.Count, c.Errors, rate, c.P50ms, c.P90ms, c.P99ms)
	}
	for _, c := range rep.Calls {
		line(c)
	}
	line(rep.Total)
	tw.Flush()
	for _, c := range rep.Calls {
		if c.FirstErr != "" {
			fmt.Fprintf(w, "\n%s: %d errors, the first: %s", c.Call, c.Errors, c.FirstErr)
		}
	}
	fmt.Fprintf(w, "\n%d accounts deleted after the run", rep.Deleted)
	if rep.DeleteErrors > 0 {
		fmt.Fprintf(w, "; %d could not be deleted (pool %q)", rep.DeleteErrors, benchPoolName)
	}
	fmt.Fprintln(w)
}

// codeLog is the log handler of the server bench starts: it keeps the
// codes its console senders write, by recipient, and drops everything
// else (the run's output is the report).
type codeLog struct {
	mu    sync.Mutex
	codes map[string]string
	added chan struct{} // closed and replaced when a code arrives
}

func newCodeLog() *codeLog {
	return &codeLog{codes: map[string]string{}, added: make(chan struct{})}
}

func (l *codeLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *codeLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *codeLog) WithGroup(string) slog.Handler                 { return l }

func (l *codeLog) Handle(_ context.Context, rec slog.Record) error {
	if !strings.Contains(rec.Message, "console sender") {
		return nil
	}
	var to, code string
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "to":
			to = a.Value.String()
		case "code":
			code = a.Value.String()
		}
		return true
	})
	if to == "" || code == "" {
		return nil
	}
	l.mu.Lock()
	l.codes[to] = code
	close(l.added)
	l.added = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// wait returns (and forgets) the code sent to "to", waiting up to 10 s
// for the queue to send it; "" if none came.
func (l *codeLog) wait(ctx context.Context, to string) string {
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		code, ok := l.codes[to]
		delete(l.codes, to)
		added := l.added
		l.mu.Unlock()
		if ok {
			return code
		}
		select {
		case <-added:
		case <-timeout:
			return ""
		case <-ctx.Done():
			return ""
		}
	}
}
