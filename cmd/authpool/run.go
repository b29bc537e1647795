package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=..."; when
// it is not, `authpool version` reports the module version from the build
// information (version.go).
var version = ""

// command is one `authpool <name>` command. The help is built from this
// table, so a new command is one entry here and its function.
type command struct {
	name    string
	summary string
	// flags declares the command's own flags (for its parsing and its
	// help); nil when it has none.
	flags func(fs *flag.FlagSet)
	// settings: the command reads the AUTHPOOL_* configuration, so its
	// help lists the variables.
	settings bool
	run      func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands is a function, not a variable, because help refers to it.
func commands() []command {
	return []command{
		{name: "serve", summary: "start the server (the default command)", flags: func(fs *flag.FlagSet) { serveFlags(fs) }, settings: true, run: serve},
		{name: "migrate", summary: "apply the database migrations and exit", settings: true, run: migrate},
		{name: "migrate-store", summary: "copy every table of one database into another, verified (e.g. -from sqlite:authpool.db -to postgres://...)", flags: func(fs *flag.FlagSet) { new(migrateStoreFlags).register(fs) }, run: migrateStore},
		{name: "bench", summary: "load a server (-url, or one it starts on loopback) with every SDK call from accounts it creates and deletes; prints throughput and p50/p90/p99 per call", flags: func(fs *flag.FlagSet) { benchFlags(fs) }, settings: true, run: bench},
		{name: "backup", summary: "copy a SQLite database into a file, consistently, while the server runs (PostgreSQL: pg_dump, docs/OPERATIONS.md)", flags: func(fs *flag.FlagSet) { backupFlags(fs) }, run: backup},
		{name: "admin", summary: `administer a server: pools, users, pipelines, webhooks, apps ("authpool admin help" lists them); "admin reset-key" replaces a lost administrator key`, run: admin},
		{name: "version", summary: "print the module version and VCS revision", run: printVersion},
		{name: "help", summary: `print this help; "authpool help <command>" for one command`, run: help},
	}
}

// run is the whole program as a function, so tests can start it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			name, args = "help", args[1:]
		case a != "" && a[0] != '-':
			name, args = a, args[1:]
		}
	}
	cmd, ok := findCommand(name)
	if !ok {
		return fmt.Errorf("unknown command %q (authpool help lists the commands)", name)
	}
	err := cmd.run(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the command printed its help
	}
	return err
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// parseFlags parses a command's flags. -h and --help print the command's
// help on stdout and return flag.ErrHelp, which run treats as success.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		cmd, _ := findCommand(fs.Name())
		commandHelp(stdout, cmd)
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %w (authpool %s -h shows its flags)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (authpool %s -h shows its usage)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

// clientVariables are AUTHPOOL_* variables read outside the server's
// configuration: by `authpool admin` (the client) and by the tests. They
// are not misspellings.
var clientVariables = []string{"AUTHPOOL_ADMIN_URL", "AUTHPOOL_ADMIN_POOL", "AUTHPOOL_TEST_POSTGRES_URL"}

// loadConfig reads and validates the configuration, reporting every
// problem at once, and warns on stderr about AUTHPOOL_* variables that
// are no setting (a misspelled one would otherwise be ignored silently).
func loadConfig(getenv func(string) string, stderr io.Writer) (config.Config, error) {
	for _, w := range config.Unknown(environNames(getenv), clientVariables...) {
		fmt.Fprintln(stderr, "authpool: warning:", w)
	}
	return config.Read(getenv)
}

// environNames lists the variables of the process environment that
// getenv reports set. getenv cannot list names, so the candidates come
// from the process; asking getenv for each keeps to its view (main passes
// os.Getenv, tests a map over it).
func environNames(getenv func(string) string) []string {
	var names []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); getenv(name) != "" {
			names = append(names, name)
		}
	}
	return names
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serveFlags declares serve's flags; serve and the help share it.
func serveFlags(fs *flag.FlagSet) (addr *string) {
	return fs.String("addr", "", "listen address host:port (overrides AUTHPOOL_ADDR)")
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := serveFlags(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	// Listen first: a taken port fails the start before the database is
	// touched, and the administrator key is generated only once the
	// listen has succeeded (see server.EnsureAdminKey).
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	srv, err := server.New(ctx, cfg, server.Options{Log: log})
	if err != nil {
		ln.Close()
		return err
	}
	key, err := srv.EnsureAdminKey(ctx)
	if err != nil {
		ln.Close()
		srv.Store().Close()
		return err
	}
	log.Info("authpool listening", slog.String("addr", ln.Addr().String()),
		slog.String("default_user_pool_id", srv.DefaultPoolID()), slog.String("version", moduleVersion()))
	if key != "" {
		printAdminKey(stdout, "Administrator key", key,
			"Keep it for `authpool admin` (AUTHPOOL_ADMIN_KEY) and the admin API (Authorization: Bearer <key>).\n"+
				"Lost it? `authpool admin reset-key` on this machine makes a new one.")
	}
	fmt.Fprintf(stdout, "authpool listening on http://%s (default user pool %s)\n", ln.Addr(), srv.DefaultPoolID())
	err = srv.Serve(ctx, ln)
	log.Info("authpool stopped")
	return err
}

// listen binds addr; its errors name the address and the setting that
// chooses it.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("cannot listen on %s: the address is already in use (another authpool, or another program, holds it); "+
			"choose another with AUTHPOOL_ADDR (or serve -addr), e.g. AUTHPOOL_ADDR=127.0.0.1:8081", addr)
	case err != nil:
		return nil, fmt.Errorf("cannot listen on %s (set AUTHPOOL_ADDR or serve -addr to host:port): %w", addr, err)
	}
	return ln, nil
}

// printAdminKey shows a new administrator key: the one place it is ever
// seen.
func printAdminKey(w io.Writer, title, key, after string) {
	fmt.Fprintf(w, "%s (shown only this once; authpool keeps only its hash):\n\n    %s\n\n%s\n", title, key, after)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	check := fs.Bool("check", false, "also list accounts whose username or email compares equal to another's (left unkeyed, docs/SECURITY.md); exit 1 while any remain")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *check {
		return migrateCheck(ctx, getenv, stdout, stderr)
	}
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	// Open applies the embedded migrations; Migrate is idempotent.
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
