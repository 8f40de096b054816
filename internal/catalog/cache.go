package catalog

import (
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// productTTL is how long a product read from the store is served from
// memory. During a flash sale thousands of requests a second price the same
// few products; the cache turns those reads into map lookups. Prices and
// names changed through this service are seen at once (the entry is
// dropped); changes made elsewhere (another instance) within productTTL.
// The stock a cached product shows may lag by as much, which is only ever
// informative: the order transaction's conditional decrement decides.
const productTTL = time.Second

// maxCachedProducts bounds the cache; past it the cache starts afresh.
const maxCachedProducts = 20_000

type productCache struct {
	mu      sync.Mutex
	entries map[string]cachedProduct // by id and by slug
}

type cachedProduct struct {
	p      souq.Product
	expiry time.Time
}

func (c *productCache) get(key string, now time.Time) (souq.Product, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expiry) {
		return souq.Product{}, false
	}
	return e.p, true
}

func (c *productCache) put(p souq.Product, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedProducts {
		c.entries = make(map[string]cachedProduct)
	}
	e := cachedProduct{p: p, expiry: now.Add(productTTL)}
	c.entries[string(p.ID)] = e
	c.entries[p.Slug] = e
}

func (c *productCache) forget(id souq.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[string(id)]; ok {
		delete(c.entries, e.p.Slug)
	}
	delete(c.entries, string(id))
}
