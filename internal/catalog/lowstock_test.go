package catalog_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// TestLowStock checks the service's bounds on its arguments and that it
// returns the store's answer.
func TestLowStock(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := func() time.Time { return time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC) }
	cat := catalog.New(db, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ids []souq.ID
	for i, n := range []int{4, 0, 12} {
		stock := n
		p, err := cat.Create(t.Context(), catalog.ProductInput{
			SKU: fmt.Sprintf("LOW-%d", i), Slug: fmt.Sprintf("low-%d", i), Brand: "Ajmal", Category: "fragrance",
			Name:   souq.Localized{EN: fmt.Sprintf("Oud %d", i), AR: fmt.Sprintf("عود %d", i)},
			Prices: map[souq.MarketCode]int64{souq.AE: 8900}, Stock: &stock,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}

	for _, tt := range []struct {
		atMost, limit int
	}{{-1, 10}, {5, 0}, {5, -3}, {5, catalog.MaxLowStock + 1}} {
		if _, err := cat.LowStock(t.Context(), tt.atMost, tt.limit); !errors.Is(err, souq.ErrInvalid) {
			t.Errorf("LowStock(%d, %d): got error %v, want ErrInvalid", tt.atMost, tt.limit, err)
		}
	}
	got, err := cat.LowStock(t.Context(), 5, catalog.MaxLowStock)
	if err != nil {
		t.Fatalf("LowStock(5, %d): %v", catalog.MaxLowStock, err)
	}
	want := []catalog.StockLevel{{ProductID: ids[1], Stock: 0}, {ProductID: ids[0], Stock: 4}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("LowStock(5, %d): (-want +got)\n%s", catalog.MaxLowStock, d)
	}
}
