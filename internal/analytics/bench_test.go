package analytics_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// benchEvents returns a pool of events from the realistic mix over 2,000
// products in the six markets; callers give each use a fresh id and time.
func benchEvents(n int) []souq.Event {
	m := newMix(11, 2000)
	pool := make([]souq.Event, n)
	for i := range pool {
		pool[i] = m.Event(i, t0)
	}
	return pool
}

// BenchmarkApply applies the realistic mix (70% views, 12% adds, 3%
// removes, 5% cart views, 4% checkouts, 3% searches, 2.5% orders of 1–3
// lines, 0.5% cancellations) at 2,000 events a second of event time, so
// minute buckets fill and roll over; each event has a new id. It includes
// decoding the properties and context JSON, as the processor does.
func BenchmarkApply(b *testing.B) {
	pool := benchEvents(1 << 14)
	a, err := analytics.New(b.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	var id []byte
	i := 0
	for b.Loop() {
		ev := pool[i%len(pool)]
		id = strconv.AppendInt(append(id[:0], "evt_"...), int64(i), 10)
		ev.MessageID = string(id)
		ev.Timestamp = t0.Add(time.Duration(i) * 500 * time.Microsecond)
		ev.ReceivedAt = ev.Timestamp.Add(analyticstest.ReceiveDelay)
		if _, err := a.Apply(b.Context(), uint64(i+1), ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyDuplicate applies events already applied: the cost of a
// redelivery.
func BenchmarkApplyDuplicate(b *testing.B) {
	pool := benchEvents(1 << 12)
	a, err := analytics.New(b.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range pool {
		pool[i].MessageID = "evt_" + strconv.Itoa(i)
		pool[i].Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		pool[i].ReceivedAt = pool[i].Timestamp
		if _, err := a.Apply(b.Context(), uint64(i+1), pool[i]); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if applied, err := a.Apply(b.Context(), uint64(i%len(pool)+1), pool[i%len(pool)]); err != nil || applied {
			b.Fatalf("duplicate: got %v, %v", applied, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSnapshot computes the dashboard after an hour of a sale at
// 20,000 events a minute over 2,000 products.
func BenchmarkSnapshot(b *testing.B) {
	const perMinute, minutes = 20_000, 60
	pool := benchEvents(1 << 14)
	a, err := analytics.New(b.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range perMinute * minutes {
		ev := pool[i%len(pool)]
		ev.MessageID = "evt_" + strconv.Itoa(i)
		ev.Timestamp = t0.Add(time.Duration(i) * time.Minute / perMinute)
		ev.ReceivedAt = ev.Timestamp
		if _, err := a.Apply(b.Context(), uint64(i+1), ev); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(minutes*time.Minute - time.Second)
	var s analytics.Snapshot
	for b.Loop() {
		if s, err = a.Snapshot(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
	if s.LastHour.Views == 0 || len(s.Trending[2].Products) != 10 {
		b.Fatalf("snapshot: got %d views and %d trending products, want some and 10", s.LastHour.Views, len(s.Trending[2].Products))
	}
}

// BenchmarkSnapshotLive is the dashboard during the sale: after the same
// hour, each Snapshot follows a quarter second of new events (83 at 20,000
// a minute), so the minute filling changes every time and minutes roll
// over. Only the Snapshot is timed.
func BenchmarkSnapshotLive(b *testing.B) {
	a, _, apply := saleHour(b)
	for b.Loop() {
		b.StopTimer()
		now := apply(saleRate / 240)
		b.StartTimer()
		if _, err := a.Snapshot(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
}

// saleRate is the events a minute of the benchmarks' sale.
const saleRate = 20_000

// saleHour returns an Aggregator (on a MemStore) after an hour of a sale
// at 20,000 events a minute over 2,000 products, and a function that
// applies n more events and returns the time after them.
func saleHour(b *testing.B) (*analytics.Aggregator, *analytics.MemStore, func(n int) time.Time) {
	const perMinute, minutes = saleRate, 60
	pool := benchEvents(1 << 14)
	store := analytics.NewMemStore()
	a, err := analytics.New(b.Context(), store, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	apply := func(n int) time.Time {
		for range n {
			ev := pool[i%len(pool)]
			ev.MessageID = "evt_" + strconv.Itoa(i)
			ev.Timestamp = t0.Add(time.Duration(i) * time.Minute / perMinute)
			ev.ReceivedAt = ev.Timestamp
			if _, err := a.Apply(b.Context(), uint64(i+1), ev); err != nil {
				b.Fatal(err)
			}
			i++
		}
		return t0.Add(time.Duration(i) * time.Minute / perMinute)
	}
	apply(perMinute * minutes)
	return a, store, apply
}

// lastHourQuery is the dashboard's product table: the last 60 minute
// buckets, every market.
func lastHourQuery(now time.Time) analytics.ProductQuery {
	end := now.Truncate(time.Minute).Add(time.Minute)
	return analytics.ProductQuery{From: end.Add(-time.Hour), To: end}
}

// BenchmarkProductsLive is the dashboard's product table during the sale,
// from the Aggregator's own Reader: after the hour, each call follows a
// quarter second of new events (83), as BenchmarkSnapshotLive. Only
// Products is timed.
func BenchmarkProductsLive(b *testing.B) {
	a, _, apply := saleHour(b)
	if _, err := a.Products(b.Context(), lastHourQuery(apply(0))); err != nil { // the first call reads the hour
		b.Fatal(err)
	}
	var rows []analytics.ProductRow
	for b.Loop() {
		b.StopTimer()
		now := apply(saleRate / 240)
		b.StartTimer()
		var err error
		if rows, err = a.Products(b.Context(), lastHourQuery(now)); err != nil {
			b.Fatal(err)
		}
	}
	if len(rows) < 1000 {
		b.Fatalf("got %d products, want most of 2,000", len(rows))
	}
}

// BenchmarkProductsFresh is the same table read by a Reader that keeps no
// sums (a dashboard in another process): 60 minutes × every product each
// call, what the kept sums save.
func BenchmarkProductsFresh(b *testing.B) {
	_, store, apply := saleHour(b)
	r, err := analytics.NewReader(struct{ analytics.HotStore }{store}, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	now := apply(0)
	for b.Loop() {
		if _, err := r.Products(b.Context(), lastHourQuery(now)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudience computes the visitor figures (minute, hour and day,
// in all and per market, and the 60-point series) after the hour, the
// events coming from 5,000 visitors: mostly merging HyperLogLog sketches.
func BenchmarkAudience(b *testing.B) {
	a, _, apply := saleHour(b)
	now := apply(0)
	var f analytics.AudienceFigures
	for b.Loop() {
		var err error
		if f, err = a.Audience(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
	// The pool's 16,384 events come from about 4,800 of the 5,000
	// anonymous ids, and a tenth of them also from about 1,400 user ids.
	if v := f.Windows[1].Total.Visitors; v < 5700 || v > 6700 {
		b.Fatalf("hour: got %d visitors, want about 6,200", v)
	}
}

// BenchmarkCompare computes the comparisons after the hour (no History:
// yesterday and last week are none), reading today afresh each call.
func BenchmarkCompare(b *testing.B) {
	a, _, apply := saleHour(b)
	now := apply(0)
	for b.Loop() {
		if _, err := a.Compare(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
}
