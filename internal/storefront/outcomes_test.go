package storefront

import (
	"net/http"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestCheckoutOutcomes checks that a checkout form the waiting room turns
// back is counted as a rejected attempt.
func TestCheckoutOutcomes(t *testing.T) {
	f := newFixture(t, fixtureOptions{room: true, noCards: true})
	store := outcomes.NewMemStore(time.Now)
	rec := outcomes.NewRecorder(store, outcomes.Options{})
	f.checkout.SetOutcomes(rec)
	ctx := t.Context()
	now := f.catalog.Now()
	_, err := f.catalog.ScheduleSale(ctx, catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), Protected: true,
		Items: []catalog.SaleItem{{ProductID: f.ids["glow-serum"], DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.room.Tick(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	f.addToCart(f.client, "en", "glow-serum", "1")
	_, page, _ := f.get(f.client, "/en/cart")
	status, _, resp := f.post(f.client, "/en/checkout", checkoutValues(f.csrf(page)))
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/queue" {
		t.Fatalf("checkout posted without admission: %d to %q, want 303 to the queue", status, resp.Header.Get("Location"))
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	ms, err := store.Minutes(ctx, now.Add(-time.Minute), end.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var sum outcomes.Counts
	for _, m := range ms {
		sum.Add(m.Counts)
	}
	if want := (outcomes.Counts{Checkouts: 1, Rejected: 1}); sum != want {
		t.Errorf("counts: got %+v, want %+v", sum, want)
	}
}
