package redisstore

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// benchPool returns n events of the realistic mix over 2,000 products,
// 40 brands and 15 categories in the six markets; callers give each use a
// fresh id and time.
func benchPool(n int) []souq.Event {
	m := newMix(11)
	pool := make([]souq.Event, n)
	for i := range pool {
		pool[i] = m.Event(i, t0)
	}
	return pool
}

// feed applies events number first to first+n-1 (from event) through a,
// rate events a second of event time, in ApplyMany calls of batch events
// (as the processor commits a fetch).
func feed(tb testing.TB, a *analytics.Aggregator, event func(i int) souq.Event, first, n, rate, batch int) {
	tb.Helper()
	recs := make([]analytics.Record, 0, batch)
	step := time.Second / time.Duration(rate)
	for i := first; i < first+n; i++ {
		ev := event(i)
		ev.MessageID = "evt_" + strconv.Itoa(i)
		ev.Timestamp = t0.Add(time.Duration(i) * step)
		ev.ReceivedAt = ev.Timestamp.Add(analyticstest.ReceiveDelay)
		recs = append(recs, analytics.Record{Seq: uint64(i + 1), Event: ev})
		if len(recs) == batch || i == first+n-1 {
			if _, err := a.ApplyMany(tb.Context(), recs); err != nil {
				tb.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// BenchmarkApply applies the realistic mix at 1,000 events a second of
// event time through an Aggregator on Redis, 500 events per ApplyMany
// (one round trip each).
func BenchmarkApply(b *testing.B) {
	s := openTest(b, Options{})
	a, err := analytics.New(b.Context(), s, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pool := benchPool(1 << 14)
	const batch = 500
	calls0, usec0 := evalshaStats(b, s)
	i := 0
	for b.Loop() {
		feed(b, a, func(i int) souq.Event { return pool[i%len(pool)] }, i*batch, batch, 1000, batch)
		i++
	}
	b.ReportMetric(float64(i*batch)/b.Elapsed().Seconds(), "events/s")
	if calls, usec := evalshaStats(b, s); calls > calls0 {
		// Server time per event: one thread's capacity is 1e6 / this.
		b.ReportMetric(float64(usec-usec0)/float64(i*batch), "server-µs/event")
	}
	b.ReportMetric(0, "ns/op")
}

// evalshaStats returns the calls of EVALSHA the server has run and the
// microseconds it spent in them (INFO commandstats).
func evalshaStats(tb testing.TB, s *Store) (calls, usec int64) {
	tb.Helper()
	info, err := s.client.Info(tb.Context(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_evalsha:")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				calls = n
			case "usec":
				usec = n
			}
		}
	}
	return calls, usec
}

// keyBytes returns the MEMORY USAGE (every element sampled) of each of
// the Store's keys, summed by kind: minute hashes, minute id sets, hour
// hashes, and the rest (progress, indexes, hour id sets).
func keyBytes(tb testing.TB, s *Store) (minuteHashes, minuteIDs, hourHashes, rest int64) {
	tb.Helper()
	for _, k := range scanKeys(tb, s.client, s.keys.base+":*") {
		n, err := s.client.MemoryUsage(tb.Context(), k, 0).Result()
		if err != nil {
			tb.Fatalf("MEMORY USAGE %s: %v", k, err)
		}
		switch name := strings.TrimPrefix(k, s.keys.base); {
		case strings.HasPrefix(name, ":m:"):
			minuteHashes += n
		case strings.HasPrefix(name, ":ids:m:"):
			minuteIDs += n
		case strings.HasPrefix(name, ":h:"):
			hourHashes += n
		default:
			rest += n
		}
	}
	return minuteHashes, minuteIDs, hourHashes, rest
}

// usedMemory returns the server's used_memory (INFO memory).
func usedMemory(tb testing.TB, s *Store) int64 {
	tb.Helper()
	info, err := s.client.Info(tb.Context(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	tb.Fatal("INFO memory has no used_memory")
	return 0
}

// BenchmarkMemory measures what the hot store holds in Redis for one
// minute of sale traffic at 1,000 and at 10,000 events a second (the
// realistic mix over 2,000 products, 40 brands, 15 categories, the six
// markets and their cities; every event drawn afresh), and extrapolates
// to the default retention: 180 minute buckets (3 h, with the ids) and one
// hour bucket per hour of traffic (kept 7 days). It runs once whatever
// b.N; run it with -benchtime 1x.
//
// An hour bucket of real traffic holds 60 minutes of events; here it holds
// one. The extrapolation uses, for both rates, the hour bucket of the
// 10,000 events/s minute (600,000 events): the counters grow slowly past
// that point, bounded by every member having every field (about 48,000
// fields for this catalogue, ~3 MB).
func BenchmarkMemory(b *testing.B) {
	type measure struct {
		rate, events            int
		minuteHashes, minuteIDs int64
		hourHashes              int64
	}
	var ms []measure
	for _, rate := range []int{1000, 10_000} {
		m := newMix(11)
		s := openTest(b, Options{})
		a, err := analytics.New(b.Context(), s, analytics.Config{})
		if err != nil {
			b.Fatal(err)
		}
		before := usedMemory(b, s)
		n := 60 * rate
		start := time.Now()
		feed(b, a, func(int) souq.Event { return m.Event(0, t0) }, 0, n, rate, 500)
		elapsed := time.Since(start)
		used := usedMemory(b, s) - before
		mh, mi, hh, rest := keyBytes(b, s)
		b.Logf("%d events/s: %d events in %v; one minute bucket: counters %.3f MB, ids %.2f MB (%.1f B/event in all, ids %.1f B/event); "+
			"hour bucket counters %.3f MB; other keys %d B; used_memory grew %.1f MB",
			rate, n, elapsed.Round(time.Millisecond), mb(mh), mb(mi), float64(mh+mi)/float64(n), float64(mi)/float64(n),
			mb(hh), rest, mb(used))
		ms = append(ms, measure{rate, n, mh, mi, hh})
	}
	hour := ms[len(ms)-1].hourHashes
	for _, m := range ms {
		minute := m.minuteHashes + m.minuteIDs
		day, week := 180*minute+24*hour, 180*minute+168*hour
		b.Logf("%d events/s: after a day of it %.0f MB (180 minute buckets %.0f MB, of which ids %.0f MB, + 24 hour buckets %.0f MB); after 7 days %.0f MB",
			m.rate, mb(day), mb(180*minute), mb(180*m.minuteIDs), mb(24*hour), mb(week))
		suffix := "@" + strconv.Itoa(m.rate/1000) + "k/s"
		b.ReportMetric(float64(minute)/float64(m.events), "B/event"+suffix)
		b.ReportMetric(mb(day), "MB/day"+suffix)
	}
	b.ReportMetric(0, "ns/op")
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// BenchmarkReaderOnRedis is a dashboard in another process than the
// processor, reading Redis: after 10 minutes at 500 events a second (the
// mix over 2,000 products and 5,000 visitors), each iteration computes
// the visitor figures (Audience: six Reach pipelines of PFCOUNTs and one
// per minute) or the product table of the last hour (Products): read
// afresh by a Reader that cannot see the minute versions, or from the
// sums a Reader keeps, after each quarter second of new events (125, not
// timed).
func BenchmarkReaderOnRedis(b *testing.B) {
	s := openTest(b, Options{})
	a, err := analytics.New(b.Context(), s, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pool := benchPool(1 << 14)
	const rate = 500
	next := 0
	apply := func(n int) time.Time { // events next… at rate a second; the time after them
		feed(b, a, func(i int) souq.Event { return pool[i%len(pool)] }, next, n, rate, 500)
		next += n
		return t0.Add(time.Duration(next) * time.Second / rate)
	}
	now := apply(rate * 600)
	kept, err := analytics.NewReader(s, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	fresh, err := analytics.NewReader(struct{ analytics.HotStore }{s}, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	lastHour := func(now time.Time) analytics.ProductQuery {
		end := now.Truncate(time.Minute).Add(time.Minute)
		return analytics.ProductQuery{From: end.Add(-time.Hour), To: end}
	}
	for _, part := range []struct {
		name string
		run  func(b *testing.B) error
	}{
		{"audience", func(*testing.B) error {
			f, err := kept.Audience(b.Context(), now)
			if err == nil && f.Windows[1].Total.Visitors < 5000 {
				err = fmt.Errorf("got %d visitors in the hour, want about 6,000", f.Windows[1].Total.Visitors)
			}
			return err
		}},
		{"products-fresh", func(*testing.B) error {
			_, err := fresh.Products(b.Context(), lastHour(now))
			return err
		}},
		{"products-kept", func(b *testing.B) error {
			b.StopTimer()
			now = apply(rate / 4)
			b.StartTimer()
			_, err := kept.Products(b.Context(), lastHour(now))
			return err
		}},
	} {
		b.Run(part.name, func(b *testing.B) {
			rt0 := s.RoundTrips().Read
			for b.Loop() {
				if err := part.run(b); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.RoundTrips().Read-rt0)/float64(b.N), "round-trips/op")
		})
	}
}

// pfcountUsec returns the microseconds Redis has spent in PFCOUNT, from
// INFO commandstats.
func pfcountUsec(b *testing.B, s *Store) float64 {
	b.Helper()
	info, err := s.client.Info(b.Context(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if !strings.HasPrefix(l, "cmdstat_pfcount:") {
			continue
		}
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(l, "cmdstat_pfcount:")), ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
		}
	}
	return 0
}

// BenchmarkAudienceFullHour is BenchmarkReaderOnRedis's audience part
// with a full hour of minute buckets: 60 minutes at 200 events a second
// (the mix over 2,000 products and 5,000 visitors). It reports the time
// Redis spends in PFCOUNT per Audience call (redis-pfcount-µs/op): time
// on Redis's single thread, which every replica's dashboard asks for
// once a second.
func BenchmarkAudienceFullHour(b *testing.B) {
	s := openTest(b, Options{})
	a, err := analytics.New(b.Context(), s, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pool := benchPool(1 << 14)
	const rate, minutes = 200, 60
	feed(b, a, func(i int) souq.Event { return pool[i%len(pool)] }, 0, rate*60*minutes, rate, 500)
	now := t0.Add(minutes * time.Minute)
	r, err := analytics.NewReader(s, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	us0, rt0 := pfcountUsec(b, s), s.RoundTrips().Read
	for b.Loop() {
		f, err := r.Audience(b.Context(), now)
		if err != nil {
			b.Fatal(err)
		}
		if f.Windows[1].Total.Visitors < 4000 {
			b.Fatalf("got %d visitors in the hour, want about 5,000", f.Windows[1].Total.Visitors)
		}
	}
	b.ReportMetric((pfcountUsec(b, s)-us0)/float64(b.N), "redis-pfcount-µs/op")
	b.ReportMetric(float64(s.RoundTrips().Read-rt0)/float64(b.N), "round-trips/op")
}
