package demo_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

func TestSeedDelivery(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := func() time.Time { return time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC) }
	svc := delivery.New(db, now)
	// A merchant's own UAE settings survive the seeding.
	own := demo.DeliverySettings()[0]
	own.Fee = 999
	if _, err := svc.Put(t.Context(), own); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedDelivery(t.Context(), svc); err != nil {
		t.Fatalf("SeedDelivery: %v", err)
	}
	all, err := svc.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(souq.MarketCodes()) {
		t.Fatalf("settings: got %d markets, want %d", len(all), len(souq.MarketCodes()))
	}
	for _, st := range all {
		if st.Market == souq.AE && st.Fee != 999 {
			t.Errorf("AE fee: got %d, want the merchant's 999", st.Fee)
		}
	}
	// Riyadh before the cut-off (09:00 there): arrives tomorrow; Tabuk in 2–3 days.
	for city, want := range map[string]delivery.Days{"Riyadh": {MinDays: 1, MaxDays: 1}, "Tabuk": {MinDays: 2, MaxDays: 3}} {
		q, ok, err := svc.QuoteFor(t.Context(), souq.SA, 10000, souq.PayCashOnDelivery, city)
		if err != nil || !ok || q.DaysFromToday != want || q.Fee != 2500 || q.CODFee != 1500 {
			t.Errorf("quote in %s: got %+v, %v, %v; want fee 2500, COD 1500, %v days from today", city, q, ok, err, want)
		}
	}
}
