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

// commitLua applies analytics.Batches, in order; Redis runs it
// atomically. For each batch it mirrors analytics.MemStore.Commit step by
// step:
//
//  1. raise the floors kept in the progress hash to the batch's, pruning
//     the buckets (hashes and id sets) that start below a floor that
//     advanced, and taking their ids out of the ids count;
//  2. ignore a batch whose bucket is below the floors (result -1, no
//     duplicate counted);
//  3. SADD the message id (its 96-bit hash, see idHash) to the id set of
//     the batch's bucket: 0 means a duplicate (count it, result 0);
//  4. add each counter field to the minute hash (if any) and the hour
//     hash of each dimension, giving a hash a TTL when a field of it was
//     created (a new hash has all its fields created);
//  5. add the bucket starts to the bucket indexes;
//  6. raise the watermark and max_seq, count the batch and its id
//     (result 1).
//
// Steps 4 and 5 are deferred and summed: the increments of every batch
// applied are added up per hash and field in a Lua table, and written
// with one HINCRBY per distinct field (a fetch of 500 events touches the
// same few hundred fields over and over), the id sets' TTLs and the
// indexes once each — before any pruning (so a pruned bucket is not
// written again) and at the end. Sums are kept below 2^52, where Lua's
// doubles hold integers exactly: an increment of 2^52 or more is written
// at once, as its decimal string (Redis parses it as a 64-bit integer),
// and a sum about to reach 2^52 is written and begun again. Step 6 is
// written once, at the end.
//
// Every write to the progress hash refreshes its TTL.
//
// KEYS: progress, minute index, hour index, minute versions. The
// buckets' keys are built here, from the key base (see Store: they share
// its hash tag). The minute versions hash counts the batches applied to
// each minute bucket (one HINCRBY per minute per run), so that a Reader
// in another process can tell which minutes changed; a pruned minute's
// field goes with it.
//
// ARGV: minute TTL, hour TTL (seconds), key base "{prefix}", number of
// batches, then per batch: id, seq (decimal), minute start ("" for an
// hour-only batch), hour start, watermark seconds, watermark
// nanoseconds, minute floor, hour floor (Unix seconds; Go's zero time is
// -62135596800), the number of fields n, the visitor ("" for none), the
// number of visits k, then n triples of dimension (1-based index in the
// dimension list), field, increment, then k pairs of sketch key suffix
// ("<dimension>:<member>") and buyer flag ("1" or "0").
//
// Sketches: an applied batch with a visitor adds it (PFADD) to the
// visitors sketch of each of its visits, and to the buyers sketch of the
// buyer ones, in the minute bucket (if any) and the hour bucket, keys
// "<base>:<m|h>:<start>:v:<dimension>:<member>" and ":b:". The visitors
// are grouped per key over the run, so a run makes one PFADD per key
// (per 500 visitors), not one per event; a key gets its TTL when PFADD
// changes it. Pruning a bucket unlinks its sketches with its hashes (the
// members are listed in sketchKeys).
//
// Returns each batch's result, in order.
//
// Numbers that may exceed 2^53 (seq) are compared as decimal strings:
// Lua numbers are doubles.
const commitLua = `
local progress, zmin, zhour, versions = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local minuteTTL, hourTTL, base = ARGV[1], ARGV[2], ARGV[3]
local zero = -62135596800
local limit = 4503599627370496 -- 2^52
local dims = {%s}
local sketchKeys = {%s}

local p = redis.call('HMGET', progress, 'floor_m', 'floor_h', 'wm_s', 'wm_ns', 'max_seq')
local fM, fH = tonumber(p[1]) or zero, tonumber(p[2]) or zero
local ws, wns = tonumber(p[3]) or zero, tonumber(p[4]) or 0
local maxSeq = p[5] or '0'
local newWS, newWNS, newSeq

local function greater(x, y)
  if #x ~= #y then return #x > #y end
  for i = 1, #x do
    local c, d = x:byte(i), y:byte(i)
    if c ~= d then return c > d end
  end
  return false
end

-- Deferred writes: sums[key] = {ttl, names (in order), vals}, hashes
-- the keys in order; the id sets to give a TTL; the bucket starts to index.
local sums, hashes, idsets, idorder = {}, {}, {}, {}
local mstarts, hstarts, mseen, hseen = {}, {}, {}, {}
-- Sketch elements: pfs[key] = {ttl, elems, seen}, pforder the keys in order.
local pfs, pforder = {}, {}
-- Commits per minute bucket, for the minute versions.
local vmin, vorder = {}, {}

local function pfadd(key, ttl, visitor)
  local x = pfs[key]
  if not x then
    x = {ttl = ttl, elems = {}, seen = {}}
    pfs[key] = x
    pforder[#pforder + 1] = key
  end
  if not x.seen[visitor] then
    x.seen[visitor] = true
    x.elems[#x.elems + 1] = visitor
  end
end

local function flush()
  for _, key in ipairs(hashes) do
    local h = sums[key]
    local new = false
    for _, f in ipairs(h.names) do
      local v = h.vals[f]
      if redis.call('HINCRBY', key, f, string.format('%%d', v)) == v then new = true end
    end
    if new then redis.call('EXPIRE', key, h.ttl) end
  end
  for _, key in ipairs(idorder) do redis.call('EXPIRE', key, idsets[key]) end
  for _, x in ipairs({{zmin, mstarts, minuteTTL}, {zhour, hstarts, hourTTL}}) do
    if #x[2] > 0 then
      local args = {}
      for _, s in ipairs(x[2]) do args[#args + 1] = s; args[#args + 1] = s end
      if redis.call('ZADD', x[1], unpack(args)) > 0 then redis.call('EXPIRE', x[1], x[3]) end
    end
  end
  for _, key in ipairs(pforder) do
    local x = pfs[key]
    local changed = 0
    for i = 1, #x.elems, 500 do
      changed = changed + redis.call('PFADD', key, unpack(x.elems, i, math.min(i + 499, #x.elems)))
    end
    if changed > 0 then redis.call('EXPIRE', key, x.ttl) end
  end
  for _, m in ipairs(vorder) do redis.call('HINCRBY', versions, m, vmin[m]) end
  if #vorder > 0 then redis.call('EXPIRE', versions, minuteTTL) end
  sums, hashes, idsets, idorder = {}, {}, {}, {}
  mstarts, hstarts, mseen, hseen = {}, {}, {}, {}
  pfs, pforder = {}, {}
  vmin, vorder = {}, {}
end

-- incr writes one increment now; v is its decimal string, iv its value.
local function incr(key, ttl, f, v, iv)
  if redis.call('HINCRBY', key, f, v) == iv then redis.call('EXPIRE', key, ttl) end
end

-- add adds the increment v (a decimal string) to the sums. Sums stay
-- below 2^52, where doubles hold integers exactly: a bigger increment is
-- written at once, as its string, and a sum about to pass 2^52 is written
-- and started again.
local function add(key, ttl, f, v)
  local iv = tonumber(v)
  if iv >= limit or iv <= -limit then
    incr(key, ttl, f, v, iv)
    return
  end
  local h = sums[key]
  if not h then
    h = {ttl = ttl, names = {}, vals = {}}
    sums[key] = h
    hashes[#hashes + 1] = key
  end
  local cur = h.vals[f]
  if cur == nil then
    h.names[#h.names + 1] = f
    h.vals[f] = iv
  elseif math.abs(cur) + math.abs(iv) >= limit then
    incr(key, ttl, f, string.format('%%d', cur), cur)
    h.vals[f] = iv
  else
    h.vals[f] = cur + iv
  end
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
    for _, k in ipairs(sketchKeys) do doomed[#doomed + 1] = base .. ':' .. res .. ':' .. s .. ':' .. k end
    redis.call('UNLINK', unpack(doomed))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. floor)
  if res == 'm' then
    for i = 1, #starts, 500 do redis.call('HDEL', versions, unpack(starts, i, math.min(i + 499, #starts))) end
  end
  if ids > 0 then redis.call('HINCRBY', progress, 'ids', -ids) end
end

-- The keys of a bucket's hashes, by start and dimension index.
local keyCache = {m = {}, h = {}}
local function bucketKey(res, start, di)
  local byStart = keyCache[res][start]
  if not byStart then
    byStart = {}
    keyCache[res][start] = byStart
  end
  local k = byStart[di]
  if not k then
    k = base .. ':' .. res .. ':' .. start .. ':' .. dims[tonumber(di)]
    byStart[di] = k
  end
  return k
end

local results = {}
local applied, dups = 0, 0
local a = 5
for b = 1, tonumber(ARGV[4]) do
  local id, seq, minute, hour = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local bws, bwns, floorM, floorH = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local n = tonumber(ARGV[a + 8])
  local visitor, nv = ARGV[a + 9], tonumber(ARGV[a + 10])
  a = a + 11
  local visits = a + 3 * n
  local nfM, nfH = tonumber(floorM), tonumber(floorH)
  if nfM > fM or nfH > fH then flush() end
  if nfM > fM then
    fM = nfM
    redis.call('HSET', progress, 'floor_m', floorM)
    prune(zmin, 'm', floorM)
  end
  if nfH > fH then
    fH = nfH
    redis.call('HSET', progress, 'floor_h', floorH)
    prune(zhour, 'h', floorH)
  end

  local hasMinute = minute ~= ''
  if (hasMinute and tonumber(minute) < fM) or (not hasMinute and tonumber(hour) < fH) then
    results[b] = -1
  else
    local idset, idttl = base .. ':ids:h:' .. hour, hourTTL
    if hasMinute then idset, idttl = base .. ':ids:m:' .. minute, minuteTTL end
    if redis.call('SADD', idset, id) == 0 then
      dups = dups + 1
      results[b] = 0
    else
      if not idsets[idset] then
        idsets[idset] = idttl
        idorder[#idorder + 1] = idset
      end
      for f = a, a + 3 * (n - 1), 3 do
        local di, field, v = ARGV[f], ARGV[f + 1], ARGV[f + 2]
        if hasMinute then add(bucketKey('m', minute, di), minuteTTL, field, v) end
        add(bucketKey('h', hour, di), hourTTL, field, v)
      end
      if visitor ~= '' then
        for v = visits, visits + 2 * (nv - 1), 2 do
          local suffix, buyer = ARGV[v], ARGV[v + 1] == '1'
          if hasMinute then
            pfadd(base .. ':m:' .. minute .. ':v:' .. suffix, minuteTTL, visitor)
            if buyer then pfadd(base .. ':m:' .. minute .. ':b:' .. suffix, minuteTTL, visitor) end
          end
          pfadd(base .. ':h:' .. hour .. ':v:' .. suffix, hourTTL, visitor)
          if buyer then pfadd(base .. ':h:' .. hour .. ':b:' .. suffix, hourTTL, visitor) end
        end
      end
      if hasMinute then
        if not vmin[minute] then
          vmin[minute] = 0
          vorder[#vorder + 1] = minute
        end
        vmin[minute] = vmin[minute] + 1
      end
      if hasMinute and not mseen[minute] then
        mseen[minute] = true
        mstarts[#mstarts + 1] = minute
      end
      if not hseen[hour] then
        hseen[hour] = true
        hstarts[#hstarts + 1] = hour
      end
      local x, y = tonumber(bws), tonumber(bwns)
      if x > ws or (x == ws and y > wns) then
        ws, wns, newWS, newWNS = x, y, bws, bwns
      end
      if greater(seq, maxSeq) then
        maxSeq, newSeq = seq, seq
      end
      applied = applied + 1
      results[b] = 1
    end
  end
  a = a + 3 * n + 2 * nv
end
flush()

local set = {}
if newWS then set = {'wm_s', newWS, 'wm_ns', newWNS} end
if newSeq then
  set[#set + 1] = 'max_seq'
  set[#set + 1] = newSeq
end
if #set > 0 then redis.call('HSET', progress, unpack(set)) end
if applied > 0 then
  redis.call('HINCRBY', progress, 'applied', applied)
  redis.call('HINCRBY', progress, 'ids', applied)
end
if dups > 0 then redis.call('HINCRBY', progress, 'duplicates', dups) end
redis.call('EXPIRE', progress, hourTTL)
return results
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
	var sketches []string
	for _, suffix := range sketchSuffixes() {
		sketches = append(sketches, strconv.Quote("v:"+suffix), strconv.Quote("b:"+suffix))
	}
	src := fmt.Sprintf(commitLua, strings.Join(quoted, ", "), strings.Join(sketches, ", "))
	if tag != "" {
		src = "-- " + tag + "\n" + src
	}
	return src
}

// sketchSuffixes returns "<dimension>:<member>" of every member that may
// have sketches (analytics.ReachMembers).
func sketchSuffixes() []string {
	var out []string
	for _, d := range analytics.ReachDimensions() {
		for _, m := range analytics.ReachMembers(d) {
			out = append(out, string(d)+":"+m)
		}
	}
	return out
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

// maxScriptBatches bounds the batches one run of the commit script
// applies, and so how long it holds Redis (a few milliseconds).
const maxScriptBatches = 1000

// dimArgs are the dimensions' 1-based indexes, as script arguments.
var dimArgs = func() []string {
	a := make([]string, numDims)
	for i := range a {
		a[i] = strconv.Itoa(i + 1)
	}
	return a
}()

// counterFuncs are the accessors of counterNames, in order.
var counterFuncs = analytics.CounterFieldFuncs()

// args returns the KEYS and ARGV of one run of the commit script for bs.
func (s *Store) args(bs []*analytics.Batch) (keys []string, argv []any) {
	keys = []string{s.keys.progress, s.keys.buckets[minuteRes], s.keys.buckets[hourRes], s.keys.versions}
	argv = append(make([]any, 0, 4+len(bs)*30), s.minuteTTL, s.hourTTL, s.keys.base, strconv.Itoa(len(bs)))
	for _, b := range bs {
		argv = appendBatch(argv, b)
	}
	return keys, argv
}

// appendBatch appends b's arguments to the commit script's argv.
func appendBatch(argv []any, b *analytics.Batch) []any {
	minute := ""
	if !b.Minute.IsZero() {
		minute = strconv.FormatInt(b.Minute.Unix(), 10)
	}
	argv = append(argv, idHash(b.ID), strconv.FormatUint(b.Seq, 10), minute, strconv.FormatInt(b.Hour.Unix(), 10),
		strconv.FormatInt(b.Watermark.Unix(), 10), strconv.Itoa(b.Watermark.Nanosecond()),
		strconv.FormatInt(unixCeil(b.Floors.Minutes), 10), strconv.FormatInt(unixCeil(b.Floors.Hours), 10), nil)
	count := len(argv) - 1
	n := 0
	// The fields of each delta: dimension, "<member>\x1f<counter>", increment.
	for i := range b.Deltas {
		d := &b.Deltas[i]
		di := dimIndex(d.Dim)
		if di < 0 {
			continue // as MemStore: an unknown dimension is not stored
		}
		before := n
		for j, field := range counterFuncs {
			if v := *field(&d.Counters); v != 0 {
				argv = append(argv, dimArgs[di], d.Member+sep+counterNames[j], strconv.FormatInt(v, 10))
				n++
			}
		}
		if n == before {
			// All zero: still make the member exist, as MemStore does.
			argv = append(argv, dimArgs[di], d.Member+sep+counterNames[0], "0")
			n++
		}
	}
	argv[count] = strconv.Itoa(n)
	// The visits, after the fields: the script reads the visitor and
	// their number before the fields, so both go in front of them.
	var visits []any
	if b.Visitor != "" {
		for _, v := range b.Visits {
			if v.Dim != analytics.Total && v.Dim != analytics.Market {
				continue // as MemStore: sketches only where ReachDimensions says
			}
			buyer := "0"
			if v.Buyer {
				buyer = "1"
			}
			visits = append(visits, string(v.Dim)+":"+v.Member, buyer)
		}
	}
	// Insert visitor and k after n (at count+1, count+2).
	argv = append(argv, nil, nil)
	copy(argv[count+3:], argv[count+1:len(argv)-2])
	argv[count+1], argv[count+2] = b.Visitor, strconv.Itoa(len(visits)/2)
	return append(argv, visits...)
}

// Commit implements analytics.HotStore: one EVALSHA of the commit script.
func (s *Store) Commit(ctx context.Context, b *analytics.Batch) (bool, error) {
	applied, err := s.commitAll(ctx, []*analytics.Batch{b})
	if err != nil {
		return false, fmt.Errorf("redisstore: commit %s: %w", b.ID, err)
	}
	return applied[0], nil
}

// CommitMany implements analytics.HotStore: one EVALSHA of the commit
// script for up to maxScriptBatches batches, all in one pipeline, so one
// round trip once the script is loaded. Each script run is atomic; the
// batches of a call larger than maxScriptBatches are applied in several
// runs, in order. When the server does not have the script (it restarted
// or failed over), the runs it refused are sent again, in order, after
// loading it: two more round trips. Those batches are then applied after
// the ones that went through the first time, which only matters to which
// of two copies of one id in the same call is reported applied. Likewise,
// when the client library retries a pipeline whose reply was lost, a
// batch the first attempt applied is reported not applied (a duplicate):
// the aggregates stay right, only the report is off.
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
	// A run of the script for bs[first:first+n].
	type run struct {
		first, n int
		keys     []string
		argv     []any
	}
	var pending []run
	for first := 0; first < len(bs); first += maxScriptBatches {
		r := run{first: first, n: min(maxScriptBatches, len(bs)-first)}
		r.keys, r.argv = s.args(bs[first : first+r.n])
		pending = append(pending, r)
	}
	for attempt := 0; ; attempt++ {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.Cmd, len(pending))
		for j, r := range pending {
			cmds[j] = pipe.EvalSha(ctx, s.commit.Hash(), r.keys, r.argv...)
		}
		s.rt[rtCommit].Add(1)
		_, _ = pipe.Exec(ctx) // errors are read from each command
		var again []run
		for j, r := range pending {
			res, err := cmds[j].Int64Slice()
			switch {
			case err == nil && len(res) != r.n:
				return nil, fmt.Errorf("the commit script returned %d results for %d batches", len(res), r.n)
			case err == nil:
				for k, n := range res {
					applied[r.first+k] = n == 1
				}
			case redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0:
				again = append(again, r)
			default:
				return nil, unavailable(err)
			}
		}
		if len(again) == 0 {
			return applied, nil
		}
		s.log.Info("loading the commit script: the server did not have it", "runs", len(again))
		if err := s.loadScript(ctx); err != nil {
			return nil, fmt.Errorf("load script: %w", err)
		}
		pending = again
	}
}
