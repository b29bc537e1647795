package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authpool/authpool/internal/server"
	"github.com/authpool/authpool/internal/sqlstore"
)

// migrateCheck is `authpool migrate --check`: it applies the migrations
// (as every start does) and lists the accounts left without an identifier
// key because their username or email address compares equal to another
// account's (docs/SECURITY.md, "Identifier comparison"). It fails when
// there are any, so a deployment script can stop for an operator.
func migrateCheck(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.KeyCollisions(ctx)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintln(stdout, "migrations applied; no identifier collisions")
		return nil
	}
	fmt.Fprintf(stdout, "migrations applied; %d identifiers compare equal to another account's and were not keyed:\n  %s\n",
		len(cs), server.FormatKeyCollisions(cs, 0, "\n  "))
	return fmt.Errorf("%d identifier collisions need an operator: rename, merge or delete one account of each (docs/SECURITY.md)", len(cs))
}
