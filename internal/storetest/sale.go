package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// newSale returns a sale of the catalog fixture's first two products
// running from start to end (offsets from t0).
func newSale(id string, start, end time.Duration) souq.Sale {
	return souq.Sale{
		ID:       souq.ID(id),
		Name:     souq.Localized{EN: "White Friday " + id, AR: "الجمعة البيضاء " + id},
		StartsAt: at(start),
		EndsAt:   at(end),
		Prices: map[souq.ID]map[souq.MarketCode]int64{
			"prd_1": {souq.AE: 6900, souq.SA: 7100},
			"prd_2": {souq.AE: 4900},
		},
		Units:     map[souq.ID]int{"prd_1": 40, "prd_2": 0},
		CreatedAt: at(-time.Hour),
	}
}

func testSales(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	ended := newSale("sale_ended", -3*time.Hour, -time.Hour)
	running := newSale("sale_running", -time.Hour, time.Hour)
	running.Protected = true
	later := newSale("sale_later", 2*time.Hour, 5*time.Hour)
	soon := newSale("sale_soon", time.Hour, 2*time.Hour)
	soon.Prices = map[souq.ID]map[souq.MarketCode]int64{"prd_3": {souq.KW: 3000}}
	soon.Units = nil // a sale stored before units were recorded
	// Stored out of order, to show that SalesEndingAfter sorts by start.
	for _, sale := range []souq.Sale{later, ended, soon, running} {
		must(t, "CreateSale("+string(sale.ID)+")", s.CreateSale(t.Context(), sale))
	}
	tests := []struct {
		name  string
		after time.Time
		want  []souq.Sale
	}{
		{"now", t0, []souq.Sale{running, soon, later}},
		{"long ago", at(-24 * time.Hour), []souq.Sale{ended, running, soon, later}},
		{"at an end: that sale is over", at(time.Hour), []souq.Sale{soon, later}},
		{"just before an end", at(time.Hour - time.Microsecond), []souq.Sale{running, soon, later}},
		{"after every end", at(5 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SalesEndingAfter(t.Context(), tt.after)
			must(t, "SalesEndingAfter", err)
			checkDiff(t, "SalesEndingAfter", got, tt.want)
		})
	}
}

func testSaleDelete(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	a, b := newSale("sale_a", 0, time.Hour), newSale("sale_b", 2*time.Hour, 3*time.Hour)
	must(t, "CreateSale(a)", s.CreateSale(t.Context(), a))
	must(t, "CreateSale(b)", s.CreateSale(t.Context(), b))

	must(t, "DeleteSale(a)", s.DeleteSale(t.Context(), a.ID))
	got, err := s.SalesEndingAfter(t.Context(), at(-time.Hour))
	must(t, "SalesEndingAfter", err)
	checkDiff(t, "sales after deleting a", got, []souq.Sale{b})

	checkKind(t, "DeleteSale(a) again", s.DeleteSale(t.Context(), a.ID), souq.ErrNotFound)
	checkKind(t, "DeleteSale(missing)", s.DeleteSale(t.Context(), "sale_missing"), souq.ErrNotFound)
}

// testSaleOverlap: a sale that overlaps a stored one in time is refused
// with a *catalog.SaleOverlapError naming it, and nothing of it is stored;
// sales that only touch (one ends as the other starts) do not overlap.
// Created at once, overlapping sales are refused all but one.
func testSaleOverlap(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	first := newSale("sale_first", time.Hour, 3*time.Hour)
	must(t, "CreateSale(first)", s.CreateSale(t.Context(), first))
	for _, tt := range []struct {
		name       string
		start, end time.Duration
		overlaps   bool
	}{
		{"inside", 2 * time.Hour, 150 * time.Minute, true},
		{"around", 0, 4 * time.Hour, true},
		{"over the start", 0, 2 * time.Hour, true},
		{"over the end", 2 * time.Hour, 4 * time.Hour, true},
		{"ends as it starts", 0, time.Hour, false},
		{"starts as it ends", 3 * time.Hour, 4 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sale := newSale("sale_"+strings.ReplaceAll(tt.name, " ", "_"), tt.start, tt.end)
			err := s.CreateSale(t.Context(), sale)
			if !tt.overlaps {
				must(t, "CreateSale", err)
				must(t, "DeleteSale", s.DeleteSale(t.Context(), sale.ID))
				return
			}
			var overlap *catalog.SaleOverlapError
			if !errors.As(err, &overlap) || overlap.Other.ID != first.ID || !overlap.Other.StartsAt.Equal(first.StartsAt) {
				t.Fatalf("CreateSale: got %v, want a SaleOverlapError naming %s", err, first.ID)
			}
			got, err := s.SalesEndingAfter(t.Context(), at(-24*time.Hour))
			must(t, "SalesEndingAfter", err)
			if len(got) != 1 {
				t.Errorf("sales after a refused overlap: got %d, want 1", len(got))
			}
		})
	}

	// Overlapping sales created at once: exactly one is stored.
	const n = 10
	errs := make(chan error, n)
	for i := range n {
		go func() {
			sale := newSale(fmt.Sprintf("sale_race_%d", i), 10*time.Hour+time.Duration(i)*time.Minute, 11*time.Hour+time.Duration(i)*time.Minute)
			errs <- s.CreateSale(t.Context(), sale)
		}()
	}
	created := 0
	for range n {
		err := <-errs
		var overlap *catalog.SaleOverlapError
		switch {
		case err == nil:
			created++
		case !errors.As(err, &overlap):
			t.Errorf("CreateSale at once: got %v, want nil or a SaleOverlapError", err)
		}
	}
	if created != 1 {
		t.Errorf("overlapping sales created at once: %d stored, want 1", created)
	}
}
