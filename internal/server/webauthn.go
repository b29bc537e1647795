package server

import (
	"fmt"
	"log/slog"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authpool/authpool/internal/config"
)

// relyingParty builds the passkeys' relying party from the configuration
// (docs/MFA.md "Passkeys"); nil, logged, when the public URL is an IP
// address that is not loopback and no relying party id is set.
func relyingParty(cfg config.Config, log *slog.Logger) (*webauthn.WebAuthn, error) {
	id, origins, ok := cfg.RelyingParty()
	if !ok {
		log.Warn("passkeys are off: the public URL is an IP address; set AUTHPOOL_WEBAUTHN_RP_ID and AUTHPOOL_WEBAUTHN_ORIGINS to offer them")
		return nil, nil
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: id, RPDisplayName: "authpool", RPOrigins: origins})
	if err != nil {
		return nil, fmt.Errorf("passkeys' relying party (AUTHPOOL_WEBAUTHN_RP_ID %q, AUTHPOOL_WEBAUTHN_ORIGINS %q): %w", id, origins, err)
	}
	return wa, nil
}
