package catalog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
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

// listingCache holds listing pages, per-market product counts and search
// match counts. Every
// change to products through the Service bumps its generation, which makes
// every entry unusable at once.
type listingCache struct {
	gen      atomic.Uint64
	pages    staleCache[string, listing]
	counts   staleCache[souq.MarketCode, []GroupCount]
	searches staleCache[string, int]             // match counts of searches
	sales    staleCache[souq.ID, []souq.Product] // the products of a sale, by its id
}

func (c *listingCache) generation() uint64 { return c.gen.Load() }

// invalidate makes every cached page and count unusable.
func (c *listingCache) invalidate() { c.gen.Add(1) }

// init sets the caches' lifetimes and where failed background reads are
// logged; Service calls it once.
func (c *listingCache) init(log *slog.Logger) {
	c.pages = staleCache[string, listing]{ttl: listTTL, stale: listStale, max: maxCachedListings,
		log: log.With("cache", "listings")}
	c.counts = staleCache[souq.MarketCode, []GroupCount]{ttl: countsTTL, stale: countsStale, max: len(souq.MarketCodes()) + 1,
		log: log.With("cache", "product counts")}
	c.searches = staleCache[string, int]{ttl: countsTTL, stale: countsStale, max: maxCachedListings,
		log: log.With("cache", "search counts")}
	c.sales = staleCache[souq.ID, []souq.Product]{ttl: listTTL, stale: listStale, max: 16,
		log: log.With("cache", "sale products")}
}

// staleCache is a map of values that are fresh for ttl after they were
// read, then served stale for up to stale more while one caller reads them
// again (stale-while-revalidate). Values read under an older generation are
// never served.
type staleCache[K comparable, V any] struct {
	ttl, stale time.Duration
	max        int          // past it the cache starts afresh
	log        *slog.Logger // failed background reads

	mu      sync.Mutex
	entries map[K]*staleEntry[V]
}

type staleEntry[V any] struct {
	v          V
	gen        uint64
	freshUntil time.Time
	refreshing bool
}

// fetch returns the value of k under generation gen: from memory while it
// is fresh; from memory while it is stale, one background call of load
// (bounded by QueryTimeout, its goroutine ending with it) reading it
// again; otherwise from load, called now with ctx, and kept.
func (c *staleCache[K, V]) fetch(ctx context.Context, k K, gen uint64, load func(context.Context) (V, error)) (V, error) {
	v, ok, refresh := c.get(k, gen, time.Now())
	switch {
	case !ok:
		v, err := load(ctx)
		if err != nil {
			return v, err
		}
		c.put(k, gen, v, time.Now())
		return v, nil
	case refresh:
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
			defer cancel()
			fresh, err := load(ctx)
			if err != nil {
				c.unmark(k)
				c.log.Warn("refresh a cached value", "err", err)
				return
			}
			c.put(k, gen, fresh, time.Now())
		}()
	}
	return v, nil
}

// get returns the value for k when one of generation gen is fresh or still
// servable. refresh is true for exactly one caller once the value is
// stale: that caller must read it again and put it (or unmark k).
func (c *staleCache[K, V]) get(k K, gen uint64, now time.Time) (v V, ok, refresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[k]
	if !found || e.gen != gen || now.After(e.freshUntil.Add(c.stale)) {
		return v, false, false
	}
	if now.After(e.freshUntil) && !e.refreshing {
		e.refreshing = true
		return e.v, true, true
	}
	return e.v, true, false
}

// put stores a value read under generation gen.
func (c *staleCache[K, V]) put(k K, gen uint64, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= c.max {
		c.entries = make(map[K]*staleEntry[V])
	}
	c.entries[k] = &staleEntry[V]{v: v, gen: gen, freshUntil: now.Add(c.ttl)}
}

// unmark lets another caller refresh k after a refresh failed.
func (c *staleCache[K, V]) unmark(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		e.refreshing = false
	}
}
