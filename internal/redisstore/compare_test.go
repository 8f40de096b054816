package redisstore

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// t0 is the tests' origin of time, 10:00 UTC on a Saturday of a sale.
var t0 = analyticstest.T0

// newMix returns the realistic mix of shop events over 2,000 products,
// 40 brands and 15 categories in the six markets; half its browser events
// name a city.
func newMix(seed uint64) *analyticstest.Mix {
	categories := make([]string, 15)
	for i := range categories {
		categories[i] = fmt.Sprintf("category %02d", i)
	}
	return analyticstest.NewMix(seed, analyticstest.MixConfig{Products: 2000, Brands: 40, Categories: categories, Cities: true})
}

// storyEvents returns n realistic events spread over span of event time,
// as the stream would deliver them: with redeliveries of earlier events
// (every 40th), events arriving hours late (every 97th: hour buckets only
// once the watermark is 3 hours on), a few over a week old (too old to
// count), and a clock running ahead.
func storyEvents(n int, span time.Duration) []analytics.Record {
	m := newMix(7)
	step := span / time.Duration(n)
	var recs []analytics.Record
	for i := range n {
		now := t0.Add(time.Duration(i) * step)
		var ev souq.Event
		switch {
		case i%40 == 39:
			ev = recs[i-25].Event // a redelivery: same id, same timestamps
		case i%97 == 96:
			ev = m.Event(i, now.Add(-3*time.Hour-30*time.Minute))
			ev.ReceivedAt = now
		case i%499 == 498:
			ev = m.Event(i, now.Add(-8*24*time.Hour))
			ev.ReceivedAt = now
		case i%333 == 332:
			ev = m.Event(i, now.Add(time.Hour)) // a client clock an hour ahead
			ev.ReceivedAt = now
		default:
			ev = m.Event(i, now)
		}
		recs = append(recs, analytics.Record{Seq: uint64(i + 1), Event: ev})
	}
	return recs
}

func newAggregator(t *testing.T, store analytics.HotStore) *analytics.Aggregator {
	t.Helper()
	a, err := analytics.New(t.Context(), store, analytics.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// TestSameAsMemStore feeds the same events to an Aggregator on a MemStore
// and one on Redis: every result, the Stats, the Progress and the Dump
// must be equal. The events span more than the minute retention, so
// buckets are pruned and late events go to hour buckets only.
func TestSameAsMemStore(t *testing.T) {
	s := openTest(t, Options{})
	memStore := analytics.NewMemStore()
	mem, red := newAggregator(t, memStore), newAggregator(t, s)
	recs := storyEvents(2000, 4*time.Hour+10*time.Minute)
	for i := 0; i < len(recs); i += 100 {
		chunk := recs[i:min(i+100, len(recs))]
		want, err := mem.ApplyMany(t.Context(), chunk)
		if err != nil {
			t.Fatalf("MemStore ApplyMany: %v", err)
		}
		got, err := red.ApplyMany(t.Context(), chunk)
		if err != nil {
			t.Fatalf("Redis ApplyMany: %v", err)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y error) bool { return (x == nil) == (y == nil) })); diff != "" {
			t.Fatalf("results of records %d–%d (-MemStore +Redis):\n%s", i, i+len(chunk)-1, diff)
		}
	}
	st := mem.Stats()
	if st.HourOnly == 0 || st.TooOld == 0 || st.Duplicates == 0 {
		t.Errorf("the story lacks a case: %+v", st)
	}
	if diff := cmp.Diff(st, red.Stats()); diff != "" {
		t.Errorf("Stats (-MemStore +Redis):\n%s", diff)
	}
	if diff := cmp.Diff(analyticstest.Progress(t, memStore), analyticstest.Progress(t, s)); diff != "" {
		t.Errorf("Progress (-MemStore +Redis):\n%s", diff)
	}
	want := analyticstest.Dump(t, mem)
	if len(want.Cells) < 1000 {
		t.Errorf("MemStore Dump has only %d cells", len(want.Cells))
	}
	if diff := cmp.Diff(want, analyticstest.Dump(t, red)); diff != "" {
		t.Errorf("Dump (-MemStore +Redis):\n%s", diff)
	}
	compareReach(t, memStore, s)
}

// compareReach checks that two stores fed the same events estimate the
// same distinct visitors and buyers per market, in minute and hour
// buckets, within the sketches' error: the two use different hashes and
// estimators (the in-process sketches are dense, within about 1.5% from
// ten visitors up; Redis's sparse ones are near exact below a few
// thousand), so they agree to 3%, or 2 visitors.
func compareReach(t *testing.T, mem, red analytics.HotStore) {
	t.Helper()
	checked := 0
	for _, res := range []analytics.Resolution{analytics.Minute, analytics.Hour} {
		for _, dim := range analytics.ReachDimensions() {
			r := []analytics.Range{{Res: res, Dim: dim}}
			want, err := mem.Reach(t.Context(), r)
			if err != nil {
				t.Fatalf("MemStore Reach: %v", err)
			}
			got, err := red.Reach(t.Context(), r)
			if err != nil {
				t.Fatalf("Redis Reach: %v", err)
			}
			if len(got) != len(want) {
				t.Errorf("Reach %s by %s: got %d members %v, want %d %v", res, dim, len(got), got, len(want), want)
			}
			for m, w := range want {
				g := got[m]
				for _, c := range [][2]int64{{g.Visitors, w.Visitors}, {g.Buyers, w.Buyers}} {
					if d := math.Abs(float64(c[0] - c[1])); d > max(2, 0.03*float64(c[1])) {
						t.Errorf("Reach %s by %s, %s: got %+v on Redis, %+v on MemStore", res, dim, m, g, w)
					}
				}
				if w.Visitors > 50 {
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Errorf("no member had over 50 visitors: the comparison is vacuous")
	}
}

// TestReplicas plays two processor replicas — two Stores with their own
// connections on one prefix, each under its own Aggregator — that were
// both delivered every event, concurrently and in different orders: each
// event counts once, and the aggregates equal those of one MemStore fed
// each event once.
func TestReplicas(t *testing.T) {
	prefix := randomPrefix()
	stores := []*Store{openTest(t, Options{Prefix: prefix}), openTest(t, Options{Prefix: prefix})}
	recs := storyEvents(1200, 50*time.Minute)
	distinct := map[string]bool{}
	var events []analytics.Record // without the story's redeliveries and too-old events
	for _, r := range recs {
		if !distinct[r.Event.MessageID] && !r.Event.Timestamp.Before(t0.Add(-4*time.Hour)) {
			distinct[r.Event.MessageID] = true
			events = append(events, r)
		}
	}
	mem := newAggregator(t, analytics.NewMemStore())
	if _, err := mem.ApplyMany(t.Context(), events); err != nil {
		t.Fatal(err)
	}

	replicas := make([]*analytics.Aggregator, len(stores))
	var wg sync.WaitGroup
	for w, s := range stores {
		replicas[w] = newAggregator(t, s)
		wg.Go(func() {
			for i := 0; i < len(events); i += 50 {
				var chunk []analytics.Record
				for j := i; j < min(i+50, len(events)); j++ {
					chunk = append(chunk, events[(j+w*len(events)/2)%len(events)]) // replica 1 starts half way
				}
				if _, err := replicas[w].ApplyMany(t.Context(), chunk); err != nil {
					t.Errorf("replica %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	a, b := replicas[0].Stats(), replicas[1].Stats()
	if a.Applied+b.Applied != uint64(len(events)) || a.Duplicates+b.Duplicates != uint64(len(events)) {
		t.Errorf("replicas applied %d + %d, found %d + %d duplicates; want %d in all of each",
			a.Applied, b.Applied, a.Duplicates, b.Duplicates, len(events))
	}
	if a.Applied == 0 || b.Applied == 0 {
		t.Logf("one replica applied everything (%d, %d): the race was not exercised", a.Applied, b.Applied)
	}
	p := analyticstest.Progress(t, stores[1])
	if p.Applied != uint64(len(events)) || p.Duplicates != uint64(len(events)) {
		t.Errorf("progress: got applied %d, duplicates %d; want %d, %d", p.Applied, p.Duplicates, len(events), len(events))
	}
	reader, err := analytics.NewReader(stores[1], analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := reader.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(analyticstest.Dump(t, mem), got); diff != "" {
		t.Errorf("Dump (-one MemStore +two replicas on Redis):\n%s", diff)
	}
}

// TestReaderFollowsVersions plays a dashboard in another process: a
// Reader over the Redis store keeps its sums between calls, reading again
// only the minutes whose version changed, and every Snapshot and product
// table it gives equals a fresh Reader's, through late events,
// redeliveries and minutes pruned as the watermark moves on.
func TestReaderFollowsVersions(t *testing.T) {
	s := openTest(t, Options{})
	cfg := analytics.Config{MinuteRetention: time.Hour}
	a, err := analytics.New(t.Context(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	follower, err := analytics.NewReader(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := analytics.NewReader(struct{ analytics.HotStore }{s}, cfg) // cannot see the versions
	if err != nil {
		t.Fatal(err)
	}
	recs := storyEvents(1500, 100*time.Minute)
	for i := range recs {
		if i%31 == 30 && recs[i].Event.MessageID == fmt.Sprintf("evt_%08d", i) {
			recs[i].Event.Timestamp = recs[i].Event.Timestamp.Add(-5 * time.Minute) // a minute already read changes
		}
	}
	// Chunks of 50 events (200 s of event time) end mid-minute, so the
	// minute filling at one call changes before the next.
	for i := 0; i < len(recs); i += 50 {
		chunk := recs[i:min(i+50, len(recs))]
		if _, err := a.ApplyMany(t.Context(), chunk); err != nil {
			t.Fatal(err)
		}
		now := chunk[len(chunk)-1].Event.ReceivedAt
		want, err := fresh.Snapshot(t.Context(), now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := follower.Snapshot(t.Context(), now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("records %d–%d: snapshot from kept sums (-fresh +kept):\n%s", i, i+len(chunk)-1, diff)
		}
		end := now.Truncate(time.Minute).Add(time.Minute)
		q := analytics.ProductQuery{From: end.Add(-time.Hour), To: end}
		wantRows, err := fresh.Products(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		gotRows, err := follower.Products(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantRows, gotRows); diff != "" {
			t.Fatalf("records %d–%d: products from kept sums (-fresh +kept):\n%s", i, i+len(chunk)-1, diff)
		}
	}
	versions, floor, err := s.MinuteVersions(t.Context(), t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if floor.IsZero() || len(versions) == 0 {
		t.Errorf("minute versions: got %d and floor %v, want some and a floor", len(versions), floor)
	}
	for start := range versions {
		if start < floor.Unix() {
			t.Errorf("minute %v below the floor %v still has a version", time.Unix(start, 0).UTC(), floor)
		}
	}
}
