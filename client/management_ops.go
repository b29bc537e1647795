package client

import (
	"context"
	"net/http"
)

// Metrics returns the server's Prometheus series in the text exposition
// format (GET /metrics with the administrator key; docs/OPERATIONS.md).
func (c *ManagementClient) Metrics(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.Host+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if c.opts.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.AdminKey)
	}
	raw, _, err := sendRaw(c.hc, req)
	return raw, err
}

// Ready reports whether the server takes requests (GET /readyz): nil when
// it does; an *Error with HTTPStatus 503 while its store is unreachable
// or once it has begun to shut down (docs/OPERATIONS.md).
func (c *ManagementClient) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	_, _, err = sendRaw(c.hc, req)
	return err
}
