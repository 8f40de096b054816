package postgres

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestCreateProductsClashMeanwhile: a product with a batch's SKU committed
// by another writer after the batch's check (the batch waiting on it in
// the unique index) is named by the batch's error as a clash found by the
// check would be, and nothing of the batch is stored.
func TestCreateProductsClashMeanwhile(t *testing.T) {
	t.Parallel()
	app := fmt.Sprintf("souq_clash_%d", time.Now().UnixNano())
	db := openTest(t, testURL(t)+"&application_name="+app, Options{})
	ctx := t.Context()

	other, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	_, err = other.Exec(ctx, `INSERT INTO products (id, sku, slug, brand, category, name_en, name_ar, stock, created_at, updated_at)
		VALUES ('prd_other', 'SKU-CLASH', 'other', 'Anua', 'skincare', 'Other', 'Other', 0, now(), now())`)
	if err != nil {
		t.Fatal(err)
	}

	var batch []catalog.NewProduct
	for i, sku := range []string{"SKU-A", "SKU-CLASH", "SKU-C"} {
		p := souq.Product{ID: souq.ID(fmt.Sprintf("prd_%d", i)), SKU: sku, Slug: fmt.Sprintf("p-%d", i), Brand: "Anua",
			Category: "skincare", Name: souq.Localized{EN: sku, AR: sku}, Prices: map[souq.MarketCode]int64{souq.AE: 100},
			CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC()}
		batch = append(batch, catalog.NewProduct{Product: p, SearchText: sku})
	}
	done := make(chan error, 1)
	go func() { done <- db.CreateProducts(ctx, batch) }()

	// Commit the other product once the batch waits for it.
	for deadline := time.Now().Add(DefaultLockTimeout / 2); ; {
		var waiting int
		err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.application_name = $1`, app).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch did not wait for the other writer's product")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	err = <-done
	var clash *catalog.ProductClashError
	if !errors.As(err, &clash) || *clash != (catalog.ProductClashError{Field: "sku", Value: "SKU-CLASH"}) {
		t.Errorf("CreateProducts: got %v, want a clash on sku SKU-CLASH", err)
	}
	n, err := db.CountProducts(ctx, catalog.Query{}, 0)
	if err != nil || n != 1 {
		t.Errorf("products after the refused batch: got %d, %v; want 1", n, err)
	}
}
