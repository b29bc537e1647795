package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program as a function, so tests can start it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "admin":
		return admin(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "authpool", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: authpool [serve|migrate|admin|version]
configuration comes from AUTHPOOL_* environment variables and the optional
JSON file named by AUTHPOOL_CONFIG; see README.md. "authpool admin help"
lists the administration commands.`

func loadConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
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

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (overrides AUTHPOOL_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	log := newLogger(cfg, stderr)
	srv, err := server.New(ctx, cfg, server.Options{Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.Store().Close()
		return err
	}
	log.Info("authpool listening", slog.String("addr", ln.Addr().String()),
		slog.String("default_user_pool_id", srv.DefaultPoolID()), slog.String("version", version))
	if key := srv.GeneratedAdminKey(); key != "" {
		fmt.Fprintf(stdout, "Administrator key (shown only this once; authpool keeps only its hash):\n\n    %s\n\n"+
			"Keep it for `authpool admin` (AUTHPOOL_ADMIN_KEY) and the admin API (Authorization: Bearer <key>).\n", key)
	}
	fmt.Fprintf(stdout, "authpool listening on http://%s (default user pool %s)\n", ln.Addr(), srv.DefaultPoolID())
	err = srv.Serve(ctx, ln)
	log.Info("authpool stopped")
	return err
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "--check" || args[0] == "-check") {
		return migrateCheck(ctx, getenv, stdout)
	}
	cfg, err := loadConfig(getenv)
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
