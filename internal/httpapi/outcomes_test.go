package httpapi

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestOrderOutcomes checks that the waiting room's refusals of POST
// /api/v1/orders are counted as rejected attempts, with the orders checkout
// counts itself, and that a replay is not counted again.
func TestOrderOutcomes(t *testing.T) {
	f := newRoomFixture(t)
	p := f.product(100, 5000)
	ctx := t.Context()
	start := f.clock()
	order := func(want int, header ...string) {
		t.Helper()
		if code, _, body := f.do("POST", "/api/v1/orders", orderBody(item(p.ID, 1)), header...); code != want {
			t.Fatalf("POST /api/v1/orders: got %d %s, want %d", code, body, want)
		}
	}
	order(201, "Idempotency-Key", "o-1")
	order(201, "Idempotency-Key", "o-1") // a replay
	_, err := f.catalog.ScheduleSale(ctx, catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: start.Add(time.Minute), EndsAt: start.Add(time.Hour), Protected: true,
		Items: []catalog.SaleItem{{ProductID: p.ID, DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if _, err := f.room.Tick(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	order(429)
	order(403, AdmissionHeader, "v1.forged")
	if err := f.outcomes.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.counts.Minutes(ctx, start, start.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var sum outcomes.Counts
	for _, m := range got {
		sum.Add(m.Counts)
	}
	if want := (outcomes.Counts{Checkouts: 3, Orders: 1, Rejected: 2}); sum != want {
		t.Errorf("counts: got %+v, want %+v", sum, want)
	}
}
