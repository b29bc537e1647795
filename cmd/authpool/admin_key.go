package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/authpool/authpool/internal/server"
)

// keyCmds work on the store directly: they are for an operator on the
// machine who has lost the administrator key, so they cannot need one.
var keyCmds = []adminCmd{
	{group: "reset-key", help: "on the server's machine: replace the stored administrator key with a new one, printed once (the old key stops working at once)", local: resetKey},
}

// resetKey replaces the stored administrator key (audited in the default
// pool) and prints the new one on stdout.
func resetKey(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	key, err := server.ResetAdminKey(ctx, cfg, operator(getenv))
	if err != nil {
		return fmt.Errorf("admin reset-key: %w", err)
	}
	printAdminKey(stdout, "New administrator key", key,
		"The keys stored before stopped working. A server started with AUTHPOOL_ADMIN_KEY\n"+
			"(or adminKey in its configuration file) accepts only that key, not this one.")
	return nil
}

// operator names who ran the command, for the audit log.
func operator(getenv func(string) string) string {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return "authpool admin reset-key, user " + user + " on " + host
}
