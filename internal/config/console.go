package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Console is the admin console's configuration (docs/CONSOLE.md).
type Console struct {
	// ConsolePath is where the console is served, "/console" by default;
	// "off" serves none.
	ConsolePath string `json:"consolePath"`
	// ConsoleAddr, when set, is a listen address serving the console
	// alone; the main listener then serves no console.
	ConsoleAddr string `json:"consoleAddr"`
	// ConsoleIdleTimeout ends a console session unused this long;
	// ConsoleLifetime ends it however used.
	ConsoleIdleTimeout Duration `json:"consoleIdleTimeout"`
	ConsoleLifetime    Duration `json:"consoleLifetime"`
}

func defaultConsole() Console {
	return Console{ConsolePath: "/console", ConsoleIdleTimeout: Duration(30 * time.Minute), ConsoleLifetime: Duration(12 * time.Hour)}
}

// ConsoleOn reports whether a console is served.
func (c Console) ConsoleOn() bool { return c.ConsolePath != "off" }

func (c *Console) load(env func(string) (string, bool), bad func(error)) {
	if v, ok := env("AUTHPOOL_CONSOLE_PATH"); ok {
		c.ConsolePath = v
	}
	if v, ok := env("AUTHPOOL_CONSOLE_ADDR"); ok {
		c.ConsoleAddr = v
	}
	for name, dst := range map[string]*Duration{"AUTHPOOL_CONSOLE_IDLE_TIMEOUT": &c.ConsoleIdleTimeout, "AUTHPOOL_CONSOLE_LIFETIME": &c.ConsoleLifetime} {
		if v, ok := env(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				bad(fmt.Errorf("%s: %w", name, err))
				continue
			}
			*dst = Duration(d)
		}
	}
}

// consoleReserved are the path prefixes other parts of the server serve.
var consoleReserved = []string{"/api", "/oidc", "/graphql", "/_authpool", "/.well-known", "/metrics", "/healthz", "/readyz", "/livez"}

func (c Console) validate(addr, metricsAddr string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.ConsoleOn() {
		p := c.ConsolePath
		ok := len(p) >= 2 && len(p) <= 64 && p[0] == '/' && p[len(p)-1] != '/' && !strings.Contains(p, "//")
		for i := 0; ok && i < len(p); i++ {
			ch := p[i]
			ok = 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '/' || ch == '-' || ch == '_'
		}
		for _, r := range consoleReserved {
			if p == r || strings.HasPrefix(p, r+"/") {
				ok = false
			}
		}
		if !ok {
			bad("consolePath (AUTHPOOL_CONSOLE_PATH) must be off or a path such as /console: lower-case letters, digits, -, _ and /, no trailing /, and not under %s", strings.Join(consoleReserved, ", "))
		}
	}
	if c.ConsoleAddr != "" {
		if _, _, err := net.SplitHostPort(c.ConsoleAddr); err != nil {
			bad("consoleAddr (AUTHPOOL_CONSOLE_ADDR) must be host:port: %v", err)
		} else if c.ConsoleAddr == addr || c.ConsoleAddr == metricsAddr {
			bad("consoleAddr (AUTHPOOL_CONSOLE_ADDR) must differ from addr and metricsAddr")
		}
		if !c.ConsoleOn() {
			bad("consoleAddr (AUTHPOOL_CONSOLE_ADDR) needs a console: consolePath is off")
		}
	}
	if c.ConsoleIdleTimeout < Duration(time.Minute) || c.ConsoleLifetime < c.ConsoleIdleTimeout || c.ConsoleLifetime > Duration(30*24*time.Hour) {
		bad("consoleIdleTimeout (AUTHPOOL_CONSOLE_IDLE_TIMEOUT) must be at least 1m, and consoleLifetime (AUTHPOOL_CONSOLE_LIFETIME) between it and 720h")
	}
	return errs
}
