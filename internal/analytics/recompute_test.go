package analytics_test

import (
	"github.com/google/go-cmp/cmp"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestApplyTwiceInAnyOrder(t *testing.T) {
	const n = 600
	m := newMix(1, 50)
	var records []analytics.Record
	for i := range n {
		records = append(records, analytics.Record{Seq: uint64(i + 1), Event: m.Event(i, t0.Add(time.Duration(i)*10*time.Second))})
	}

	once, _ := newAggregator(t, analytics.Config{})
	for _, r := range records {
		if _, err := once.Apply(t.Context(), r.Seq, r.Event); err != nil {
			t.Fatalf("Apply(%d): %v", r.Seq, err)
		}
	}
	want := analyticstest.Dump(t, once)
	if len(want.Cells) < 100 {
		t.Fatalf("applied once: got %d cells, want a few hundred", len(want.Cells))
	}

	twice, _ := newAggregator(t, analytics.Config{})
	shuffled := append(append([]analytics.Record{}, records...), records...)
	rand.New(rand.NewPCG(2, 3)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, r := range shuffled {
		if _, err := twice.Apply(t.Context(), r.Seq, r.Event); err != nil {
			t.Fatalf("Apply(%d): %v", r.Seq, err)
		}
	}
	checkDiff(t, "applied twice, shuffled, against once in order", analyticstest.Dump(t, twice), want)
	if got := twice.Stats(); got.Applied != n || got.Duplicates != n {
		t.Errorf("stats: got %+v, want %d applied and %d duplicates", got, n, n)
	}
}

// stream is what a processor sees over five hours: the mix in order of
// receipt, plus what goes wrong in production — a relay publishing an
// order again under a new sequence, events hours late (hour buckets only),
// events from last week (ignored), malformed events (dead-lettered) — with
// redeliveries by the consumer on top.
func stream(t *testing.T) (records []analytics.Record, deliveries []analytics.Record) {
	t.Helper()
	m := newMix(7, 300)
	rng := rand.New(rand.NewPCG(8, 9))
	var republish []analytics.Record
	add := func(ev souq.Event) {
		records = append(records, analytics.Record{Seq: uint64(len(records) + 1), Event: ev})
	}
	const n = 6000
	for i := range n {
		at := time.Duration(i) * 5 * time.Hour / n
		ev := m.Event(i, t0.Add(at))
		switch r := rng.IntN(200); {
		case r < 2: // from a phone that was offline for four hours
			ev.Timestamp = ev.Timestamp.Add(-4 * time.Hour)
		case r < 3: // last week's
			ev.Timestamp = ev.Timestamp.Add(-8 * 24 * time.Hour)
		case r < 4:
			ev.Properties = []byte(`{"product_id":7}`)
		}
		add(ev)
		if ev.Event == souq.EventOrderCompleted && rng.IntN(4) == 0 {
			republish = append(republish, analytics.Record{Event: ev})
		}
		if len(republish) > 0 && rng.IntN(50) == 0 {
			add(republish[0].Event)
			republish = republish[1:]
		}
	}
	// The consumer gets every record, some twice: at once, or after a few
	// later ones (a redelivery after the ack wait).
	var pending []analytics.Record
	for _, r := range records {
		deliveries = append(deliveries, r)
		switch rng.IntN(40) {
		case 0:
			deliveries = append(deliveries, r)
		case 1:
			pending = append(pending, r)
		}
		if len(pending) > 0 && rng.IntN(10) == 0 {
			deliveries = append(deliveries, pending...)
			pending = nil
		}
	}
	return records, append(deliveries, pending...)
}

func TestRecomputeEqualsLive(t *testing.T) {
	records, deliveries := stream(t)
	live, _ := newAggregator(t, analytics.Config{})
	malformed := 0
	for _, r := range deliveries {
		if _, err := live.Apply(t.Context(), r.Seq, r.Event); err != nil {
			malformed++
		}
	}
	st := live.Stats()
	if st.HourOnly == 0 || st.TooOld == 0 || st.Duplicates == 0 || st.Malformed == 0 || uint64(malformed) != st.Malformed {
		t.Fatalf("live stats %+v (%d errors): the stream does not exercise late, old, duplicate and malformed events", st, malformed)
	}
	liveState := analyticstest.Dump(t, live)
	if len(liveState.Cells) < 1000 {
		t.Fatalf("live: got %d cells, want thousands", len(liveState.Cells))
	}

	// The archive holds each stream message once, in any file order.
	archive := append([]analytics.Record{}, records...)
	rand.New(rand.NewPCG(4, 5)).Shuffle(len(archive), func(i, j int) { archive[i], archive[j] = archive[j], archive[i] })
	re, err := analytics.Recompute(t.Context(), analytics.Config{}, archive)
	if err != nil {
		t.Fatalf("Recompute: %v", err)
	}
	checkDiff(t, "recomputed against live", analyticstest.Dump(t, re), liveState)
}

// TestRecomputeSeesADifference shows the comparison is not vacuous: a live
// aggregator that missed one view differs from the recomputation.
func TestRecomputeSeesADifference(t *testing.T) {
	records, _ := stream(t)
	missed := -1
	for i, r := range records {
		if r.Event.Event == analytics.EventProductViewed && r.Event.ReceivedAt.Sub(r.Event.Timestamp) == analyticstest.ReceiveDelay {
			missed = i
		}
	}
	live, _ := newAggregator(t, analytics.Config{})
	for i, r := range records {
		if i != missed {
			_, _ = live.Apply(t.Context(), r.Seq, r.Event)
		}
	}
	re, err := analytics.Recompute(t.Context(), analytics.Config{}, records)
	if err != nil {
		t.Fatalf("Recompute: %v", err)
	}
	if cmp.Equal(analyticstest.Dump(t, re), analyticstest.Dump(t, live)) {
		t.Errorf("Recompute with view %s that the live aggregator missed: got equal states, want a difference", records[missed].Event.MessageID)
	}
}
