package server

import (
	"context"
	"fmt"
	"time"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/config"
	"github.com/authpool/authpool/internal/sqlstore"
)

// ResetAdminKey opens the store cfg names, replaces every stored
// administrator key with a new one and returns it (`authpool admin
// reset-key`: an operator on the machine recovers a lost key without
// needing one). Running servers accept the new key and refuse the old
// ones at once. by says who asked, for the audit log.
func ResetAdminKey(ctx context.Context, cfg config.Config, by string) (string, error) {
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return "", err
	}
	// The replacement is committed when ResetKey returns; a failure to
	// close must not hide the key.
	defer st.Close()
	key, err := admin.ResetKey(ctx, st, time.Now(), by)
	if err != nil {
		return "", fmt.Errorf("reset the administrator key: %w", err)
	}
	return key, nil
}
