package token

import "sync"

// verifiedCacheSize bounds the cache: about 1 KiB per entry, so a few MiB.
const verifiedCacheSize = 8192

// verifiedCache maps a token string to the claims its verification gave. It
// is bounded; when full, an arbitrary entry (Go's map order is random) makes
// room, which is enough to keep hot tokens without tracking recency.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]Claims
}

func (c *verifiedCache) get(tok string) (Claims, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cl, ok := c.m[tok]
	return cl, ok
}

func (c *verifiedCache) put(tok string, cl Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]Claims)
	}
	if len(c.m) >= verifiedCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[tok] = cl
}

// clear forgets every entry.
func (c *verifiedCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}
