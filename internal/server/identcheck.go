package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/authpool/authpool/internal/sqlstore"
)

// maxLoggedCollisions bounds the start-up warning; `authpool migrate
// --check` lists them all.
const maxLoggedCollisions = 20

// warnKeyCollisions logs, once at start, the accounts whose username or
// email address compares equal to another account's (sqlstore.KeyCollision)
// and which therefore cannot be found by it until an operator resolves
// them (docs/SECURITY.md). It names accounts by id only. A failure to read
// them is logged too and does not stop the start.
func warnKeyCollisions(ctx context.Context, st *sqlstore.Store, log *slog.Logger) {
	cs, err := st.KeyCollisions(ctx)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "could not list identifier collisions", slog.String("error", err.Error()))
		return
	}
	if len(cs) == 0 {
		return
	}
	log.LogAttrs(ctx, slog.LevelWarn, "accounts whose username or email address compares equal to another account's: they cannot log in by it until resolved (see docs/SECURITY.md, `authpool migrate --check`)",
		slog.Int("count", len(cs)), slog.String("accounts", FormatKeyCollisions(cs, maxLoggedCollisions, ", ")))
}

// FormatKeyCollisions describes up to limit collisions (0: all), one per
// item, separated by sep.
func FormatKeyCollisions(cs []sqlstore.KeyCollision, limit int, sep string) string {
	var items []string
	for i, c := range cs {
		if limit > 0 && i == limit {
			items = append(items, fmt.Sprintf("and %d more", len(cs)-limit))
			break
		}
		held := "held by account " + c.HolderID
		if c.HolderID == "" {
			held = "not keyed yet: start again to key it"
		}
		items = append(items, fmt.Sprintf("pool %s user %s: %s (%s)", c.PoolID, c.UserID, c.Kind, held))
	}
	return strings.Join(items, sep)
}
