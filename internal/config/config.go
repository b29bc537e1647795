// Package config holds authpool's one Config: built-in defaults, then an
// optional JSON file, then AUTHPOOL_* environment variables. Validate
// reports every problem at once so an operator fixes them in one go.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/userpool"
)

// Config is the whole configuration of a server process.
type Config struct {
	// Addr is the listen address.
	Addr string `json:"addr"`
	// MetricsAddr, when set, is a second listen address that serves
	// /metrics without the administrator key (it must not be public).
	MetricsAddr string `json:"metricsAddr"`
	// DatabaseURL picks the store by scheme: "sqlite:<path>" or "postgres://...".
	DatabaseURL string `json:"databaseUrl"`
	// Issuer is the "iss" claim of every token.
	Issuer string `json:"issuer"`
	// TokenTTL is how long a token (and its session) lives; refresh extends it.
	TokenTTL Duration `json:"tokenTtl"`
	// DefaultPoolID is the id given to the default user pool at first start.
	DefaultPoolID string `json:"defaultPoolId"`

	// Password hashing (argon2id) parameters and concurrency.
	PasswordMemoryKiB   uint32   `json:"passwordMemoryKiB"`
	PasswordTime        uint32   `json:"passwordTime"`
	PasswordThreads     uint8    `json:"passwordThreads"`
	PasswordConcurrency int      `json:"passwordConcurrency"`
	PasswordMinLength   int      `json:"passwordMinLength"`
	ShutdownTimeout     Duration `json:"shutdownTimeout"`
	LogLevel            string   `json:"logLevel"`
	LogFormat           string   `json:"logFormat"`
	// TrustedProxies are CIDRs whose X-Forwarded-For and clientIp claims are
	// believed; every other caller is identified by its connection address.
	TrustedProxies []string `json:"trustedProxies"`
	// CORSOrigins are the browser origins ("https://app.example.com") that
	// may call the Authing-compatible API with credentials.
	CORSOrigins []string `json:"corsOrigins"`

	// Verification codes and their delivery (codes.go).
	Codes
	// Passkeys' relying party (webauthn.go).
	WebAuthn
	// The admin console (console.go).
	Console
	// AdminKey is the administrator key of the admin API. Empty: a key is
	// generated at first start, stored hashed and printed once.
	AdminKey string `json:"adminKey"`
	// ForwardedHeader is the header the trusted proxies write the client
	// address into: "X-Forwarded-For" (default) or "Forwarded" (RFC 7239).
	// The other one is ignored: clients can send either.
	ForwardedHeader string `json:"forwardedHeader"`
	// SessionCache is "off" (every token check reads its session from the
	// store) or "listen" (PostgreSQL only: each replica keeps the live
	// sessions it has seen and learns of revocations through LISTEN/NOTIFY;
	// see docs/SECURITY.md for the staleness bound).
	SessionCache string `json:"sessionCache"`
	// AppSecrets authenticate server-side callers, whose clientIp claims
	// are believed: "appId:secret" (the secret at least 16 bytes) or
	// "appId:sha256:<hex of SHA-256(secret)>", so the file need not hold
	// the secret itself.
	AppSecrets []Secret `json:"appSecrets"`
	// Secret is the root of the HMAC keys under which CAPTCHA answers and
	// (unless CodeSecret is set) verification codes are stored, one key
	// derived per purpose; at least 32 bytes, the same on every replica.
	// Empty: random keys generated at first start and kept in the store.
	Secret Secret `json:"secret"`

	// Per-client-IP request limits, shared by replicas.
	RateLimitRegister   Rate `json:"rateLimitRegister"`
	RateLimitLogin      Rate `json:"rateLimitLogin"`
	RateLimitCaptcha    Rate `json:"rateLimitCaptcha"`
	RateLimitTokenCheck Rate `json:"rateLimitTokenCheck"`
	// RateLimitGraphQL counts the /graphql/v2 documents that are parsed
	// and run (answers from the introspection cache are not counted).
	RateLimitGraphQL Rate `json:"rateLimitGraphQL"`
	// AuditRetention is how long audit events are kept; 0 keeps them.
	AuditRetention Duration `json:"auditRetention"`
	// SigningKeyLeadTime is how long a rotated-in signing key is published
	// (JWKS) before it signs, so that relying parties' caches have it.
	SigningKeyLeadTime Duration `json:"signingKeyLeadTime"`
	// SigningKeyRotation, when not 0, rotates the signing key once the
	// current one has signed this long.
	SigningKeyRotation Duration `json:"signingKeyRotation"`

	// PipelineTimeout limits a run of a pipeline that sets no limit itself.
	PipelineTimeout Duration `json:"pipelineTimeout"`
	// PipelineConcurrency bounds the scripts running at once (0: one per
	// CPU, at least 4).
	PipelineConcurrency int `json:"pipelineConcurrency"`
	// PipelinePoolConcurrency bounds the scripts of one user pool running
	// at once (0: half of PipelineConcurrency, at least 1).
	PipelinePoolConcurrency int `json:"pipelinePoolConcurrency"`
	// PipelineMemoryMiB bounds the memory of one script run.
	PipelineMemoryMiB int `json:"pipelineMemoryMiB"`

	// Webhook delivery: concurrent deliveries of this process (0: this
	// replica delivers none), attempts before a delivery fails, the backoff
	// after the first failure (doubling up to the maximum), the limit of
	// one attempt, and how often the outbox is polled.
	WebhookWorkers      int      `json:"webhookWorkers"`
	WebhookMaxAttempts  int      `json:"webhookMaxAttempts"`
	WebhookBackoff      Duration `json:"webhookBackoff"`
	WebhookMaxBackoff   Duration `json:"webhookMaxBackoff"`
	WebhookTimeout      Duration `json:"webhookTimeout"`
	WebhookPollInterval Duration `json:"webhookPollInterval"`

	// Code delivery (the message queue): messages this process sends at
	// once (0: this replica sends none), attempts before a message is
	// given up and reported, the backoff after the first failure
	// (doubling, at most a minute), the limit of one attempt, and how
	// often the queue is polled for other replicas' messages and retries.
	MessageWorkers      int      `json:"messageWorkers"`
	MessageMaxAttempts  int      `json:"messageMaxAttempts"`
	MessageBackoff      Duration `json:"messageBackoff"`
	MessageTimeout      Duration `json:"messageTimeout"`
	MessagePollInterval Duration `json:"messagePollInterval"`
}

// Secret is a configuration value that must never be printed or logged.
type Secret string

func (Secret) String() string               { return "REDACTED" }
func (Secret) GoString() string             { return "REDACTED" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }

// UnmarshalText keeps the value MarshalText hides.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Rate is a request limit written "N/window", such as "300/1m"; "0" or
// "off" turns it off.
type Rate struct {
	Max    int
	Window time.Duration
}

// ParseRate reads the "N/window" form.
func ParseRate(v string) (Rate, error) {
	v = strings.TrimSpace(v)
	if v == "0" || v == "off" {
		return Rate{}, nil
	}
	n, w, ok := strings.Cut(v, "/")
	max, err := strconv.Atoi(n)
	if !ok || err != nil || max < 1 {
		return Rate{}, fmt.Errorf("rate %q: want N/window such as 300/1m, or off", v)
	}
	d, err := time.ParseDuration(w)
	if err != nil || d < time.Second {
		return Rate{}, fmt.Errorf("rate %q: window must be a duration of at least 1s", v)
	}
	return Rate{Max: max, Window: d}, nil
}

func (r Rate) String() string {
	if r.Max == 0 {
		return "off"
	}
	return strconv.Itoa(r.Max) + "/" + r.Window.String()
}

func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// minAdminKeyLen keeps a configured administrator key out of guessing
// range; generated keys carry 256 random bits.
const minAdminKeyLen = 32

// Duration is a time.Duration that reads and writes as "15m", "24h".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"15m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Addr:                "127.0.0.1:8080",
		DatabaseURL:         "sqlite:authpool.db",
		Issuer:              "authpool",
		TokenTTL:            Duration(15 * 24 * time.Hour),
		PasswordMemoryKiB:   19 * 1024,
		PasswordTime:        2,
		PasswordThreads:     1,
		PasswordConcurrency: 0,
		PasswordMinLength:   8,
		ShutdownTimeout:     Duration(15 * time.Second),
		LogLevel:            "info",
		LogFormat:           "text",
		Codes:               defaultCodes(),
		Console:             defaultConsole(),
		ForwardedHeader:     "X-Forwarded-For",
		SessionCache:        "off",
		// Far above what people do by hand, also behind a shared NAT:
		// these stop floods; failure detection stops guessing.
		RateLimitRegister:   Rate{Max: 60, Window: time.Minute},
		RateLimitLogin:      Rate{Max: 300, Window: time.Minute},
		RateLimitCaptcha:    Rate{Max: 120, Window: time.Minute},
		RateLimitTokenCheck: Rate{Max: 6000, Window: time.Minute},
		// As many as token checks, the most frequent document a backend sends.
		RateLimitGraphQL:    Rate{Max: 6000, Window: time.Minute},
		AuditRetention:      Duration(90 * 24 * time.Hour),
		SigningKeyLeadTime:  Duration(time.Hour),
		PipelineTimeout:     Duration(3 * time.Second),
		PipelineMemoryMiB:   128,
		WebhookWorkers:      4,
		WebhookMaxAttempts:  10,
		WebhookBackoff:      Duration(10 * time.Second),
		WebhookMaxBackoff:   Duration(time.Hour),
		WebhookTimeout:      Duration(10 * time.Second),
		WebhookPollInterval: Duration(time.Second),
		MessageWorkers:      4,
		MessageMaxAttempts:  5,
		MessageBackoff:      Duration(5 * time.Second),
		MessageTimeout:      Duration(30 * time.Second),
		MessagePollInterval: Duration(time.Second),
	}
}

// Load builds a Config from the defaults, the file named by AUTHPOOL_CONFIG
// (JSON) if any, and AUTHPOOL_* variables read through getenv. A setting
// that holds a secret may also be given as <NAME>_FILE, a path to read.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	var errs []error
	if path := getenv("AUTHPOOL_CONFIG"); path != "" {
		// A file that cannot be read or parsed is reported with the rest:
		// the environment's values are still read and judged.
		errs = append(errs, loadFile(path, &c)...)
	}
	env := func(name string) (string, bool) {
		if v := getenv(name); v != "" {
			return v, true
		}
		if path := getenv(name + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return "", false
			}
			return strings.TrimSpace(string(b)), true
		}
		return "", false
	}
	str := func(name string, dst *string) {
		if v, ok := env(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *Duration) {
		if v, ok := env(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = Duration(d)
		}
	}
	integer := func(name string, bits int, set func(int64)) {
		if v, ok := env(name); ok {
			n, err := strconv.ParseInt(v, 10, bits)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number (of %d bits)", name, v, bits))
				return
			}
			set(n)
		}
	}
	str("AUTHPOOL_ADDR", &c.Addr)
	str("AUTHPOOL_METRICS_ADDR", &c.MetricsAddr)
	str("AUTHPOOL_DATABASE_URL", &c.DatabaseURL)
	str("AUTHPOOL_ISSUER", &c.Issuer)
	str("AUTHPOOL_DEFAULT_POOL_ID", &c.DefaultPoolID)
	dur("AUTHPOOL_TOKEN_TTL", &c.TokenTTL)
	dur("AUTHPOOL_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	integer("AUTHPOOL_PASSWORD_MEMORY_KIB", 32, func(n int64) { c.PasswordMemoryKiB = uint32(n) })
	integer("AUTHPOOL_PASSWORD_TIME", 32, func(n int64) { c.PasswordTime = uint32(n) })
	integer("AUTHPOOL_PASSWORD_THREADS", 8, func(n int64) { c.PasswordThreads = uint8(n) })
	integer("AUTHPOOL_PASSWORD_CONCURRENCY", 32, func(n int64) { c.PasswordConcurrency = int(n) })
	integer("AUTHPOOL_PASSWORD_MIN_LENGTH", 32, func(n int64) { c.PasswordMinLength = int(n) })
	str("AUTHPOOL_LOG_LEVEL", &c.LogLevel)
	str("AUTHPOOL_LOG_FORMAT", &c.LogFormat)
	str("AUTHPOOL_ADMIN_KEY", &c.AdminKey)
	dur("AUTHPOOL_PIPELINE_TIMEOUT", &c.PipelineTimeout)
	integer("AUTHPOOL_PIPELINE_CONCURRENCY", 32, func(n int64) { c.PipelineConcurrency = int(n) })
	integer("AUTHPOOL_PIPELINE_POOL_CONCURRENCY", 32, func(n int64) { c.PipelinePoolConcurrency = int(n) })
	integer("AUTHPOOL_PIPELINE_MEMORY_MIB", 32, func(n int64) { c.PipelineMemoryMiB = int(n) })
	integer("AUTHPOOL_WEBHOOK_WORKERS", 32, func(n int64) { c.WebhookWorkers = int(n) })
	integer("AUTHPOOL_WEBHOOK_MAX_ATTEMPTS", 32, func(n int64) { c.WebhookMaxAttempts = int(n) })
	dur("AUTHPOOL_WEBHOOK_BACKOFF", &c.WebhookBackoff)
	dur("AUTHPOOL_WEBHOOK_MAX_BACKOFF", &c.WebhookMaxBackoff)
	dur("AUTHPOOL_WEBHOOK_TIMEOUT", &c.WebhookTimeout)
	dur("AUTHPOOL_WEBHOOK_POLL_INTERVAL", &c.WebhookPollInterval)
	integer("AUTHPOOL_MESSAGE_WORKERS", 32, func(n int64) { c.MessageWorkers = int(n) })
	integer("AUTHPOOL_MESSAGE_MAX_ATTEMPTS", 32, func(n int64) { c.MessageMaxAttempts = int(n) })
	dur("AUTHPOOL_MESSAGE_BACKOFF", &c.MessageBackoff)
	dur("AUTHPOOL_MESSAGE_TIMEOUT", &c.MessageTimeout)
	dur("AUTHPOOL_MESSAGE_POLL_INTERVAL", &c.MessagePollInterval)
	if v, ok := env("AUTHPOOL_TRUSTED_PROXIES"); ok {
		c.TrustedProxies = splitList(v)
	}
	if v, ok := env("AUTHPOOL_CORS_ORIGINS"); ok {
		c.CORSOrigins = splitList(v)
	}
	c.Codes.load(env, func(err error) { errs = append(errs, err) })
	c.WebAuthn.load(env)
	c.Console.load(env, func(err error) { errs = append(errs, err) })
	str("AUTHPOOL_FORWARDED_HEADER", &c.ForwardedHeader)
	str("AUTHPOOL_SESSION_CACHE", &c.SessionCache)
	if v, ok := env("AUTHPOOL_APP_SECRETS"); ok {
		c.AppSecrets = nil
		for _, p := range splitList(v) {
			c.AppSecrets = append(c.AppSecrets, Secret(p))
		}
	}
	if v, ok := env("AUTHPOOL_SECRET"); ok {
		c.Secret = Secret(v)
	}
	rate := func(name string, dst *Rate) {
		if v, ok := env(name); ok {
			r, err := ParseRate(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = r
		}
	}
	rate("AUTHPOOL_RATE_LIMIT_REGISTER", &c.RateLimitRegister)
	rate("AUTHPOOL_RATE_LIMIT_LOGIN", &c.RateLimitLogin)
	rate("AUTHPOOL_RATE_LIMIT_CAPTCHA", &c.RateLimitCaptcha)
	rate("AUTHPOOL_RATE_LIMIT_TOKEN_CHECK", &c.RateLimitTokenCheck)
	rate("AUTHPOOL_RATE_LIMIT_GRAPHQL", &c.RateLimitGraphQL)
	dur("AUTHPOOL_AUDIT_RETENTION", &c.AuditRetention)
	dur("AUTHPOOL_SIGNING_KEY_LEAD_TIME", &c.SigningKeyLeadTime)
	dur("AUTHPOOL_SIGNING_KEY_ROTATION", &c.SigningKeyRotation)
	return c, errors.Join(errs...)
}

// Read is Load and Validate together: every value that does not parse
// and every value out of range, reported in one error.
func Read(getenv func(string) string) (Config, error) {
	c, err := Load(getenv)
	if err = errors.Join(err, c.Validate()); err != nil {
		return c, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}

// loadFile sets c's fields from the JSON file at path, key by key, so
// that every unknown key and every bad value is reported, not the first.
func loadFile(path string, c *Config) []error {
	b, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("AUTHPOOL_CONFIG: %w", err)}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return []error{fmt.Errorf("AUTHPOOL_CONFIG %s: not a JSON object: %w", path, err)}
	}
	fields := jsonFields(reflect.ValueOf(c).Elem())
	var keys []string
	for _, f := range fields {
		keys = append(keys, f.key)
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		f, ok := fields[strings.ToLower(k)]
		if !ok {
			errs = append(errs, fmt.Errorf("AUTHPOOL_CONFIG %s: unknown key %q; did you mean %q?", path, k, closest(k, keys)))
			continue
		}
		if err := json.Unmarshal(raw[k], f.v.Addr().Interface()); err != nil {
			errs = append(errs, fmt.Errorf("AUTHPOOL_CONFIG %s: %s: %w", path, f.key, err))
		}
	}
	return errs
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Addr == "" {
		bad("addr (AUTHPOOL_ADDR) must not be empty")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("metricsAddr (AUTHPOOL_METRICS_ADDR) must be host:port: %v", err)
		} else if c.MetricsAddr == c.Addr {
			bad("metricsAddr (AUTHPOOL_METRICS_ADDR) must differ from addr (AUTHPOOL_ADDR)")
		}
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"), strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
	default:
		bad("databaseUrl (AUTHPOOL_DATABASE_URL) must start with sqlite: or postgres://")
	}
	if c.Issuer == "" {
		bad("issuer (AUTHPOOL_ISSUER) must not be empty")
	}
	if c.TokenTTL < Duration(time.Minute) {
		bad("tokenTtl (AUTHPOOL_TOKEN_TTL) must be at least 1m")
	}
	if err := c.PasswordParams().Validate(); err != nil {
		bad("password parameters (AUTHPOOL_PASSWORD_MEMORY_KIB, _TIME, _THREADS): %v", err)
	}
	if c.PasswordConcurrency < 0 {
		bad("passwordConcurrency (AUTHPOOL_PASSWORD_CONCURRENCY) must not be negative (0 means one per CPU)")
	}
	if c.PasswordMinLength < 1 || c.PasswordMinLength > 128 {
		bad("passwordMinLength (AUTHPOOL_PASSWORD_MIN_LENGTH) must be between 1 and 128")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdownTimeout (AUTHPOOL_SHUTDOWN_TIMEOUT) must be positive")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("logLevel (AUTHPOOL_LOG_LEVEL) must be debug, info, warn or error")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("logFormat (AUTHPOOL_LOG_FORMAT) must be text or json")
	}
	if _, err := c.TrustedPrefixes(); err != nil {
		errs = append(errs, err)
	}
	for _, o := range c.CORSOrigins {
		if !validOrigin(o) {
			bad("corsOrigins (AUTHPOOL_CORS_ORIGINS): %q is not an origin such as https://app.example.com (scheme and host in lower case, optional port, no path, no wildcard)", o)
		}
	}
	errs = append(errs, c.Codes.validate()...)
	errs = append(errs, c.validateWebAuthn()...)
	errs = append(errs, c.Console.validate(c.Addr, c.MetricsAddr)...)
	if c.AdminKey != "" && len(c.AdminKey) < minAdminKeyLen {
		bad("adminKey (AUTHPOOL_ADMIN_KEY) must be at least %d characters", minAdminKeyLen)
	}
	switch c.SessionCache {
	case "off":
	case "listen":
		if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
			bad("sessionCache (AUTHPOOL_SESSION_CACHE) listen needs PostgreSQL (LISTEN/NOTIFY); SQLite checks are already in-process reads")
		}
	default:
		bad("sessionCache (AUTHPOOL_SESSION_CACHE) must be off or listen")
	}
	if h := c.ForwardedHeaderName(); h == "" {
		bad("forwardedHeader (AUTHPOOL_FORWARDED_HEADER) must be X-Forwarded-For or Forwarded")
	}
	if _, err := c.AppSecretHashes(); err != nil {
		errs = append(errs, err)
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		bad("secret (AUTHPOOL_SECRET) must be at least 32 bytes (or empty: random keys kept in the store)")
	}
	for name, r := range map[string]Rate{
		"rateLimitRegister (AUTHPOOL_RATE_LIMIT_REGISTER)": c.RateLimitRegister, "rateLimitLogin (AUTHPOOL_RATE_LIMIT_LOGIN)": c.RateLimitLogin,
		"rateLimitCaptcha (AUTHPOOL_RATE_LIMIT_CAPTCHA)": c.RateLimitCaptcha, "rateLimitTokenCheck (AUTHPOOL_RATE_LIMIT_TOKEN_CHECK)": c.RateLimitTokenCheck,
		"rateLimitGraphQL (AUTHPOOL_RATE_LIMIT_GRAPHQL)": c.RateLimitGraphQL,
	} {
		if r.Max < 0 || (r.Max > 0 && r.Window < time.Second) {
			bad("%s must be N/window with N >= 1 and a window of at least 1s, or off", name)
		}
	}
	if c.AuditRetention < 0 {
		bad("auditRetention (AUTHPOOL_AUDIT_RETENTION) must not be negative (0 keeps events forever)")
	}
	// 5m is token.MinLeadTime: every replica rereads the keys each minute
	// and must have the new key before any signs with it.
	if c.SigningKeyLeadTime < Duration(5*time.Minute) {
		bad("signingKeyLeadTime (AUTHPOOL_SIGNING_KEY_LEAD_TIME) must be at least 5m")
	}
	if c.SigningKeyRotation != 0 && (c.SigningKeyRotation < Duration(time.Hour) || c.SigningKeyRotation < c.SigningKeyLeadTime) {
		bad("signingKeyRotation (AUTHPOOL_SIGNING_KEY_ROTATION) must be 0 (off) or at least 1h and at least the lead time")
	}
	if c.PipelineTimeout <= 0 || c.PipelineTimeout > Duration(30*time.Second) {
		bad("pipelineTimeout (AUTHPOOL_PIPELINE_TIMEOUT) must be between 1ms and 30s")
	}
	if c.PipelineConcurrency < 0 {
		bad("pipelineConcurrency (AUTHPOOL_PIPELINE_CONCURRENCY) must not be negative (0 means one per CPU)")
	}
	if c.PipelinePoolConcurrency < 0 {
		bad("pipelinePoolConcurrency (AUTHPOOL_PIPELINE_POOL_CONCURRENCY) must not be negative (0 means half of pipelineConcurrency)")
	}
	if c.PipelineMemoryMiB < 32 || c.PipelineMemoryMiB > 4096 {
		bad("pipelineMemoryMiB (AUTHPOOL_PIPELINE_MEMORY_MIB) must be between 32 and 4096")
	}
	if c.WebhookWorkers < 0 || c.WebhookWorkers > 256 {
		bad("webhookWorkers (AUTHPOOL_WEBHOOK_WORKERS) must be between 0 (deliver nothing here) and 256")
	}
	if c.WebhookMaxAttempts < 1 || c.WebhookMaxAttempts > 100 {
		bad("webhookMaxAttempts (AUTHPOOL_WEBHOOK_MAX_ATTEMPTS) must be between 1 and 100")
	}
	if c.WebhookBackoff <= 0 || c.WebhookMaxBackoff < c.WebhookBackoff {
		bad("webhookBackoff (AUTHPOOL_WEBHOOK_BACKOFF) must be positive and at most webhookMaxBackoff (AUTHPOOL_WEBHOOK_MAX_BACKOFF)")
	}
	if c.WebhookTimeout <= 0 || c.WebhookTimeout > Duration(5*time.Minute) {
		bad("webhookTimeout (AUTHPOOL_WEBHOOK_TIMEOUT) must be between 1ms and 5m")
	}
	if c.WebhookPollInterval <= 0 {
		bad("webhookPollInterval (AUTHPOOL_WEBHOOK_POLL_INTERVAL) must be positive")
	}
	if c.MessageWorkers < 0 || c.MessageWorkers > 256 {
		bad("messageWorkers (AUTHPOOL_MESSAGE_WORKERS) must be between 0 (send nothing here) and 256")
	}
	if c.MessageMaxAttempts < 1 || c.MessageMaxAttempts > 100 {
		bad("messageMaxAttempts (AUTHPOOL_MESSAGE_MAX_ATTEMPTS) must be between 1 and 100")
	}
	if c.MessageBackoff <= 0 || c.MessageBackoff > Duration(time.Minute) {
		bad("messageBackoff (AUTHPOOL_MESSAGE_BACKOFF) must be between 1ms and 1m")
	}
	if c.MessageTimeout <= 0 || c.MessageTimeout > Duration(5*time.Minute) {
		bad("messageTimeout (AUTHPOOL_MESSAGE_TIMEOUT) must be between 1ms and 5m")
	}
	if c.MessagePollInterval <= 0 {
		bad("messagePollInterval (AUTHPOOL_MESSAGE_POLL_INTERVAL) must be positive")
	}
	return errors.Join(errs...)
}

// ForwardedHeaderName is ForwardedHeader in canonical spelling, or "" when
// it names neither supported header.
func (c Config) ForwardedHeaderName() string {
	switch strings.ToLower(c.ForwardedHeader) {
	case "x-forwarded-for":
		return "X-Forwarded-For"
	case "forwarded":
		return "Forwarded"
	}
	return ""
}

// AppSecretHashes parses AppSecrets into app id -> SHA-256 of its secret.
// Only the hashes are kept in memory; requests are checked by hashing the
// presented secret and comparing in constant time.
func (c Config) AppSecretHashes() (map[string][sha256.Size]byte, error) {
	out := map[string][sha256.Size]byte{}
	var errs []error
	for i, e := range c.AppSecrets {
		// Errors name the entry by position: the value holds a secret.
		id, secret, ok := strings.Cut(string(e), ":")
		if !ok || id == "" {
			errs = append(errs, fmt.Errorf("appSecrets (AUTHPOOL_APP_SECRETS) entry %d: want appId:secret or appId:sha256:<hex>", i+1))
			continue
		}
		if _, dup := out[id]; dup {
			errs = append(errs, fmt.Errorf("appSecrets (AUTHPOOL_APP_SECRETS): app %q appears twice", id))
			continue
		}
		var sum [sha256.Size]byte
		if h, isHash := strings.CutPrefix(secret, "sha256:"); isHash {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("appSecrets (AUTHPOOL_APP_SECRETS) app %q: sha256: must be followed by 64 hex digits", id))
				continue
			}
			copy(sum[:], b)
		} else {
			if len(secret) < 16 {
				errs = append(errs, fmt.Errorf("appSecrets (AUTHPOOL_APP_SECRETS) app %q: the secret must be at least 16 bytes", id))
				continue
			}
			sum = sha256.Sum256([]byte(secret))
		}
		out[id] = sum
	}
	return out, errors.Join(errs...)
}

// InitialPoolSettings are the settings the default pool is created with on
// first start; afterwards the stored settings rule (the admin API changes
// them).
func (c Config) InitialPoolSettings() userpool.PoolSettings {
	s := userpool.DefaultPoolSettings()
	s.TokenTTL = time.Duration(c.TokenTTL)
	s.PasswordMinLength = c.PasswordMinLength
	c.Codes.applyTo(&s)
	return s
}

// PasswordParams are the argon2id parameters the settings describe.
func (c Config) PasswordParams() password.Params {
	p := password.DefaultParams()
	p.Memory, p.Time, p.Threads = c.PasswordMemoryKiB, c.PasswordTime, c.PasswordThreads
	return p
}

// TrustedPrefixes parses TrustedProxies; a bare address counts as /32 or /128.
func (c Config) TrustedPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("trustedProxies (AUTHPOOL_TRUSTED_PROXIES): %q is neither a CIDR nor an address", s))
			continue
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, errors.Join(errs...)
}

// validOrigin reports whether o is a browser origin as the CORS allow-list
// takes it: "http" or "https", a host, an optional port, nothing else.
// Browsers send origins in this exact form, and the list is matched
// exactly.
func validOrigin(o string) bool {
	rest, ok := strings.CutPrefix(o, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(o, "http://")
	}
	return ok && rest != "" && !strings.ContainsAny(rest, "/?#@ *") && rest == strings.ToLower(rest)
}
