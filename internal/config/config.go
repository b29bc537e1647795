// Package config holds authpool's one Config: built-in defaults, then an
// optional JSON file, then AUTHPOOL_* environment variables. Validate
// reports every problem at once so an operator fixes them in one go.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
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

	// PipelineTimeout limits a run of a pipeline that sets no limit itself.
	PipelineTimeout Duration `json:"pipelineTimeout"`
	// PipelineConcurrency bounds the scripts running at once (0: one per CPU).
	PipelineConcurrency int `json:"pipelineConcurrency"`

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
}

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
		PipelineTimeout:     Duration(3 * time.Second),
		WebhookWorkers:      4,
		WebhookMaxAttempts:  10,
		WebhookBackoff:      Duration(10 * time.Second),
		WebhookMaxBackoff:   Duration(time.Hour),
		WebhookTimeout:      Duration(10 * time.Second),
		WebhookPollInterval: Duration(time.Second),
	}
}

// Load builds a Config from the defaults, the file named by AUTHPOOL_CONFIG
// (JSON) if any, and AUTHPOOL_* variables read through getenv. A setting
// that holds a secret may also be given as <NAME>_FILE, a path to read.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	if path := getenv("AUTHPOOL_CONFIG"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: read %s: %w", path, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config: parse %s: %w", path, err)
		}
	}
	var errs []error
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
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			set(n)
		}
	}
	str("AUTHPOOL_ADDR", &c.Addr)
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
	dur("AUTHPOOL_PIPELINE_TIMEOUT", &c.PipelineTimeout)
	integer("AUTHPOOL_PIPELINE_CONCURRENCY", 32, func(n int64) { c.PipelineConcurrency = int(n) })
	integer("AUTHPOOL_WEBHOOK_WORKERS", 32, func(n int64) { c.WebhookWorkers = int(n) })
	integer("AUTHPOOL_WEBHOOK_MAX_ATTEMPTS", 32, func(n int64) { c.WebhookMaxAttempts = int(n) })
	dur("AUTHPOOL_WEBHOOK_BACKOFF", &c.WebhookBackoff)
	dur("AUTHPOOL_WEBHOOK_MAX_BACKOFF", &c.WebhookMaxBackoff)
	dur("AUTHPOOL_WEBHOOK_TIMEOUT", &c.WebhookTimeout)
	dur("AUTHPOOL_WEBHOOK_POLL_INTERVAL", &c.WebhookPollInterval)
	if v, ok := env("AUTHPOOL_TRUSTED_PROXIES"); ok {
		c.TrustedProxies = splitList(v)
	}
	return c, errors.Join(errs...)
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
	if c.PipelineTimeout <= 0 || c.PipelineTimeout > Duration(30*time.Second) {
		bad("pipelineTimeout (AUTHPOOL_PIPELINE_TIMEOUT) must be between 1ms and 30s")
	}
	if c.PipelineConcurrency < 0 {
		bad("pipelineConcurrency (AUTHPOOL_PIPELINE_CONCURRENCY) must not be negative (0 means one per CPU)")
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
	return errors.Join(errs...)
}

// InitialPoolSettings are the settings the default pool is created with on
// first start; afterwards the stored settings rule (the admin API changes
// them).
func (c Config) InitialPoolSettings() userpool.PoolSettings {
	s := userpool.DefaultPoolSettings()
	s.TokenTTL = time.Duration(c.TokenTTL)
	s.PasswordMinLength = c.PasswordMinLength
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
