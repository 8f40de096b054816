// Package redisstore keeps Souq's shared real-time state in Redis: the
// hot aggregates (Store, an analytics.HotStore shared by every processor
// replica and read by every dashboard) and the collector's per-client rate
// limits (Limiter). It holds no business rules: what a Batch contains and
// when buckets expire is decided by package analytics; this package only
// applies Batches atomically, deduplicates them across replicas and reads
// them back. The key layout is described in package analytics ("Hot store
// and the Redis layout") and below.
//
// # Atomicity
//
// Commit and CommitMany run one Lua script (commitLua) for up to 1,000
// Batches: Redis runs a script alone, so the duplicate checks, the counter
// increments, the progress and the pruning of those Batches are seen all
// or nothing by every replica and reader. The script sums the Batches'
// increments per field before writing them, so a processor's fetch of 500
// events costs one script run and one HINCRBY per distinct field, not
// one per event and counter; CommitMany pipelines the runs it needs, one
// round trip in all.
//
// # Redis Cluster and ElastiCache
//
// Every key of a Store starts with the hash tag "{prefix}", so all of them
// hash to one Redis Cluster slot and a script may touch any of them. The
// script declares the progress hash and the bucket indexes in KEYS and
// builds the names of the buckets' hashes and id sets itself, from the key
// base (their names depend on the events, and those of the buckets it
// prunes on the index, which the client cannot know without reading it
// first, costing a round trip and racing with other replicas). Redis
// Cluster only requires that a script's keys live in the slot of its
// declared keys, which the hash tag guarantees, so this works on
// ElastiCache with cluster mode enabled — but it is outside the letter of
// the scripting documentation ("all keys must be passed in KEYS"), and a
// future server that enforced that letter would refuse the script. Store
// uses a single-node client (redis.NewClient): it suits ElastiCache with
// cluster mode disabled (the primary endpoint). With cluster mode enabled all of a Store's keys sit
// on one shard anyway — one hash tag cannot be spread — but connecting
// needs a cluster-aware client, which this package does not provide yet.
//
// Keys expire as a safety net (see Options): a key gets a TTL of its
// retention plus a day when it is created or grows (a hash gains a field,
// an index a bucket; an id set and the progress hash on every write),
// counted from Redis's clock, so the keys of a deployment that stopped go
// away. The TTL is not counted from the bucket's start: that is event
// time, which may be days behind Redis's clock while a processor catches
// up or replays, and would expire (or, with EXPIREAT in the past, delete
// at once) keys that are still within retention. Pruning, not expiry, is
// what keeps a live store within its retention.
//
// Redis 5 or later is needed (UNLINK, and scripts replicated as effects,
// which the Limiter's use of TIME relies on).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// The store this package implements.
var _ analytics.HotStore = (*Store)(nil)

// Defaults of Options.
const (
	DefaultPrefix          = "souq:an"
	DefaultMinuteRetention = 3 * time.Hour
	DefaultHourRetention   = 7 * 24 * time.Hour
	DefaultDialTimeout     = 2 * time.Second
	DefaultReadTimeout     = time.Second
	DefaultWriteTimeout    = time.Second
)

// dialerRetries is how many times a connection is dialled before a
// request fails (the client library's default is 5, 100 ms apart; a
// server that refused twice is down, and the request's own retries dial
// again).
const dialerRetries = 2

// expiryMargin is added to a key's retention to make its TTL: pruning
// normally deletes it long before.
const expiryMargin = 24 * time.Hour

// Options configure Open. Zero values take the defaults; timeouts set in
// the URL's query (dial_timeout=…, read_timeout=…, write_timeout=…) are
// kept unless Options sets them, and so are the client library's other
// query options (max_retries=…, pool_size=…).
type Options struct {
	// Prefix starts every key, inside a hash tag: the keys are
	// "{Prefix}:…". Default DefaultPrefix. It may not contain '{' or '}'.
	// Stores with different prefixes are independent.
	Prefix string
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
	// MinuteRetention and HourRetention are the analytics.Config
	// retentions the writers use (defaults as there: 3 h and 7 days).
	// They only set the keys' safety-net TTLs (retention + 1 day); set
	// them at least as long as the writers' own.
	MinuteRetention time.Duration
	HourRetention   time.Duration
	// DialTimeout bounds connecting (default DefaultDialTimeout);
	// ReadTimeout and WriteTimeout bound each request's socket reads and
	// writes (defaults DefaultReadTimeout, DefaultWriteTimeout).
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
}

// Store is an analytics.HotStore in Redis, shared by any number of
// processes. It is safe for concurrent use.
type Store struct {
	client *redis.Client
	log    *slog.Logger
	keys   keys
	// TTLs of bucket keys, in whole seconds, as script arguments.
	minuteTTL, hourTTL string

	commit *redis.Script
	rt     [3]atomic.Uint64 // requests sent, by rtCommit, rtRead, rtLimit
}

// What a request to Redis was for, indexing Store.rt.
const (
	rtCommit = iota
	rtRead
	rtLimit
)

// RoundTrips counts the requests a Store has sent to Redis, a pipeline
// counting as one, by what they were for. Connection set-up and the
// client library's own retries of a failed request are not counted.
type RoundTrips struct {
	Commit uint64 // committing batches, and loading the script they run
	Read   uint64 // reading buckets and progress, and pings
	Limit  uint64 // the collectors' shared rate limit
}

// Total is the sum of r's counts.
func (r RoundTrips) Total() uint64 { return r.Commit + r.Read + r.Limit }

// Open connects to the Redis server at rawURL —
// redis://[user:password@]host:port[/db] or rediss://… for TLS (the
// in-transit encryption of ElastiCache) — checks that it answers and
// loads the commit script.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: parse url: %w", err)
	}
	setTimeouts(ro, opts)
	if ro.DialerRetries == 0 {
		ro.DialerRetries = dialerRetries
	}
	s, err := newStore(redis.NewClient(ro), opts)
	if err != nil {
		return nil, err
	}
	if err := s.loadScript(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("redisstore: connect to %s: %w", ro.Addr, err)
	}
	s.log.Info("redis hot store open", "addr", ro.Addr, "db", ro.DB, "tls", ro.TLSConfig != nil, "prefix", s.keys.base)
	return s, nil
}

// setTimeouts applies the timeouts of opts, or the defaults where neither
// opts nor the URL set one.
func setTimeouts(ro *redis.Options, opts Options) {
	set := func(dst *time.Duration, opt, def time.Duration) {
		switch {
		case opt != 0:
			*dst = opt
		case *dst == 0:
			*dst = def
		}
	}
	set(&ro.DialTimeout, opts.DialTimeout, DefaultDialTimeout)
	set(&ro.ReadTimeout, opts.ReadTimeout, DefaultReadTimeout)
	set(&ro.WriteTimeout, opts.WriteTimeout, DefaultWriteTimeout)
}

// newStore wraps client without any I/O.
func newStore(client *redis.Client, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		client.Close()
		return nil, fmt.Errorf("redisstore: prefix %q: must not contain '{' or '}'", opts.Prefix)
	}
	if opts.MinuteRetention <= 0 {
		opts.MinuteRetention = DefaultMinuteRetention
	}
	if opts.HourRetention <= 0 {
		opts.HourRetention = DefaultHourRetention
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ttl := func(d time.Duration) string { return strconv.FormatInt(int64((d+expiryMargin)/time.Second), 10) }
	return &Store{
		client: client, log: log.With("component", "redisstore"), keys: newKeys(opts.Prefix),
		minuteTTL: ttl(opts.MinuteRetention), hourTTL: ttl(opts.HourRetention),
		commit: commitScript,
	}, nil
}

// Close closes the connections.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// Ping checks that the server answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	s.rt[rtRead].Add(1)
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", unavailable(err))
	}
	return nil
}

// RoundTrips returns how many requests the Store, and the Limiters using
// its connections, have sent to Redis.
func (s *Store) RoundTrips() RoundTrips {
	return RoundTrips{Commit: s.rt[rtCommit].Load(), Read: s.rt[rtRead].Load(), Limit: s.rt[rtLimit].Load()}
}

// DeleteKeys unlinks every key of the server's database that matches
// pattern (SCAN MATCH, then UNLINK a page at a time), whatever store or
// limiter wrote it: for tearing down a test's or a benchmark's namespace.
// Other processes using those keys lose their data.
func (s *Store) DeleteKeys(ctx context.Context, pattern string) error {
	iter := s.client.Scan(ctx, 0, pattern, 1000).Iterator()
	var page []string
	for iter.Next(ctx) {
		if page = append(page, iter.Val()); len(page) == 1000 {
			if err := s.client.Unlink(ctx, page...).Err(); err != nil {
				return fmt.Errorf("redisstore: delete keys %s: %w", pattern, err)
			}
			page = page[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("redisstore: delete keys %s: %w", pattern, err)
	}
	if len(page) > 0 {
		if err := s.client.Unlink(ctx, page...).Err(); err != nil {
			return fmt.Errorf("redisstore: delete keys %s: %w", pattern, err)
		}
	}
	return nil
}

// loadScript loads the commit script into the server's script cache.
func (s *Store) loadScript(ctx context.Context) error {
	s.rt[rtCommit].Add(1)
	if err := s.commit.Load(ctx, s.client).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// keys builds the names of a Store's keys; every one starts with base,
// the hash tag.
//
//	{prefix}:progress                  hash  the Progress, and the floors
//	{prefix}:buckets:m, …:buckets:h    zset  bucket starts (Unix seconds), scored by themselves
//	{prefix}:m:<start>:<dimension>     hash  "<member>\x1f<counter>" → integer; h for hours
//	{prefix}:ids:m:<start>             set   message ids applied to the bucket; ids:h for hour-only
//	{prefix}:m:<start>:v:<dim>:<member> HyperLogLog  visitors (b: buyers); h for hours
//	{prefix}:versions:m                hash  minute start → batches applied to it
type keys struct {
	base     string // "{prefix}"
	progress string
	buckets  [2]string // by resolution index
	versions string
}

func newKeys(prefix string) keys {
	base := "{" + prefix + "}"
	return keys{base: base, progress: base + ":progress",
		buckets: [2]string{base + ":buckets:m", base + ":buckets:h"}, versions: base + ":versions:m"}
}

// The resolutions by index, and their letters in keys.
const (
	minuteRes = 0
	hourRes   = 1
)

var resLetter = [2]string{"m", "h"}

// resIndex returns r's index, or -1.
func resIndex(r analytics.Resolution) int {
	switch r {
	case analytics.Minute:
		return minuteRes
	case analytics.Hour:
		return hourRes
	}
	return -1
}

// bucket returns the name of the hash of dimension dim in the bucket of
// resolution res starting at start (Unix seconds, formatted).
func (k *keys) bucket(res int, start string, dim analytics.Dimension) string {
	return k.base + ":" + resLetter[res] + ":" + start + ":" + string(dim)
}

// ids returns the name of the id set of a bucket.
func (k *keys) ids(res int, start string) string {
	return k.base + ":ids:" + resLetter[res] + ":" + start
}

// sep separates member and counter in a hash field. Members hold no
// control characters (analytics cleans them), so it cannot occur in one.
const sep = "\x1f"

// unavailable marks err as souq.ErrUnavailable when it says Redis could
// not do the work just now — the server could not be reached, a
// connection was lost or timed out, or the server is loading, read-only,
// out of memory or failing over — rather than that the request was wrong.
// A cancelled context, other server errors and nil are returned unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, souq.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	var re redis.Error
	if errors.As(err, &re) {
		if !(redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsOOMError(err) ||
			redis.IsMasterDownError(err) || redis.IsTryAgainError(err) || redis.IsClusterDownError(err) ||
			redis.IsMaxClientsError(err) || redis.HasErrorPrefix(err, "BUSY")) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", souq.ErrUnavailable, err)
}
