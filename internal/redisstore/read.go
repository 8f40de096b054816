package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// Read implements analytics.HotStore in two round trips whatever the
// range holds: ZRANGEBYSCORE of the bucket index for the bucket starts
// in the range, then one pipeline of an HGETALL per bucket (or, for one
// member, an HMGET of its fields). A bucket pruned between the two reads
// is simply not visited. As MemStore does, From and To are taken in whole
// Unix seconds (Time.Unix), and a zero From or To is no limit.
//
// A hash field naming a counter this version does not know (written by a
// newer one) is skipped.
func (s *Store) Read(ctx context.Context, r analytics.Range, fn func(start time.Time, member string, c *analytics.Counters)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res := resIndex(r.Res)
	if res < 0 || dimIndex(r.Dim) < 0 {
		return souq.Errorf(souq.ErrInvalid, "read %q %q: unknown resolution or dimension", string(r.Res), string(r.Dim))
	}
	by := &redis.ZRangeBy{Min: "-inf", Max: "+inf"}
	if !r.From.IsZero() {
		by.Min = strconv.FormatInt(r.From.Unix(), 10)
	}
	if !r.To.IsZero() {
		by.Max = "(" + strconv.FormatInt(r.To.Unix(), 10)
	}
	s.rt[rtRead].Add(1)
	starts, err := s.client.ZRangeByScore(ctx, s.keys.buckets[res], by).Result()
	if err != nil {
		return fmt.Errorf("redisstore: read buckets: %w", unavailable(err))
	}
	if len(starts) == 0 {
		return nil
	}

	pipe := s.client.Pipeline()
	members := r.Members // the members read by name, else all
	if r.Member != "" {
		members = []string{r.Member}
	}
	var fields []string // of members, each in the order of counterNames
	if len(members) > 0 {
		fields = make([]string, 0, len(members)*len(counterNames))
		for _, m := range members {
			for _, name := range counterNames {
				fields = append(fields, m+sep+name)
			}
		}
	}
	all := make([]*redis.MapStringStringCmd, 0, len(starts))
	one := make([]*redis.SliceCmd, 0, len(starts))
	for _, start := range starts {
		key := s.keys.bucket(res, start, r.Dim)
		if fields != nil {
			one = append(one, pipe.HMGet(ctx, key, fields...))
		} else {
			all = append(all, pipe.HGetAll(ctx, key))
		}
	}
	s.rt[rtRead].Add(1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redisstore: read %d buckets: %w", len(starts), unavailable(err))
	}

	cells := map[string]*analytics.Counters{}
	for i, start := range starts {
		sec, err := strconv.ParseInt(start, 10, 64)
		if err != nil {
			return fmt.Errorf("redisstore: read: bucket index holds %q", start)
		}
		t := time.Unix(sec, 0).UTC()
		if fields != nil {
			vals := one[i].Val()
			for j, m := range members {
				c, ok, err := decodeMember(vals[j*len(counterNames) : (j+1)*len(counterNames)])
				if err != nil {
					return fmt.Errorf("redisstore: read %s: %w", s.keys.bucket(res, start, r.Dim), err)
				}
				if ok {
					fn(t, m, &c)
				}
			}
			continue
		}
		clear(cells)
		if err := decodeBucket(all[i].Val(), cells); err != nil {
			return fmt.Errorf("redisstore: read %s: %w", s.keys.bucket(res, start, r.Dim), err)
		}
		for m, c := range cells {
			fn(t, m, c)
		}
	}
	return nil
}

// decodeBucket adds the fields of a bucket's hash to the counters of
// their members.
func decodeBucket(h map[string]string, members map[string]*analytics.Counters) error {
	for f, v := range h {
		i := strings.LastIndex(f, sep)
		if i < 0 {
			return fmt.Errorf("field %q has no separator", f)
		}
		m, name := f[:i], f[i+len(sep):]
		c, ok := members[m]
		if !ok {
			c = &analytics.Counters{}
			members[m] = c
		}
		p := c.Field(name)
		if p == nil {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("field %q: %w", f, err)
		}
		*p = n
	}
	return nil
}

// decodeMember decodes an HMGET of one member's fields (in the order of
// counterNames); ok is false when the member has none.
func decodeMember(vals []any) (c analytics.Counters, ok bool, err error) {
	for i, v := range vals {
		str, isStr := v.(string)
		if !isStr {
			continue // nil: no such field
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return c, false, fmt.Errorf("field %s: %w", counterNames[i], err)
		}
		*c.Field(counterNames[i]) = n
		ok = true
	}
	return c, ok, nil
}

// progressFields are the fields of the progress hash Progress reads.
var progressFields = []string{"wm_s", "wm_ns", "max_seq", "applied", "duplicates", "ids"}

// Progress implements analytics.HotStore: one HMGET of the progress hash.
func (s *Store) Progress(ctx context.Context) (analytics.Progress, error) {
	if err := ctx.Err(); err != nil {
		return analytics.Progress{}, err
	}
	s.rt[rtRead].Add(1)
	vals, err := s.client.HMGet(ctx, s.keys.progress, progressFields...).Result()
	if err != nil {
		return analytics.Progress{}, fmt.Errorf("redisstore: progress: %w", unavailable(err))
	}
	var n [6]int64
	var set [6]bool
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if i == 2 { // max_seq: a uint64
			u, err := strconv.ParseUint(str, 10, 64)
			if err != nil {
				return analytics.Progress{}, fmt.Errorf("redisstore: progress: max_seq %q: %w", str, err)
			}
			n[i], set[i] = int64(u), true
			continue
		}
		if n[i], err = strconv.ParseInt(str, 10, 64); err != nil {
			return analytics.Progress{}, fmt.Errorf("redisstore: progress: %s %q: %w", progressFields[i], str, err)
		}
		set[i] = true
	}
	p := analytics.Progress{
		MaxSeq: uint64(n[2]), Applied: uint64(max(n[3], 0)), Duplicates: uint64(max(n[4], 0)), IDs: int(max(n[5], 0)),
	}
	if set[0] {
		p.Watermark = time.Unix(n[0], n[1]).UTC()
	}
	return p, nil
}

// reachKey returns the name of a member's sketch (sketch "v" for
// visitors, "b" for buyers) in the bucket of resolution res starting at
// start.
func (k *keys) reachKey(res int, start string, sketch string, dim analytics.Dimension, member string) string {
	return k.base + ":" + resLetter[res] + ":" + start + ":" + sketch + ":" + string(dim) + ":" + member
}

// bucketStarts reads the bucket starts of each range of rs from the
// indexes, in one round trip.
func (s *Store) bucketStarts(ctx context.Context, rs []analytics.Range) ([][]string, error) {
	pipe := s.client.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(rs))
	for i, r := range rs {
		by := &redis.ZRangeBy{Min: "-inf", Max: "+inf"}
		if !r.From.IsZero() {
			by.Min = strconv.FormatInt(r.From.Unix(), 10)
		}
		if !r.To.IsZero() {
			by.Max = "(" + strconv.FormatInt(r.To.Unix(), 10)
		}
		cmds[i] = pipe.ZRangeByScore(ctx, s.keys.buckets[resIndex(r.Res)], by)
	}
	s.rt[rtRead].Add(1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: read buckets: %w", unavailable(err))
	}
	out := make([][]string, len(rs))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// reachMembers returns the members of r whose sketches to read.
func reachMembers(r analytics.Range) []string {
	if r.Member != "" {
		return []string{r.Member}
	}
	return analytics.ReachMembers(r.Dim)
}

// Reach implements analytics.HotStore in two round trips: the bucket
// starts of every range, then one pipeline of a PFCOUNT per member and
// sketch over the keys of every bucket (Redis counts the union).
func (s *Store) Reach(ctx context.Context, rs []analytics.Range) (map[string]analytics.Reach, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := analytics.CheckReachRanges(rs); err != nil {
		return nil, err
	}
	out := map[string]analytics.Reach{}
	if len(rs) == 0 {
		return out, nil
	}
	starts, err := s.bucketStarts(ctx, rs)
	if err != nil {
		return nil, err
	}
	members := reachMembers(rs[0])
	pipe := s.client.Pipeline()
	cmds := make([][2]*redis.IntCmd, len(members))
	queued := false
	for i, m := range members {
		for j, sketch := range []string{"v", "b"} {
			var ks []string
			for k, r := range rs {
				for _, start := range starts[k] {
					ks = append(ks, s.keys.reachKey(resIndex(r.Res), start, sketch, r.Dim, m))
				}
			}
			if len(ks) > 0 {
				cmds[i][j] = pipe.PFCount(ctx, ks...)
				queued = true
			}
		}
	}
	if !queued {
		return out, nil
	}
	s.rt[rtRead].Add(1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: reach: %w", unavailable(err))
	}
	for i, m := range members {
		v := analytics.Reach{Visitors: cmds[i][0].Val(), Buyers: cmds[i][1].Val()}
		if v.Visitors > 0 {
			out[m] = v
		}
	}
	return out, nil
}

// ReachByBucket implements analytics.HotStore in two round trips: the
// bucket starts, then one pipeline of a PFCOUNT per bucket, member and
// sketch.
func (s *Store) ReachByBucket(ctx context.Context, r analytics.Range, fn func(start time.Time, member string, v analytics.Reach)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := analytics.CheckReachRanges([]analytics.Range{r}); err != nil {
		return err
	}
	all, err := s.bucketStarts(ctx, []analytics.Range{r})
	if err != nil {
		return err
	}
	starts := all[0]
	if len(starts) == 0 {
		return nil
	}
	members := reachMembers(r)
	res := resIndex(r.Res)
	pipe := s.client.Pipeline()
	cmds := make([][2]*redis.IntCmd, len(starts)*len(members))
	for i, start := range starts {
		for j, m := range members {
			c := &cmds[i*len(members)+j]
			c[0] = pipe.PFCount(ctx, s.keys.reachKey(res, start, "v", r.Dim, m))
			c[1] = pipe.PFCount(ctx, s.keys.reachKey(res, start, "b", r.Dim, m))
		}
	}
	s.rt[rtRead].Add(1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redisstore: reach by bucket: %w", unavailable(err))
	}
	for i, start := range starts {
		sec, err := strconv.ParseInt(start, 10, 64)
		if err != nil {
			return fmt.Errorf("redisstore: reach: bucket index holds %q", start)
		}
		t := time.Unix(sec, 0).UTC()
		for j, m := range members {
			c := cmds[i*len(members)+j]
			if v := (analytics.Reach{Visitors: c[0].Val(), Buyers: c[1].Val()}); v.Visitors > 0 {
				fn(t, m, v)
			}
		}
	}
	return nil
}

// The optional interface this Store implements for Readers in other
// processes.
var _ analytics.VersionedStore = (*Store)(nil)

// MinuteVersions implements analytics.VersionedStore in one round trip:
// an HMGET of the minutes' fields of the versions hash and an HGET of the
// minute floor.
func (s *Store) MinuteVersions(ctx context.Context, from, to time.Time) (map[int64]uint64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	first := from.Truncate(time.Minute)
	if first.Before(from) {
		first = first.Add(time.Minute)
	}
	var fields []string
	var starts []int64
	for m := first; m.Before(to); m = m.Add(time.Minute) {
		starts = append(starts, m.Unix())
		fields = append(fields, strconv.FormatInt(m.Unix(), 10))
	}
	pipe := s.client.Pipeline()
	var vals *redis.SliceCmd
	if len(fields) > 0 {
		vals = pipe.HMGet(ctx, s.keys.versions, fields...)
	}
	floor := pipe.HGet(ctx, s.keys.progress, "floor_m")
	s.rt[rtRead].Add(1)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, time.Time{}, fmt.Errorf("redisstore: minute versions: %w", unavailable(err))
	}
	out := make(map[int64]uint64, len(starts))
	if vals != nil {
		for i, v := range vals.Val() {
			str, ok := v.(string)
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(str, 10, 64)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("redisstore: minute versions: %s: %w", fields[i], err)
			}
			out[starts[i]] = n
		}
	}
	var f time.Time
	if str, err := floor.Result(); err == nil {
		sec, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("redisstore: minute floor %q: %w", str, err)
		}
		f = time.Unix(sec, 0).UTC()
	}
	return out, f, nil
}
