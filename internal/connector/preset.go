package connector

import (
	"fmt"

	"github.com/authpool/authpool/internal/userpool"
)

// presetUpstream builds the preset connectors (one file each).
func presetUpstream(g *Registry, c *userpool.Connector, secret, redirect string) (Upstream, error) {
	return nil, fmt.Errorf("connector: type %q is not supported", c.Type)
}
