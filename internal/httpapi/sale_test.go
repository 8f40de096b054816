package httpapi

import (
	"sync"
	"testing"
	"time"
)

// TestConcurrentSalesDoNotOverlap schedules overlapping sales at once:
// exactly one is scheduled, every other answers 409, and one sale is
// stored. The check and the write are one transaction in the store.
func TestConcurrentSalesDoNotOverlap(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	start := f.clock().Add(time.Hour)
	const n = 20
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			from := start.Add(time.Duration(i) * time.Minute) // every pair overlaps
			status, _ := f.admin("POST", "/api/v1/admin/sales", map[string]any{
				"name": map[string]any{"en": "Flash", "ar": "تخفيضات"}, "starts_at": from, "ends_at": from.Add(time.Hour),
				"items": []any{map[string]any{"product_id": p.ID, "discount_percent": 20}},
			})
			statuses <- status
		}()
	}
	close(ready)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Errorf("statuses: got %v, want one 201 and %d × 409", count, n-1)
	}
	sales, err := f.db.SalesEndingAfter(t.Context(), f.clock())
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 1 {
		t.Errorf("sales stored: got %d, want 1", len(sales))
	}
}
