package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/waitroom"
)

// DefaultWaitingRoomPrefix starts the waiting room's keys when
// NewWaitingRoom is given no prefix.
const DefaultWaitingRoomPrefix = "souq:wr"

// waitingRoomTTL is how long a sale's queue keys outlive their last
// write: every tick of every replica writes the queue's hash while a sale
// runs, so the keys of a sale go a day after it ends.
const waitingRoomTTL = 24 * time.Hour

// The scripts below keep one sale's queue in three keys sharing a hash
// tag (one Redis Cluster slot): KEYS[1] the queue hash (started, early,
// seq, head, used, sold_out), KEYS[2] the visitors hash (visitor →
// "position|seen ms|joined ms", position -1 in the draw), KEYS[3] the
// draw (a sorted set of early arrivals by draw number). Each script runs
// alone, so a place is given, kept or lost, and the head moved, as one
// step however many replicas share the queue.

// wrCommon closes the draw (close) and reads the queue (queue).
const wrCommon = `
local function close()
  if redis.call('HGET', KEYS[1], 'started') ~= '1' then
    local early = redis.call('ZRANGE', KEYS[3], 0, -1)
    for i, v in ipairs(early) do
      local rec = redis.call('HGET', KEYS[2], v)
      if rec then
        local a = string.find(rec, '|', 1, true)
        redis.call('HSET', KEYS[2], v, i .. string.sub(rec, a))
      end
    end
    redis.call('HSET', KEYS[1], 'started', '1', 'early', #early)
  end
end
local function queue()
  local m = redis.call('HMGET', KEYS[1], 'started', 'early', 'seq', 'head', 'used', 'sold_out')
  return {tonumber(m[1]) or 0, tonumber(m[2]) or 0, tonumber(m[3]) or 0, tonumber(m[4]) or 0, tonumber(m[5]) or 0, tonumber(m[6]) or 0}
end
local function touch(ttl)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
`

// ARGV: visitor, draw, now ms, start ms, grace ms, ttl ms.
// Returns {position, joined ms, rejoined, queue…}.
const wrJoinLua = wrCommon + `
local visitor, now, start, grace = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local rec = redis.call('HGET', KEYS[2], visitor)
local pos, seen, joined = nil, 0, now
if rec then
  local a = string.find(rec, '|', 1, true)
  local b = string.find(rec, '|', a + 1, true)
  pos, seen, joined = tonumber(string.sub(rec, 1, a - 1)), tonumber(string.sub(rec, a + 1, b - 1)), tonumber(string.sub(rec, b + 1))
end
local rejoined = 0
if now < start and redis.call('HGET', KEYS[1], 'started') ~= '1' then
  if not pos then
    redis.call('ZADD', KEYS[3], ARGV[2], visitor)
    pos, joined = -1, now
  end
  redis.call('HSET', KEYS[2], visitor, pos .. '|' .. now .. '|' .. joined)
  touch(tonumber(ARGV[6]))
  local q = queue()
  return {0, joined, 0, q[1], q[2], q[3], q[4], q[5], q[6]}
end
close()
if pos and joined < start and seen < start then seen = start end
if not pos or now - seen > grace then
  if pos then rejoined = 1 end
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  pos, joined = (tonumber(redis.call('HGET', KEYS[1], 'early')) or 0) + seq, now
end
redis.call('HSET', KEYS[2], visitor, pos .. '|' .. now .. '|' .. joined)
touch(tonumber(ARGV[6]))
local q = queue()
return {pos, joined, rejoined, q[1], q[2], q[3], q[4], q[5], q[6]}
`

// ARGV: n, started (0/1), sold out (0/1), ttl ms. Returns the queue.
const wrAdvanceLua = wrCommon + `
if ARGV[2] == '1' then close() end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'sold_out', '1') end
local q = queue()
local n = tonumber(ARGV[1])
if n > 0 and q[1] == 1 and q[6] == 0 then
  local head = math.min(q[4] + n, q[2] + q[3])
  if head > q[4] then
    redis.call('HSET', KEYS[1], 'head', head)
    q[4] = head
  end
end
touch(tonumber(ARGV[4]))
return q
`

// KEYS: the claim, the queue hash. ARGV: key, ttl ms. Returns 1 if held by key.
const wrClaimLua = `
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('HINCRBY', KEYS[2], 'used', 1)
  return 1
end
if cur == ARGV[1] then return 1 end
return 0
`

// KEYS: the claim, the queue hash. ARGV: key.
const wrReleaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HINCRBY', KEYS[2], 'used', -1)
end
return 0
`

var (
	wrJoinScript    = redis.NewScript(wrJoinLua)
	wrAdvanceScript = redis.NewScript(wrAdvanceLua)
	wrClaimScript   = redis.NewScript(wrClaimLua)
	wrReleaseScript = redis.NewScript(wrReleaseLua)
)

// WaitingRoom is the waiting room's State in Redis, shared by every api
// replica using the same Redis and prefix (package waitroom has the rules;
// the scripts above keep each step atomic). Positions and times come from
// the callers: replicas' clocks differ by milliseconds, which moves a
// visitor's grace by as much and nothing else.
type WaitingRoom struct {
	s      *Store
	prefix string
	joins  joinBatcher
}

var _ waitroom.State = (*WaitingRoom)(nil)

// NewWaitingRoom returns the waiting room state using the connections of
// s, with keys "{prefix:<sale>}:…" (prefix DefaultWaitingRoomPrefix when
// empty). s must stay open while it is used.
func NewWaitingRoom(s *Store, prefix string) *WaitingRoom {
	if prefix == "" {
		prefix = DefaultWaitingRoomPrefix
	}
	w := &WaitingRoom{s: s, prefix: prefix}
	w.joins = joinBatcher{client: s.client, script: wrJoinScript, count: func() { s.rt[rtLimit].Add(1) }, maxPending: maxPendingJoins}
	return w
}

func (w *WaitingRoom) keys(sale string) []string {
	base := "{" + w.prefix + ":" + sale + "}"
	return []string{base + ":q", base + ":v", base + ":d"}
}

func (w *WaitingRoom) claimKeys(sale, nonce string) []string {
	k := w.keys(sale)
	return []string{k[0][:len(k[0])-2] + ":n:" + nonce, k[0]}
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func toQueue(v []int64) waitroom.Queue {
	return waitroom.Queue{Started: v[0] == 1, Early: v[1], Tail: v[1] + v[2], Head: v[3], Used: v[4], SoldOut: v[5] == 1}
}

// Join implements waitroom.State.
func (w *WaitingRoom) Join(ctx context.Context, sale, visitor string, draw uint64, now, start time.Time, grace time.Duration) (waitroom.Place, waitroom.Queue, error) {
	res, err := w.joins.do(ctx, w.keys(sale), []any{visitor, strconv.FormatUint(draw, 10),
		ms(now), ms(start), grace.Milliseconds(), waitingRoomTTL.Milliseconds()})
	if err != nil {
		return waitroom.Place{}, waitroom.Queue{}, fmt.Errorf("redisstore: waiting room join: %w", unavailable(err))
	}
	if len(res) != 9 {
		return waitroom.Place{}, waitroom.Queue{}, fmt.Errorf("redisstore: waiting room join: script returned %v", res)
	}
	p := waitroom.Place{Position: res[0], Joined: time.UnixMilli(res[1]).UTC(), Rejoined: res[2] == 1}
	return p, toQueue(res[3:]), nil
}

// Advance implements waitroom.State.
func (w *WaitingRoom) Advance(ctx context.Context, sale string, n int64, started, soldOut bool) (waitroom.Queue, error) {
	w.s.rt[rtLimit].Add(1)
	res, err := wrAdvanceScript.Run(ctx, w.s.client, w.keys(sale), n, flag(started), flag(soldOut), waitingRoomTTL.Milliseconds()).Int64Slice()
	if err != nil {
		return waitroom.Queue{}, fmt.Errorf("redisstore: waiting room advance: %w", unavailable(err))
	}
	if len(res) != 6 {
		return waitroom.Queue{}, fmt.Errorf("redisstore: waiting room advance: script returned %v", res)
	}
	return toQueue(res), nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Claim implements waitroom.State.
func (w *WaitingRoom) Claim(ctx context.Context, sale, nonce, key string, ttl time.Duration) (bool, error) {
	w.s.rt[rtLimit].Add(1)
	n, err := wrClaimScript.Run(ctx, w.s.client, w.claimKeys(sale, nonce), key, max(1, ttl.Milliseconds())).Int64()
	if err != nil {
		return false, fmt.Errorf("redisstore: waiting room claim: %w", unavailable(err))
	}
	return n == 1, nil
}

// Release implements waitroom.State.
func (w *WaitingRoom) Release(ctx context.Context, sale, nonce, key string) error {
	w.s.rt[rtLimit].Add(1)
	err := wrReleaseScript.Run(ctx, w.s.client, w.claimKeys(sale, nonce), key).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: waiting room release: %w", unavailable(err))
	}
	return nil
}

// Claimed implements waitroom.State.
func (w *WaitingRoom) Claimed(ctx context.Context, sale, nonce string) (bool, error) {
	w.s.rt[rtRead].Add(1)
	n, err := w.s.client.Exists(ctx, w.claimKeys(sale, nonce)[0]).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: waiting room claimed: %w", unavailable(err))
	}
	return n == 1, nil
}

// Draw implements waitroom.State.
func (w *WaitingRoom) Draw(ctx context.Context, sale string) ([]uint64, error) {
	w.s.rt[rtRead].Add(1)
	zs, err := w.s.client.ZRangeWithScores(ctx, w.keys(sale)[2], 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: waiting room draw: %w", unavailable(err))
	}
	out := make([]uint64, len(zs))
	for i, z := range zs {
		out[i] = uint64(z.Score)
	}
	return out, nil
}
