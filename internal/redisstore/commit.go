package redisstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/analytics"
)

// commitLua applies one analytics.Batch; Redis runs it atomically. It
// mirrors analytics.MemStore.Commit step by step:
//
//  1. raise the floors kept in the progress hash to the batch's, pruning
//     the buckets (hashes and id sets) that start below a floor that
//     advanced, and taking their ids out of the ids count;
//  2. ignore a batch whose bucket is below the floors (return -1, no
//     duplicate counted);
//  3. SADD the message id (its 96-bit hash, see idHash) to the id set of
//     the batch's bucket: 0 means a duplicate (count it, return 0);
//  4. HINCRBY each counter field into the minute hash (if any) and the
//     hour hash of each dimension, giving a hash a TTL when a field of it
//     was created (a new hash has all its fields created);
//  5. ZADD the bucket starts to the bucket indexes;
//  6. raise the watermark and max_seq, count the batch and its id
//     (return 1).
//
// Every path that may write the progress hash refreshes its TTL.
//
// KEYS: progress, minute index, hour index, id set of the batch's bucket,
// then for each dimension with deltas its minute hash (only when the
// batch has a minute) and its hour hash.
//
// ARGV: id, seq (decimal), minute start ("" for an hour-only batch), hour
// start, watermark seconds, watermark nanoseconds, minute floor, hour
// floor (Unix seconds; Go's zero time is -62135596800), minute TTL, hour
// TTL (seconds), key base "{prefix}", number of dimensions, then per
// dimension: the number of fields n and n pairs of field, increment.
//
// Numbers that may exceed 2^53 (seq) are compared as decimal strings:
// Lua numbers are doubles. Increments are passed to HINCRBY as strings, so
// Redis parses them as 64-bit integers.
const commitLua = `
local progress, zmin, zhour, idset = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, seq, minute, hour = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local floorM, floorH = ARGV[7], ARGV[8]
local minuteTTL, hourTTL, base = ARGV[9], ARGV[10], ARGV[11]
local zero = -62135596800
local dims = {%s}

local p = redis.call('HMGET', progress, 'floor_m', 'floor_h', 'wm_s', 'wm_ns', 'max_seq')

local function touch()
  redis.call('EXPIRE', progress, hourTTL)
end

local function prune(z, res, floor)
  local starts = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. floor)
  if #starts == 0 then return end
  local ids = 0
  for _, s in ipairs(starts) do
    local idkey = base .. ':ids:' .. res .. ':' .. s
    ids = ids + redis.call('SCARD', idkey)
    local doomed = {idkey}
    for _, d in ipairs(dims) do doomed[#doomed + 1] = base .. ':' .. res .. ':' .. s .. ':' .. d end
    redis.call('UNLINK', unpack(doomed))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. floor)
  if ids > 0 then redis.call('HINCRBY', progress, 'ids', -ids) end
end

local fM, fH = tonumber(p[1]) or zero, tonumber(p[2]) or zero
if tonumber(floorM) > fM then
  fM = tonumber(floorM)
  redis.call('HSET', progress, 'floor_m', floorM)
  prune(zmin, 'm', floorM)
  touch()
end
if tonumber(floorH) > fH then
  fH = tonumber(floorH)
  redis.call('HSET', progress, 'floor_h', floorH)
  prune(zhour, 'h', floorH)
  touch()
end

local hasMinute = minute ~= ''
if (hasMinute and tonumber(minute) < fM) or (not hasMinute and tonumber(hour) < fH) then
  return -1
end

if redis.call('SADD', idset, id) == 0 then
  redis.call('HINCRBY', progress, 'duplicates', 1)
  touch()
  return 0
end
redis.call('EXPIRE', idset, hasMinute and minuteTTL or hourTTL)

local k, a = 5, 13
for _ = 1, tonumber(ARGV[12]) do
  local mkey
  if hasMinute then mkey = KEYS[k]; k = k + 1 end
  local hkey = KEYS[k]; k = k + 1
  local n = tonumber(ARGV[a]); a = a + 1
  local mnew, hnew = false, false
  for _ = 1, n do
    local f, v = ARGV[a], ARGV[a + 1]; a = a + 2
    local iv = tonumber(v)
    if mkey and redis.call('HINCRBY', mkey, f, v) == iv then mnew = true end
    if redis.call('HINCRBY', hkey, f, v) == iv then hnew = true end
  end
  if mnew then redis.call('EXPIRE', mkey, minuteTTL) end
  if hnew then redis.call('EXPIRE', hkey, hourTTL) end
end

if hasMinute and redis.call('ZADD', zmin, minute, minute) == 1 then redis.call('EXPIRE', zmin, minuteTTL) end
if redis.call('ZADD', zhour, hour, hour) == 1 then redis.call('EXPIRE', zhour, hourTTL) end

local function greater(x, y)
  if #x ~= #y then return #x > #y end
  for i = 1, #x do
    local c, d = x:byte(i), y:byte(i)
    if c ~= d then return c > d end
  end
  return false
end
local set = {}
local ws, wns = tonumber(ARGV[5]), tonumber(ARGV[6])
local cs, cns = tonumber(p[3]) or zero, tonumber(p[4]) or 0
if ws > cs or (ws == cs and wns > cns) then
  set = {'wm_s', ARGV[5], 'wm_ns', ARGV[6]}
end
if greater(seq, p[5] or '0') then
  set[#set + 1] = 'max_seq'
  set[#set + 1] = seq
end
if #set > 0 then redis.call('HSET', progress, unpack(set)) end
redis.call('HINCRBY', progress, 'applied', 1)
redis.call('HINCRBY', progress, 'ids', 1)
touch()
return 1
`

// commitScript is commitLua with the dimensions filled in.
var commitScript = redis.NewScript(commitSource(""))

// commitSource returns the commit script; a non-empty tag adds a comment,
// which changes the script's SHA (tests use it to meet NOSCRIPT).
func commitSource(tag string) string {
	quoted := make([]string, 0, len(analytics.Dimensions()))
	for _, d := range analytics.Dimensions() {
		quoted = append(quoted, strconv.Quote(string(d)))
	}
	src := fmt.Sprintf(commitLua, strings.Join(quoted, ", "))
	if tag != "" {
		src = "-- " + tag + "\n" + src
	}
	return src
}

// counterNames are the counter fields, from analytics.CounterFields.
var counterNames = analytics.CounterFields()

// dimIndex returns d's index in analytics.Dimensions, or -1.
func dimIndex(d analytics.Dimension) int {
	for i, x := range analytics.Dimensions() {
		if x == d {
			return i
		}
	}
	return -1
}

// numDims is the number of dimensions.
var numDims = len(analytics.Dimensions())

// unixCeil returns t as Unix seconds, rounded up to the next second
// when t has a fraction (for floors: an integer start is below t exactly
// when it is below the result).
func unixCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// idHash returns what the id sets hold for message id: the first 96 bits
// of its SHA-256. Every id then costs the same, and little: Redis keeps a
// set member of up to 12 bytes in a 16-byte allocation, so a member costs
// about 49 bytes (measured, 60,000 members), where an outbox id
// ("evt_" and 20 characters) costs 65 and an analytics.js id ("ajs-next-"
// and 32 hex digits) 81; ids may be up to analytics.MaxIDBytes. Two of the
// 600,000 ids of a minute at 10,000 events/s colliding by chance in 96
// bits has a probability of about 2e-18; arranging a collision takes 2^48
// hashes and only makes the second of one's own two events count as a
// duplicate.
func idHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:12])
}

// args returns the KEYS and ARGV of the commit script for b.
func (s *Store) args(b *analytics.Batch) (keys []string, argv []any) {
	hasMinute := !b.Minute.IsZero()
	minute, hour := "", strconv.FormatInt(b.Hour.Unix(), 10)
	idKey := s.keys.ids(hourRes, hour)
	if hasMinute {
		minute = strconv.FormatInt(b.Minute.Unix(), 10)
		idKey = s.keys.ids(minuteRes, minute)
	}
	// The fields of each dimension: "<member>\x1f<counter>", increment.
	fields := make([][]any, numDims)
	for i := range b.Deltas {
		d := &b.Deltas[i]
		di := dimIndex(d.Dim)
		if di < 0 {
			continue // as MemStore: an unknown dimension is not stored
		}
		n := len(fields[di])
		for _, name := range counterNames {
			if v := *d.Counters.Field(name); v != 0 {
				fields[di] = append(fields[di], d.Member+sep+name, strconv.FormatInt(v, 10))
			}
		}
		if len(fields[di]) == n {
			// All zero: still make the member exist, as MemStore does.
			fields[di] = append(fields[di], d.Member+sep+counterNames[0], "0")
		}
	}
	keys = append(make([]string, 0, 4+2*numDims), s.keys.progress, s.keys.buckets[minuteRes], s.keys.buckets[hourRes], idKey)
	argv = append(make([]any, 0, 13+numDims+2*len(b.Deltas)*4),
		idHash(b.ID), strconv.FormatUint(b.Seq, 10), minute, hour,
		strconv.FormatInt(b.Watermark.Unix(), 10), strconv.Itoa(b.Watermark.Nanosecond()),
		strconv.FormatInt(unixCeil(b.Floors.Minutes), 10), strconv.FormatInt(unixCeil(b.Floors.Hours), 10),
		s.minuteTTL, s.hourTTL, s.keys.base, nil)
	ndims := 0
	for di, dim := range analytics.Dimensions() {
		if len(fields[di]) == 0 {
			continue
		}
		ndims++
		if hasMinute {
			keys = append(keys, s.keys.bucket(minuteRes, minute, dim))
		}
		keys = append(keys, s.keys.bucket(hourRes, hour, dim))
		argv = append(argv, strconv.Itoa(len(fields[di])/2))
		argv = append(argv, fields[di]...)
	}
	argv[11] = strconv.Itoa(ndims)
	return keys, argv
}

// Commit implements analytics.HotStore: one EVALSHA of the commit script.
func (s *Store) Commit(ctx context.Context, b *analytics.Batch) (bool, error) {
	applied, err := s.commitAll(ctx, []*analytics.Batch{b})
	if err != nil {
		return false, fmt.Errorf("redisstore: commit %s: %w", b.ID, err)
	}
	return applied[0], nil
}

// CommitMany implements analytics.HotStore: one EVALSHA per batch, all in
// one pipeline, so one round trip once the script is loaded. When the
// server does not have the script (it restarted or failed over), the
// batches it refused are sent again, in order, after loading it: two
// more round trips. Those batches are then applied after the ones that
// went through the first time, which only matters to which of two copies
// of one id in the same call is reported applied. Likewise, when the
// client library retries a pipeline whose reply was lost, a batch the
// first attempt applied is reported not applied (a duplicate): the
// aggregates stay right, only the report is off.
func (s *Store) CommitMany(ctx context.Context, bs []*analytics.Batch) ([]bool, error) {
	applied, err := s.commitAll(ctx, bs)
	if err != nil {
		return nil, fmt.Errorf("redisstore: commit %d batches: %w", len(bs), err)
	}
	return applied, nil
}

func (s *Store) commitAll(ctx context.Context, bs []*analytics.Batch) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	applied := make([]bool, len(bs))
	if len(bs) == 0 {
		return applied, nil
	}
	type call struct {
		keys []string
		argv []any
	}
	calls := make([]call, len(bs))
	pending := make([]int, len(bs))
	for i, b := range bs {
		calls[i].keys, calls[i].argv = s.args(b)
		pending[i] = i
	}
	for attempt := 0; ; attempt++ {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.Cmd, len(pending))
		for j, i := range pending {
			cmds[j] = pipe.EvalSha(ctx, s.commit.Hash(), calls[i].keys, calls[i].argv...)
		}
		s.rt[rtCommit].Add(1)
		_, _ = pipe.Exec(ctx) // errors are read from each command
		var again []int
		for j, i := range pending {
			n, err := cmds[j].Int64()
			switch {
			case err == nil:
				applied[i] = n == 1
			case redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0:
				again = append(again, i)
			default:
				return nil, unavailable(err)
			}
		}
		if len(again) == 0 {
			return applied, nil
		}
		s.log.Info("loading the commit script: the server did not have it", "batches", len(again))
		if err := s.loadScript(ctx); err != nil {
			return nil, fmt.Errorf("load script: %w", err)
		}
		pending = again
	}
}
