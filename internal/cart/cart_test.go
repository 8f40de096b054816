package cart_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// TestOutOfStockCounted checks that each change to a cart refused for
// stock is counted once, and nothing else is.
func TestOutOfStockCounted(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	t0 := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	now := func() time.Time { return t0 }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.New(db, now, log)
	stock := 3
	p, err := cat.Create(t.Context(), catalog.ProductInput{
		SKU: "OUD-1", Slug: "oud", Brand: "Ajmal", Category: "fragrance",
		Name: souq.Localized{EN: "Oud", AR: "عود"}, Prices: map[souq.MarketCode]int64{souq.AE: 8900}, Stock: &stock,
	})
	if err != nil {
		t.Fatal(err)
	}
	store := outcomes.NewMemStore(now)
	rec := outcomes.NewRecorder(store, outcomes.Options{Now: now})
	carts := cart.New(db, cat, now, log)
	carts.SetOutcomes(rec)
	c, err := carts.Create(t.Context(), "AE")
	if err != nil {
		t.Fatal(err)
	}

	for _, st := range []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"add 2 of 3", func() error { _, err := carts.AddItem(t.Context(), c.ID, p.ID, 2); return err }, nil},
		{"add 2 more", func() error { _, err := carts.AddItem(t.Context(), c.ID, p.ID, 2); return err }, souq.ErrOutOfStock},
		{"set 4", func() error { _, err := carts.SetItem(t.Context(), c.ID, p.ID, 4); return err }, souq.ErrOutOfStock},
		{"set 3", func() error { _, err := carts.SetItem(t.Context(), c.ID, p.ID, 3); return err }, nil},
		{"add 0", func() error { _, err := carts.AddItem(t.Context(), c.ID, p.ID, 0); return err }, souq.ErrInvalid},
	} {
		if err := st.do(); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: got error %v, want %v", st.name, err, st.wantErr)
		}
	}
	if err := rec.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := store.Minutes(t.Context(), t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := (outcomes.Counts{CartOutOfStock: 2}); got[0].Counts != want {
		t.Errorf("counts: got %+v, want %+v", got[0].Counts, want)
	}
}
