package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLimiterPrefix starts the limiter's keys when NewLimiter is given
// no prefix.
const DefaultLimiterPrefix = "souq:rl"

// ErrOverBurst is returned by Allow for a request of more events than the
// burst: it could never be allowed.
var ErrOverBurst = errors.New("more events than the burst")

// gcraLua is the generic cell rate algorithm for one client. The key
// holds the client's theoretical arrival time (TAT), in microseconds of
// the Redis server's clock: when the client's allowance would be back to
// the full burst. Taking n cells moves it n emission intervals later; the
// request is allowed when the new TAT is at most the burst tolerance
// (burst × interval) ahead of now. A refused request writes nothing. The
// key expires when the TAT passes, since a missing key is the same state
// as a full allowance.
//
// KEYS: the client's key. ARGV: interval (µs), tolerance (µs), n.
// Returns {1, 0} when allowed, {0, µs to wait} when refused.
const gcraLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new = tat + n * interval
local wait = new - tolerance - now
if wait > 0 then
  return {0, math.ceil(wait)}
end
redis.call('SET', KEYS[1], string.format('%.17g', new), 'PX', math.max(1, math.ceil((new - now) / 1000)))
return {1, 0}
`

var gcraScript = redis.NewScript(gcraLua)

// Limiter is a rate limit per client shared by every process using the
// same Redis and prefix: each client may send ratePerSecond events a
// second on average, and up to burst at once. It is the generic cell rate
// algorithm (GCRA, the token bucket expressed as one timestamp per client)
// in one Lua script, so a check and its update are atomic however many
// collector replicas a client's requests are spread over.
//
// Time is the Redis server's (the TIME command inside the script), not the
// caller's: collector replicas' clocks differ by milliseconds to seconds,
// and a limit computed from each caller's clock would refill early on a
// replica whose clock runs ahead and refuse on one that runs behind — a
// client spreading its requests over replicas would get a rate that
// depends on clock skew. One clock for every decision removes that.
// Redis replicates the script's effects (the SET), not the script, so its
// replicas do not read their own clocks either.
//
// Each client's key lives at most as long as it takes its allowance to
// refill (burst / ratePerSecond), so idle clients cost nothing. The
// limiter's keys hold no hash tag: each script touches one key, passed in
// KEYS, so clients spread over a cluster's slots.
type Limiter struct {
	s                   *Store
	prefix              string
	burst               int
	interval, tolerance string // µs, as script arguments
}

// NewLimiter returns a Limiter using the connections of s, allowing each
// client ratePerSecond events a second and a burst of burst events, with
// keys "prefix:<client>" (prefix DefaultLimiterPrefix when empty). A
// collector without a hot store opens a Store for its connections; s must
// stay open while the Limiter is used.
func NewLimiter(s *Store, ratePerSecond float64, burst int, prefix string) (*Limiter, error) {
	if !(ratePerSecond > 0) || math.IsInf(ratePerSecond, 0) || burst < 1 {
		return nil, fmt.Errorf("redisstore: limiter: rate %g and burst %d must be positive", ratePerSecond, burst)
	}
	if prefix == "" {
		prefix = DefaultLimiterPrefix
	}
	interval := 1e6 / ratePerSecond
	return &Limiter{
		s: s, prefix: prefix, burst: burst,
		interval:  strconv.FormatFloat(interval, 'g', -1, 64),
		tolerance: strconv.FormatFloat(interval*float64(burst), 'g', -1, 64),
	}, nil
}

// Allow takes n cells (a batch of n events) from client's allowance. When
// there are too few it takes none and reports how long until there will
// be enough. now is the caller's clock: it is not used to decide (see
// Limiter), and is accepted only so that Allow has the shape of the
// collector's in-process limiter. n must be 1 to the burst (ErrOverBurst
// beyond it). An error means Redis could not answer: the caller decides
// whether to let the request through (limits protect capacity, and a
// collector that cannot reach Redis may prefer to fail open).
func (l *Limiter) Allow(ctx context.Context, client string, n int, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	switch {
	case n < 1:
		return false, 0, fmt.Errorf("redisstore: allow %d events: must be at least 1", n)
	case n > l.burst:
		return false, 0, fmt.Errorf("redisstore: allow %d events: %w of %d", n, ErrOverBurst, l.burst)
	}
	l.s.rt[rtLimit].Add(1)
	res, err := gcraScript.Run(ctx, l.s.client, []string{l.prefix + ":" + client}, l.interval, l.tolerance, n).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redisstore: allow: %w", unavailable(err))
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redisstore: allow: script returned %v", res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}
